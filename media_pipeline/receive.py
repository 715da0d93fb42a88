"""One upload chunk from the request body into the part file, hashed on the way.

The hot loop of a local-storage upload, measured with bench/upload.py:

- Under gunicorn (the web container's server) the bytes come straight from the
  client's socket. gunicorn's own body reader passes every block through several
  in-memory buffers; what it has already read ahead is taken over first, and its
  count of the body's remaining bytes is kept in step, so keep-alive and the next
  request on the connection work as before.
- On Linux the socket's bytes are spliced into the file inside the kernel (the way
  `cp` copies), and a second thread hashes what has landed, straight from the page
  cache, while the next block arrives: on this machine class copying through a
  Python buffer cost more than receiving and hashing together.
- Anywhere else (runserver, Django's test client, another WSGI server) the WSGI
  stream is read into one reused buffer, hashed and written, block by block.

A client that goes away, or sends nothing for KADR_UPLOAD_IDLE_TIMEOUT seconds,
ends the chunk early and keeps what arrived. A failing disk raises DiskError.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import queue
import select
import ssl
import sys
import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest, UnreadablePostError

BLOCK = 4 * 1024 * 1024  # the copying loop's buffer, and the hashing thread's regions
SPLICE_STEP = 1024 * 1024  # the pipe's size: what one splice moves at most
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


class DiskError(Exception):
    """Writing to the part file failed (the disk, not the client)."""


def body_of(request: HttpRequest, length: int) -> Any:
    """The fastest honest reader for this request's `length` body bytes."""
    return _gunicorn_body(request.META, length) or StreamBody(request)


def receive(fd: int, body: Any, length: int, digest: Any) -> int:
    """Write up to `length` body bytes at fd's position, updating digest; returns the count."""
    if isinstance(body, GunicornBody) and body.can_splice():
        ahead = body.take_ahead(length)
        _write(fd, ahead, digest)
        return len(ahead) + _splice(fd, body, length - len(ahead), digest)
    return _copy(fd, body, length, digest)


# --- readers ----------------------------------------------------------------------------


class StreamBody:
    """Any WSGI server: request.read() in pieces, copied into the caller's buffer."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def readinto(self, view: memoryview, /) -> int:
        filled = 0
        while filled < len(view):
            try:
                data = self.request.read(len(view) - filled)
            except (OSError, UnreadablePostError):
                break  # the client went away; keep what arrived
            if not data:
                break
            view[filled : filled + len(data)] = data
            filled += len(data)
        return filled


class GunicornBody:
    """gunicorn's read-ahead first, then the client's socket itself."""

    def __init__(self, body: Any, sock: Any) -> None:
        self.body = body  # gunicorn.http.body.Body
        self.counter = body.reader  # its LengthReader: .length is what remains
        self.sock = sock
        self.idle_timeout = float(settings.KADR_UPLOAD_IDLE_TIMEOUT)
        self.ahead: memoryview | None = None  # taken from gunicorn on first read

    def can_splice(self) -> bool:
        # A TLS socket's descriptor carries ciphertext: only its recv_into decrypts.
        return (
            hasattr(os, "splice")
            and not isinstance(self.sock, ssl.SSLSocket)
            and self.sock.gettimeout() is None
        )

    def take_ahead(self, limit: int) -> memoryview:
        """Up to `limit` bytes of what gunicorn read past the headers (then nothing)."""
        if self.ahead is None:
            unreader = self.counter.unreader
            ahead = unreader.take_buffered()
            mine = ahead[: self.counter.length]
            if len(ahead) > len(mine):
                unreader.unread(ahead[len(mine) :])  # the next request's first bytes
            self.ahead = memoryview(mine)
        taken, self.ahead = self.ahead[:limit], self.ahead[limit:]
        self.counter.length -= len(taken)
        return taken

    def consumed(self, count: int) -> None:
        self.counter.length -= count

    def broken(self) -> None:
        """Where the next request starts is unknown now: gunicorn closes the connection."""
        self.body.failed = True

    def readinto(self, view: memoryview, /) -> int:
        taken = self.take_ahead(len(view))
        view[: len(taken)] = taken
        filled = len(taken)
        previous = self.sock.gettimeout()
        self.sock.settimeout(self.idle_timeout)
        try:
            while filled < len(view) and self.counter.length > 0:
                want = min(len(view) - filled, self.counter.length)
                try:
                    got = self.sock.recv_into(view[filled : filled + want])
                except OSError:  # reset, or silent for the idle timeout
                    self.broken()
                    break
                if not got:
                    break  # the client hung up
                filled += got
                self.consumed(got)
        finally:
            self.sock.settimeout(previous)
        return filled


def _gunicorn_body(environ: dict[str, Any], length: int) -> GunicornBody | None:
    """Only a gunicorn body of known length that nothing has read from yet."""
    gunicorn_body = sys.modules.get("gunicorn.http.body")
    body = environ.get("wsgi.input")
    sock = environ.get("gunicorn.socket")
    if gunicorn_body is None or sock is None or not isinstance(body, gunicorn_body.Body):
        return None
    counter = body.reader
    if not isinstance(counter, gunicorn_body.LengthReader):
        return None  # chunked transfer encoding: gunicorn must decode it
    if body.buf.tell() or counter.length != length:
        return None  # something read part of the body already
    return GunicornBody(body, sock)


# --- the two loops ----------------------------------------------------------------------


def _write(fd: int, data: memoryview, digest: Any) -> None:
    if digest is not None:
        digest.update(data)
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError as exc:
        raise DiskError(str(exc)) from exc


def _copy(fd: int, body: Any, length: int, digest: Any) -> int:
    """Through one reused buffer: receive a block, hash it, write it."""
    buffer = memoryview(bytearray(min(BLOCK, length)))
    received = 0
    while received < length:
        view = buffer[: min(len(buffer), length - received)]
        got = body.readinto(view)
        _write(fd, view[:got], digest)
        received += got
        if got < len(view):
            break  # the client went away; keep what arrived
    return received


def _splice(fd: int, body: GunicornBody, length: int, digest: Any) -> int:
    """Socket → pipe → file inside the kernel; a second thread hashes each landed block."""
    if length <= 0:
        return 0
    pipe_out, pipe_in = os.pipe()
    hasher = _Hasher(fd, digest) if digest is not None else None
    poller = select.poll()
    poller.register(body.sock.fileno(), select.POLLIN)
    received = 0
    block_start, block_size = os.lseek(fd, 0, os.SEEK_CUR), 0
    try:
        try:
            fcntl.fcntl(pipe_in, F_SETPIPE_SZ, SPLICE_STEP)
        except OSError:
            pass  # a smaller pipe only means more calls
        while received < length:
            try:
                if not poller.poll(body.idle_timeout * 1000):
                    body.broken()  # silent for too long: a phone that lost its signal
                    break
                got = os.splice(body.sock.fileno(), pipe_in, min(SPLICE_STEP, length - received))
            except OSError:
                body.broken()  # connection reset
                break
            if not got:
                break  # the client hung up
            body.consumed(got)
            try:
                moved = 0
                while moved < got:
                    moved += os.splice(pipe_out, fd, got - moved)
            except OSError as exc:
                body.broken()
                raise DiskError(str(exc)) from exc
            received += got
            block_size += got
            if hasher is not None and block_size >= BLOCK:
                hasher.add(block_start, block_size)
                block_start, block_size = block_start + block_size, 0
    finally:
        os.close(pipe_out)
        os.close(pipe_in)
        if hasher is not None:
            if block_size:
                hasher.add(block_start, block_size)
            hasher.finish()
    return received


class _Hasher(threading.Thread):
    """Hashes file regions, in order, straight from the page cache (mmap: no copy)."""

    def __init__(self, fd: int, digest: Any) -> None:
        super().__init__(name="upload-hasher", daemon=True)
        self.fd, self.digest = fd, digest
        self.regions: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.start()

    def add(self, start: int, size: int) -> None:
        self.regions.put((start, size))

    def finish(self) -> None:
        self.regions.put(None)
        self.join()
        if self.error is not None:
            raise DiskError(f"hashing the part file failed: {self.error}") from self.error

    def run(self) -> None:
        while (region := self.regions.get()) is not None:
            if self.error is not None:
                continue  # drain; finish() reports the first error
            start, size = region
            aligned = start - start % mmap.ALLOCATIONGRANULARITY
            try:
                with (
                    mmap.mmap(
                        self.fd,
                        start + size - aligned,
                        flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0),
                        prot=mmap.PROT_READ,
                        offset=aligned,
                    ) as mapped,
                    memoryview(mapped) as view,
                ):
                    self.digest.update(view[start - aligned :])
            except (OSError, ValueError) as exc:
                self.error = exc
