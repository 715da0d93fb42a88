"""Upload benchmark: a large generated file through the resumable local-storage path.

Starts gunicorn (config/gunicorn.py, one worker) on 127.0.0.1 with a throwaway SQLite database and media folder,
uploads the file in chunks over real HTTP (POST media/uploads/, then PATCH after
PATCH), checks the stored file's sha256, and prints

    server peak RSS: N MB          (target <= 150 MB)
    upload/cp throughput: X        (target >= 0.5; cp of the same file in the same run)

Usage: .venv/bin/python bench/upload.py [--size 2G] [--chunk 8M]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    text = text.strip().upper()
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate(path: Path, size: int) -> str:
    """Incompressible bytes, written in blocks; returns their sha256."""
    digest = hashlib.sha256()
    block = os.urandom(8 * 1024 * 1024)
    with path.open("wb") as fh:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            # Vary each block cheaply so the file is not one block repeated.
            piece = written.to_bytes(8, "little") + piece[8:]
            fh.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def peak_rss_kb(pid: int) -> int:
    """The highest VmHWM among the server process and its children."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    peak = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2G", help="file size, e.g. 2G, 300M (default 2G)")
    parser.add_argument("--chunk", default="8M", help="chunk size per PATCH (default 8M)")
    args = parser.parse_args()
    size, chunk = parse_size(args.size), parse_size(args.chunk)

    work = Path(tempfile.mkdtemp(prefix="kadr-bench-upload-"))
    env = {
        **os.environ,
        "KADR_VAR_DIR": str(work / "var"),
        "DEBUG": "1",
        "KADR_STORAGE": "local",
        "KADR_MAX_UPLOAD_BYTES": str(max(size * 2, 1024**3)),
        "KADR_UPLOAD_CHUNK_SIZE": str(chunk),
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    server = None
    try:
        # The filesystem broker's folders, so that queueing the asset's preview is quick.
        for folder in ("queue", "processed"):
            (work / "var" / "celery" / folder).mkdir(parents=True, exist_ok=True)
        manage = [PY, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        token = (
            subprocess.run(
                [*manage, "shell", "-c", BENCH_USER],
                env=env,
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

        source = work / "source.bin"
        print(f"generating {size / 1024**2:.0f} MB …", flush=True)
        source_sha = generate(source, size)

        # Baseline: cp of the same file onto the same filesystem.
        copy = work / "copy.bin"
        started = time.perf_counter()
        subprocess.run(["cp", str(source), str(copy)], check=True)
        cp_seconds = time.perf_counter() - started
        copy.unlink()

        port = free_port()
        gunicorn = Path(PY).with_name("gunicorn")
        server = subprocess.Popen(
            # The production settings (config/gunicorn.py: gthread), one worker, on loopback.
            [str(gunicorn), "-c", "python:config.gunicorn", "config.wsgi",
             "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
             "--log-level", "warning"],
            env={**env, "WEB_CONCURRENCY": "1", "GUNICORN_TIMEOUT": "300"},
            cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip
        wait_for(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        headers = {"Authorization": f"Token {token}"}

        # Warm the worker up (imports, URL resolver) so the timing is the upload's own.
        warm = json.dumps({"filename": "warm-up", "size": 1, "purpose": "footage"})
        conn.request("POST", "/api/v1/media/uploads/", warm, {**headers, "Content-Type": "application/json"})  # fmt: skip
        warm_id = json.loads(conn.getresponse().read())["id"]
        conn.request("DELETE", f"/api/v1/media/uploads/{warm_id}/", headers=headers)
        conn.getresponse().read()
        started = time.perf_counter()
        body = json.dumps({"filename": "bench.bin", "size": size, "purpose": "footage"})
        conn.request("POST", "/api/v1/media/uploads/", body, {**headers, "Content-Type": "application/json"})  # fmt: skip
        response = conn.getresponse()
        created = json.loads(response.read())
        assert response.status == 201, created
        url = f"/api/v1/media/uploads/{created['id']}/"
        offset = 0
        with source.open("rb") as fh:
            while offset < size:
                t0 = time.perf_counter()
                data = fh.read(chunk)
                t1 = time.perf_counter()
                conn.request(
                    "PATCH",
                    url,
                    data,
                    {**headers, "Upload-Offset": str(offset),
                     "Content-Type": "application/offset+octet-stream"},
                )  # fmt: skip
                response = conn.getresponse()
                state = json.loads(response.read())
                assert response.status == 200, state
                offset = state["offset"]
                if os.environ.get("BENCH_VERBOSE"):
                    print(f"read {t1 - t0:.3f} s, PATCH {time.perf_counter() - t1:.3f} s")
        upload_seconds = time.perf_counter() - started
        assert state["status"] == "complete", state
        rss_mb = peak_rss_kb(server.pid) / 1024

        stored = work / "var" / "media" / "media" / state["asset"] / "original"
        stored_sha = hashlib.sha256()
        with stored.open("rb") as fh:
            while block := fh.read(8 * 1024 * 1024):
                stored_sha.update(block)
        assert stored_sha.hexdigest() == source_sha, "stored file differs from the source"

        mb = size / 1024**2
        print(f"file: {mb:.0f} MB in {chunk / 1024**2:.0f} MB chunks; sha256 verified")
        print(f"cp: {cp_seconds:.2f} s ({mb / cp_seconds:.0f} MB/s)")
        print(f"upload: {upload_seconds:.2f} s ({mb / upload_seconds:.0f} MB/s)")
        print(f"server peak RSS: {rss_mb:.0f} MB (target <= 150)")
        print(f"upload/cp throughput: {cp_seconds / upload_seconds:.2f} (target >= 0.5)")
        return 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


BENCH_USER = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from crew import demo
demo.ensure_roles()
user, _ = User.objects.get_or_create(username="bench")
user.groups.add(*__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.filter(name="crew"))
print(Token.objects.get_or_create(user=user)[0].key)
"""

if __name__ == "__main__":
    raise SystemExit(main())
