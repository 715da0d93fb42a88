"""A resumable upload through the production web server: gunicorn with config/gunicorn.py,
its own SQLite database and media folder, real sockets on 127.0.0.1. Chunks arrive with
their headers in one packet (so gunicorn reads part of the body ahead), share one
keep-alive connection with the next request, and one is cut off mid-way."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ROOT, VENV_BIN, kadr_env, manage

URL = "/api/v1/media/uploads/"

MAKE_TOKEN = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from crew import demo
demo.ensure_roles()
user = User.objects.create(username="operator")
user.groups.add(Group.objects.get(name="crew"))
print(Token.objects.create(user=user).key)
"""


class Server:
    def __init__(self, port: int, token: str, var_dir: Path) -> None:
        self.port, self.token, self.var_dir = port, token, var_dir

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def call(self, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Authorization": f"Token {self.token}", **headers}
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else {}
        finally:
            conn.close()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Server]:
    var_dir = tmp_path_factory.mktemp("gunicorn") / "var"
    env = kadr_env(var_dir, DEBUG="1", KADR_UPLOAD_CHUNK_SIZE=str(1024 * 1024), LOG_LEVEL="WARNING")
    # Queueing the clip's processing at completion needs the broker's folders.
    for folder in ("queue", "processed"):
        (var_dir / "celery" / folder).mkdir(parents=True, exist_ok=True)

    manage(env, "migrate", "--noinput", "-v", "0")
    token = manage(env, "shell", "-c", MAKE_TOKEN).strip().splitlines()[-1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (var_dir / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "python:config.gunicorn", "config.wsgi",
         "-b", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail((var_dir / "gunicorn.log").read_text()[-3000:])
                time.sleep(0.2)
        yield Server(port, token, var_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def patch_bytes(server: Server, upload_id: str, offset: int, body: bytes, announced: int) -> bytes:
    return (
        f"PATCH {URL}{upload_id}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {server.token}\r\nUpload-Offset: {offset}\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {announced}\r\n\r\n"
    ).encode() + body


def read_response(sock: socket.socket, method: str = "GET") -> tuple[int, dict]:
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    payload = response.read()
    return response.status, json.loads(payload) if payload else {}


@pytest.mark.slow
def test_it_resumes_an_upload_through_gunicorn_over_keep_alive_and_a_dropped_chunk(gunicorn):
    data = os.urandom(3 * 1024 * 1024 + 12345)
    status, upload = gunicorn.call(
        "POST",
        URL,
        json.dumps({"filename": "card.mp4", "size": len(data), "purpose": "footage"}).encode(),
        **{"Content-Type": "application/json"},
    )
    assert status == 201, upload
    first = 1024 * 1024 + 7

    with gunicorn.connect() as sock:
        # Headers and body in one send: gunicorn reads part of the body with the headers.
        sock.sendall(patch_bytes(gunicorn, upload["id"], 0, data[:first], first))
        status, state = read_response(sock, "PATCH")
        assert (status, state["offset"]) == (200, first), state
        # The same connection carries the next request: gunicorn's count was kept.
        sock.sendall(
            f"GET {URL}{upload['id']}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {gunicorn.token}\r\n\r\n".encode()
        )
        status, state = read_response(sock)
        assert (status, state["offset"]) == (200, first)

    # A chunk cut off mid-way: 200 000 of the announced megabyte arrive, then the line drops.
    with gunicorn.connect() as sock:
        sock.sendall(
            patch_bytes(gunicorn, upload["id"], first, data[first : first + 200_000], 2**20)
        )
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass

    status, state = gunicorn.call("GET", f"{URL}{upload['id']}/")
    offset = state["offset"]
    assert offset == first + 200_000 and state["status"] == "active"
    while offset < len(data):
        piece = data[offset : offset + 1024 * 1024]
        status, state = gunicorn.call(
            "PATCH",
            f"{URL}{upload['id']}/",
            piece,
            **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
        )
        assert status == 200, state
        offset = state["offset"]

    assert state["status"] == "complete"
    stored = gunicorn.var_dir / "media" / "media" / state["asset"] / "original"
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(data).digest()
    status, media = gunicorn.call("GET", f"/api/v1/media/{state['asset']}/")
    assert status == 200 and media["sha256"] == hashlib.sha256(data).hexdigest(), media
