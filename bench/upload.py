"""Upload benchmark: a large generated file through the resumable local-storage path.

Starts gunicorn (config/gunicorn.py, one worker) on 127.0.0.1 with a throwaway SQLite
database and media folder, then runs several rounds. Each round times two steps on the
same generated file:

  cp      a copy of the file to a new file in the same folder (deleted afterwards)
  upload  a new upload of the file over real HTTP (POST media/uploads/, then PATCH after
          PATCH), which makes a new asset; the stored original is checked against the
          file's sha256 and then deleted so that disk use stays bounded

The disk of the development VM is noisy: how fast a step writes depends on how many dirty
pages the previous step left to be written back. So before every timed step the
benchmark flushes everything to disk (os.sync) and waits a short settle time, outside
the timed interval, and every step starts from the same state. The order of the two
steps alternates from round to round (cp first, then upload first, ...) so that neither
always goes first, and a first round is run and not counted (the first writes after
the file's generation touch memory nothing has used yet, which costs more on a VM). It
prints each round's figures, then

    server peak RSS: N MB              (target <= 150 MB; over the whole run)
    upload/cp throughput: X            (target >= 0.5; median of the per-round ratios)
    server CPU per GB uploaded: S s    (informative: gunicorn master and worker, median;
                                        with the benchmark client's own CPU per GB)

Usage: .venv/bin/python bench/upload.py [--size 2G] [--chunk 8M] [--rounds 5]
(--chunk defaults to the chunk size the server tells clients, KADR_UPLOAD_CHUNK_SIZE.)
The client sends each chunk with sendfile(2): it shares this machine's cores with the
server, where in use it is another machine. BENCH_VERBOSE=1 prints each PATCH's time.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Seconds to wait after os.sync() before each timed step, for the disk to go quiet.
SETTLE_SECONDS = 2.0
MB = 1024**2
GB = 1024**3


@dataclass
class Server:
    """The running gunicorn master and how to reach the API."""

    process: subprocess.Popen[bytes]
    port: int
    token: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        conn.connect()
        return conn

    def headers(self, **extra: str) -> dict[str, str]:
        # As behind the TLS proxy of docker-compose.yml (production settings: DEBUG off).
        return {"Authorization": f"Token {self.token}", "X-Forwarded-Proto": "https", **extra}


@dataclass
class UploadRun:
    seconds: float
    asset: str
    server_cpu: float  # CPU seconds of the gunicorn master and its worker
    client_cpu: float  # CPU seconds of this process
    chunk: int  # bytes per PATCH


@dataclass
class Round:
    cp_seconds: float
    upload: UploadRun

    def ratio(self) -> float:
        """Upload throughput as a fraction of cp's (same bytes, so a ratio of times)."""
        return self.cp_seconds / self.upload.seconds


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": MB, "G": GB}
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
    block = os.urandom(8 * MB)
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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 * MB):
            digest.update(block)
    return digest.hexdigest()


def server_pids(pid: int) -> list[int]:
    """The gunicorn master and its children (the worker)."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    return pids


def peak_rss_kb(pid: int) -> int:
    """The highest VmHWM among the server process and its children."""
    peak = 0
    for p in server_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of the server process and its children."""
    ticks = 0
    for p in server_pids(pid):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which is in parentheses and may hold spaces:
        # the 3rd field (state) comes first, so utime (14th) and stime (15th) are 11 and 12.
        fields = stat.rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def settle() -> None:
    """Write back every dirty page and let the disk go quiet, so that each timed step
    starts from the same state (not part of the timed interval)."""
    os.sync()
    time.sleep(SETTLE_SECONDS)


def time_cp(source: Path) -> float:
    """Seconds for cp of the source to a new file in the same folder; the copy is deleted."""
    copy = source.with_name("copy.bin")
    settle()
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(copy)], check=True)
    seconds = time.perf_counter() - started
    copy.unlink()
    return seconds


def start_server(env: dict[str, str], token: str) -> Server:
    port = free_port()
    gunicorn = Path(PY).with_name("gunicorn")
    process = subprocess.Popen(
        # The production settings (config/gunicorn.py: gthread), one worker, on loopback.
        [str(gunicorn), "-c", "python:config.gunicorn", "config.wsgi",
         "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
         "--log-level", "warning"],
        env={**env, "WEB_CONCURRENCY": "1", "GUNICORN_TIMEOUT": "300"},
        cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    server = Server(process=process, port=port, token=token)
    try:
        wait_for(port)
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: Server) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.process.wait(timeout=30)


def warm_up(server: Server) -> None:
    """Imports, URL resolver: so that the timing is the upload's own."""
    conn = server.connect()
    body = json.dumps({"filename": "warm-up", "size": 1, "purpose": "footage"})
    conn.request("POST", "/api/v1/media/uploads/", body, server.headers(**{"Content-Type": "application/json"}))  # fmt: skip
    warm_id = json.loads(conn.getresponse().read())["id"]
    conn.request("DELETE", f"/api/v1/media/uploads/{warm_id}/", headers=server.headers())
    conn.getresponse().read()
    conn.close()


def send_chunk(
    sock: socket.socket, server: Server, url: str, fh: BinaryIO, offset: int, length: int
) -> tuple[http.client.HTTPResponse, dict[str, Any]]:
    """One PATCH whose body goes from the page cache with sendfile(2): the client shares
    this machine's two cores with the server, where in use it is another machine, so it
    should take as little of them as it can."""
    head = [f"PATCH {url} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}"]
    head += [f"{name}: {value}" for name, value in server.headers(**{
        "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}).items()]  # fmt: skip
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sock.sendfile(fh, offset, length)
    response = http.client.HTTPResponse(sock, method="PATCH")
    response.begin()
    return response, json.loads(response.read())


def time_upload(server: Server, source: Path, size: int, chunk: int) -> UploadRun:
    """A new upload of the source through the API, from POST to the last PATCH."""
    verbose = bool(os.environ.get("BENCH_VERBOSE"))
    settle()
    # A fresh connection: the previous one may have outlived the server's keep-alive.
    conn = server.connect()
    server_cpu, client_cpu = server_cpu_seconds(server.pid), client_cpu_seconds()
    started = time.perf_counter()
    body = json.dumps({"filename": "bench.bin", "size": size, "purpose": "footage"})
    conn.request("POST", "/api/v1/media/uploads/", body, server.headers(**{"Content-Type": "application/json"}))  # fmt: skip
    response = conn.getresponse()
    state = json.loads(response.read())
    assert response.status == 201, state
    url = f"/api/v1/media/uploads/{state['id']}/"
    chunk = chunk or int(state["chunk_size"])
    offset = 0
    assert conn.sock is not None
    with source.open("rb") as fh:
        while offset < size:
            t0 = time.perf_counter()
            response, state = send_chunk(
                conn.sock, server, url, fh, offset, min(chunk, size - offset)
            )
            assert response.status == 200, state
            offset = state["offset"]
            if verbose:
                print(f"PATCH {time.perf_counter() - t0:.3f} s")
    seconds = time.perf_counter() - started
    run = UploadRun(
        seconds=seconds,
        asset=state["asset"],
        server_cpu=server_cpu_seconds(server.pid) - server_cpu,
        client_cpu=client_cpu_seconds() - client_cpu,
        chunk=chunk,
    )
    conn.close()
    assert state["status"] == "complete", state
    return run


def verify_and_remove(stored: Path, expected_sha: str) -> None:
    """The stored original must have the source's bytes; then it goes (disk use)."""
    assert sha256_of(stored) == expected_sha, f"{stored} differs from the source"
    stored.unlink()


def run_round(
    index: int, server: Server, source: Path, source_sha: str, media: Path, chunk: int
) -> Round:
    """One cp and one upload; odd rounds (1, 3, …) cp first, even rounds (0, 2, …) upload
    first."""
    size = source.stat().st_size
    cp_first = index % 2 == 1
    cp_seconds = time_cp(source) if cp_first else 0.0
    upload = time_upload(server, source, size, chunk)
    verify_and_remove(media / upload.asset / "original", source_sha)
    if not cp_first:
        cp_seconds = time_cp(source)
    return Round(cp_seconds=cp_seconds, upload=upload)


def report_round(index: int, result: Round, size: int) -> None:
    order = "cp, upload" if index % 2 == 1 else "upload, cp"
    mb, gb = size / MB, size / GB
    print(
        f"round {index} ({order}): cp {mb / result.cp_seconds:.0f} MB/s, "
        f"upload {mb / result.upload.seconds:.0f} MB/s, ratio {result.ratio():.2f}; "
        f"server CPU {result.upload.server_cpu / gb:.1f} s/GB "
        f"(client {result.upload.client_cpu / gb:.1f} s/GB)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2G", help="file size, e.g. 2G, 300M (default 2G)")
    parser.add_argument(
        "--chunk", default="", help="chunk size per PATCH (default: the server's, as browsers use)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of cp + upload (default 5)")
    args = parser.parse_args()
    size, rounds = parse_size(args.size), args.rounds
    chunk = parse_size(args.chunk) if args.chunk else 0
    if rounds < 1:
        parser.error("--rounds must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="kadr-bench-upload-"))
    env = {
        **os.environ,
        "KADR_VAR_DIR": str(work / "var"),
        "DEBUG": "0",
        "SECRET_KEY": "kadr-bench-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(work / "static"),
        "KADR_STORAGE": "local",
        "KADR_MAX_UPLOAD_BYTES": str(max(size * 2, 1024**3)),
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.pop("KADR_UPLOAD_CHUNK_SIZE", None)
    if chunk:
        env["KADR_UPLOAD_CHUNK_SIZE"] = str(chunk)
    server = None
    try:
        # The filesystem broker's folders, so that queueing the asset's preview is quick.
        for folder in ("queue", "processed"):
            (work / "var" / "celery" / folder).mkdir(parents=True, exist_ok=True)
        (work / "static").mkdir()
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
        print(f"generating {size / MB:.0f} MB …", flush=True)
        source_sha = generate(source, size)

        server = start_server(env, token)
        warm_up(server)
        media = work / "var" / "media" / "media"
        # A round that does not count: the first writes after the file's generation
        # touch memory nothing has used yet, which costs more on a VM, and whichever
        # step went first would pay it.
        run_round(0, server, source, source_sha, media, chunk)
        results: list[Round] = []
        rss_kb = 0
        for index in range(1, rounds + 1):
            result = run_round(index, server, source, source_sha, media, chunk)
            rss_kb = max(rss_kb, peak_rss_kb(server.pid))
            report_round(index, result, size)
            results.append(result)

        gb = size / GB
        ratio = statistics.median(r.ratio() for r in results)
        server_cpu = statistics.median(r.upload.server_cpu / gb for r in results)
        client_cpu = statistics.median(r.upload.client_cpu / gb for r in results)
        print(
            f"file: {size / MB:.0f} MB in {results[0].upload.chunk / MB:.0f} MB chunks; sha256 verified every round; "
            f"os.sync() + {SETTLE_SECONDS:.0f} s settle before each step"
        )
        print(f"server peak RSS: {rss_kb / 1024:.0f} MB (target <= 150)")
        print(f"upload/cp throughput: {ratio:.2f} (median of {rounds} rounds; target >= 0.5)")
        print(
            f"server CPU per GB uploaded: {server_cpu:.1f} s "
            f"(client {client_cpu:.1f} s; medians of {rounds} rounds)"
        )
        return 0
    finally:
        if server is not None:
            stop_server(server)
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
