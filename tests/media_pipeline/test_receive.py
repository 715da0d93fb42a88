"""A chunk from the request body into the part file: gunicorn's socket (spliced, or
through a buffer), its read-ahead, keep-alive, clients that hang up or go silent, and
any other WSGI server. gunicorn's own parser runs on a socket pair, in process."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from media_pipeline import receive


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    yield client, server
    client.close()
    server.close()


@pytest.fixture(params=["splice", "buffer"])
def path_taken(request, monkeypatch) -> str:
    """Both ways of reading gunicorn's socket: spliced in the kernel, or a Python buffer."""
    if request.param == "buffer":
        monkeypatch.setattr(receive.GunicornBody, "can_splice", lambda self: False)
    else:
        assert hasattr(os, "splice"), "Linux runs the splice path"
    return request.param


def patch_request(body: bytes, *, announced: int | None = None) -> bytes:
    length = len(body) if announced is None else announced
    return (
        b"PATCH /api/v1/media/uploads/1/ HTTP/1.1\r\nHost: kadr\r\n"
        b"Content-Type: application/offset+octet-stream\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
        + body
    )


def gunicorn_request(server: socket.socket) -> tuple[RequestParser, HttpRequest]:
    """What Django sees under gunicorn: the environ's wsgi.input and gunicorn.socket."""
    parser = RequestParser(Config(), server, ("127.0.0.1", 1))
    message = next(parser)
    request = HttpRequest()
    request.META = {"wsgi.input": message.body, "gunicorn.socket": server}
    return parser, request


def write_to(tmp_path: Path, request: HttpRequest, length: int) -> tuple[int, bytes, str]:
    running = receive.RunningHash()
    target = tmp_path / "chunk.part"
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        count = receive.receive(fd, receive.body_of(request, length), length, running)
    finally:
        os.close(fd)
    return count, target.read_bytes(), running.hexdigest()


def test_it_takes_gunicorns_read_ahead_and_leaves_the_next_request_intact(
    pair, tmp_path, path_taken
):
    client, server = pair
    data = os.urandom(9 * 1024 * 1024 + 77)  # more than one block, not a multiple
    follow_up = b"GET /healthz HTTP/1.1\r\nHost: kadr\r\n\r\n"
    sender = threading.Thread(target=client.sendall, args=(patch_request(data) + follow_up,))
    sender.start()
    parser, request = gunicorn_request(server)
    assert isinstance(receive.body_of(request, len(data)), receive.GunicornBody)

    count, stored, sha = write_to(tmp_path, request, len(data))
    sender.join()

    assert count == len(data) and stored == data
    assert sha == hashlib.sha256(data).hexdigest()
    # gunicorn knows the body was read: the same connection carries the next request.
    server.settimeout(5)  # a miscount would wait for bytes that never come
    assert request.META["wsgi.input"].read() == b""
    following = next(parser)
    assert (following.method, following.path) == ("GET", "/healthz")


def test_it_keeps_what_arrived_when_the_client_hangs_up(pair, tmp_path, path_taken):
    client, server = pair
    data = os.urandom(300_000)
    client.sendall(patch_request(data[:120_000], announced=len(data)))
    client.shutdown(socket.SHUT_WR)  # a phone losing its signal, politely
    _, request = gunicorn_request(server)

    count, stored, sha = write_to(tmp_path, request, len(data))

    assert count == 120_000 and stored == data[:120_000]
    assert sha == hashlib.sha256(data[:120_000]).hexdigest()


def test_it_ends_a_chunk_whose_client_goes_silent(pair, tmp_path, settings, path_taken):
    settings.KADR_UPLOAD_IDLE_TIMEOUT = 1
    client, server = pair
    data = os.urandom(200_000)
    client.sendall(patch_request(data[:50_000], announced=len(data)))
    _, request = gunicorn_request(server)

    started = time.monotonic()
    count, stored, _ = write_to(tmp_path, request, len(data))

    assert count == 50_000 and stored == data[:50_000]
    assert time.monotonic() - started < 30
    # The rest of the body may still come: the connection must not be reused.
    assert request.META["wsgi.input"].failed is True


def test_it_reports_a_failing_disk_as_a_disk_error(pair, tmp_path, path_taken):
    client, server = pair
    data = os.urandom(100_000)
    client.sendall(patch_request(data))
    _, request = gunicorn_request(server)
    read_only = tmp_path / "read-only.part"
    read_only.write_bytes(b"")
    fd = os.open(read_only, os.O_RDONLY)
    try:
        with pytest.raises(receive.DiskError):
            receive.receive(fd, receive.body_of(request, len(data)), len(data), None)
    finally:
        os.close(fd)


def test_it_reads_any_other_wsgi_servers_stream(tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 3)
    request = RequestFactory().generic(
        "PATCH", "/", data, content_type="application/offset+octet-stream"
    )
    assert isinstance(receive.body_of(request, len(data)), receive.StreamBody)

    count, stored, sha = write_to(tmp_path, request, len(data))

    assert count == len(data) and stored == data
    assert sha == hashlib.sha256(data).hexdigest()


def test_it_never_splices_a_tls_socket(pair):
    """gunicorn with a certificate hands over an SSLSocket: its descriptor carries
    ciphertext, so the bytes must come through recv_into, which decrypts."""
    client, server = pair
    client.sendall(patch_request(b"0123456789"))
    _, request = gunicorn_request(server)
    tls = ssl.create_default_context().wrap_socket(
        socket.socket(), server_hostname="kadr", do_handshake_on_connect=False
    )
    try:
        request.META["gunicorn.socket"] = tls
        body = receive.body_of(request, 10)
        assert isinstance(body, receive.GunicornBody) and not body.can_splice()
    finally:
        tls.close()


def test_it_leaves_a_body_something_already_read_to_the_wsgi_stream(pair):
    client, server = pair
    client.sendall(patch_request(b"0123456789"))
    _, request = gunicorn_request(server)
    request.META["wsgi.input"].read(4)
    assert isinstance(receive.body_of(request, 10), receive.StreamBody)


# --- the running hash: off the request thread, across chunks ----------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def stream_request(data: bytes) -> HttpRequest:
    return RequestFactory().generic(
        "PATCH", "/", data, content_type="application/offset+octet-stream"
    )


def receive_chunk(path: Path, offset: int, data: bytes, running: receive.RunningHash) -> int:
    """One chunk through its own descriptor, closed as soon as the chunk is written."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        return receive.receive(
            fd, receive.body_of(stream_request(data), len(data)), len(data), running
        )
    finally:
        os.close(fd)


def test_a_chunks_answer_does_not_wait_for_its_hash(tmp_path, gate):
    data = os.urandom(9 * 1024 * 1024)
    running = receive.RunningHash()

    assert receive_chunk(tmp_path / "a.part", 0, data, running) == len(data)

    assert not gate.is_set() and running.covered == len(data)
    gate.set()
    assert running.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_running_hash_goes_on_across_chunks_and_closes_what_it_opened(tmp_path):
    data = os.urandom(7 * 1024 * 1024 + 5)
    path = tmp_path / "a.part"
    before = open_fds()
    running = receive.RunningHash()
    for start in range(0, len(data), 3 * 1024 * 1024):
        receive_chunk(path, start, data[start : start + 3 * 1024 * 1024], running)

    assert running.hexdigest() == hashlib.sha256(data).hexdigest()
    assert open_fds() == before


def test_a_region_the_file_no_longer_holds_is_reported_not_read(tmp_path, gate):
    """A file cut short under the queue is an error to report (then a re-read), not a crash."""
    path = tmp_path / "a.part"
    running = receive.RunningHash()
    receive_chunk(path, 0, os.urandom(5 * 1024 * 1024), running)
    os.truncate(path, 1024)
    gate.set()

    with pytest.raises(receive.DiskError):
        running.hexdigest()


def test_cancelling_drops_the_queue_and_closes_its_descriptors(tmp_path, gate):
    before = open_fds()
    running = receive.RunningHash()
    for start in (0, 4 * 1024 * 1024):
        receive_chunk(tmp_path / "a.part", start, os.urandom(4 * 1024 * 1024), running)
    assert open_fds() > before  # the queue holds the chunks' descriptors
    cancelling = threading.Thread(target=running.cancel)
    cancelling.start()
    gate.set()
    cancelling.join(30)

    assert not cancelling.is_alive() and open_fds() == before
    with pytest.raises(receive.DiskError):
        running.hexdigest()


def test_a_receiver_faster_than_hashing_waits_for_it(tmp_path, gate, monkeypatch):
    monkeypatch.setattr(receive.RunningHash, "MAX_PENDING", 4 * 1024 * 1024)
    running = receive.RunningHash()
    data = os.urandom(16 * 1024 * 1024)
    receiving = threading.Thread(target=receive_chunk, args=(tmp_path / "a.part", 0, data, running))
    receiving.start()
    receiving.join(1)
    assert receiving.is_alive()  # held back: the queue is full
    gate.set()
    receiving.join(30)
    assert running.hexdigest() == hashlib.sha256(data).hexdigest()
