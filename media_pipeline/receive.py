"""One upload chunk from the request body into the part file, hashed on the way.

The hot loop of a local-storage upload, measured with bench/upload.py:

- Under gunicorn (the web container's server) the bytes come straight from the
  client's socket. gunicorn's own body reader passes every block through several
  in-memory buffers; what it has already read ahead is taken over first, and its
  count of the body's remaining bytes is kept in step, so keep-alive and the next
  request on the connection work as before.
- On Linux the socket's bytes are spliced into the file inside the kernel (the way
  `cp` copies), and a second thread hashes what has landed, straight from the page
  cache, while the next block arrives (RunningHash): on this machine class copying
  through a Python buffer cost more than receiving and hashing together.
- Anywhere else (runserver, Django's test client, another WSGI server) the WSGI
  stream is read into one reused buffer and written block by block; the same
  background hash reads what landed.

A client that goes away, or sends nothing for KADR_UPLOAD_IDLE_TIMEOUT seconds,
ends the chunk early and keeps what arrived. A failing disk raises DiskError.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import select
import ssl
import sys
import threading
from collections import deque
from typing import Any

from django.conf import settings
from django.http import HttpRequest, UnreadablePostError

BLOCK = 4 * 1024 * 1024  # the copying loop's buffer, and the running hash's regions
SPLICE_STEP = 1024 * 1024  # the pipe's size: what one splice moves at most
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


class DiskError(Exception):
    """Writing to the part file failed (the disk, not the client)."""


def body_of(request: HttpRequest, length: int) -> Any:
    """The fastest honest reader for this request's `length` body bytes."""
    return _gunicorn_body(request.META, length) or StreamBody(request)


def receive(fd: int, body: Any, length: int, hasher: RunningHash | None) -> int:
    """Write up to `length` body bytes at fd's position; returns the count.

    What lands is queued on `hasher` (whose `covered` must be fd's position) and
    hashed in the background: the caller need not wait for it.
    """
    landed = _Landed(hasher, fd, os.lseek(fd, 0, os.SEEK_CUR))
    try:
        if isinstance(body, GunicornBody) and body.can_splice():
            ahead = body.take_ahead(length)
            _write(fd, ahead)
            landed.add(len(ahead))
            return len(ahead) + _splice(fd, body, length - len(ahead), landed)
        return _copy(fd, body, length, landed)
    finally:
        landed.close()


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


class _Landed:
    """Counts the bytes written since `start` and queues them for hashing in BLOCK regions."""

    def __init__(self, hasher: RunningHash | None, fd: int, start: int) -> None:
        self.source = hasher.source(fd) if hasher is not None else None
        self.start, self.size = start, 0

    def add(self, count: int) -> None:
        self.size += count
        if self.size >= BLOCK:
            self.flush()

    def flush(self) -> None:
        if self.source is not None and self.size:
            self.source.put(self.start, self.size)
        self.start, self.size = self.start + self.size, 0

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self.source is not None:
                self.source.close()


def _write(fd: int, data: memoryview) -> None:
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError as exc:
        raise DiskError(str(exc)) from exc


def _copy(fd: int, body: Any, length: int, landed: _Landed) -> int:
    """Through one reused buffer: receive a block, write it, queue it for hashing."""
    buffer = memoryview(bytearray(min(BLOCK, length)))
    received = 0
    while received < length:
        view = buffer[: min(len(buffer), length - received)]
        got = body.readinto(view)
        _write(fd, view[:got])
        landed.add(got)
        received += got
        if got < len(view):
            break  # the client went away; keep what arrived
    return received


def _splice(fd: int, body: GunicornBody, length: int, landed: _Landed) -> int:
    """Socket → pipe → file inside the kernel; the running hash reads what landed."""
    if length <= 0:
        return 0
    pipe_out, pipe_in = os.pipe()
    poller = select.poll()
    poller.register(body.sock.fileno(), select.POLLIN)
    received = 0
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
            landed.add(got)
    finally:
        os.close(pipe_out)
        os.close(pipe_in)
    return received


# --- the running hash -------------------------------------------------------------------


class RunningHash:
    """The sha256 of a part file's first `covered` bytes, computed by a background thread.

    The request thread queues each region of the file as it lands and goes on
    receiving; hashing reads the page cache through mmap (no copy). The hash of one
    chunk's tail runs on while the answer goes out and the next chunk comes in, so a
    chunk's answer never waits for hashing (bench/upload.py: that wait was a fifth of
    every chunk). hexdigest() waits for the queue to drain.

    Regions must follow each other from byte 0. At most MAX_PENDING bytes wait in the
    queue: a receiver faster than hashing waits for it rather than run ahead without
    bound. Nothing may cut the file below `covered` while the queue is not empty:
    cancel() first (a region the file no longer holds is reported, never read).
    """

    MAX_PENDING = 64 * 1024 * 1024

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.covered = 0  # bytes from the start queued so far
        self._queue: deque[tuple[int, int, int]] = deque()  # (fd, start, size); size 0: close fd
        self._pending = 0
        self._busy = False  # a thread is draining the queue
        self._cancelled = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()

    def source(self, fd: int) -> _Source:
        """Regions of fd's file, read through a duplicate of fd that the hash closes when
        done. A duplicate shares fd's open file and so its flock: the caller must
        unlock explicitly, closing fd does not release the lock."""
        return _Source(self, os.dup(fd))

    def hexdigest(self) -> str:
        """Waits for every queued region; DiskError if one could not be read."""
        self._wait_idle()
        if self._error is not None:
            raise DiskError(f"hashing the part file failed: {self._error}") from self._error
        if self._cancelled:
            raise DiskError("the running hash was cancelled")
        return self.digest.hexdigest()

    def cancel(self) -> None:
        """Stop hashing: what is queued is dropped (descriptors closed) before this returns."""
        with self._changed:
            self._cancelled = True
        self._wait_idle()

    def _put(self, fd: int, start: int, size: int) -> None:
        with self._changed:
            if size:
                if start != self.covered:
                    raise ValueError(f"region at {start}, the hash covers {self.covered}")
                while self._pending >= self.MAX_PENDING and not self._cancelled:
                    self._changed.wait()
                self.covered += size
                self._pending += size
            self._queue.append((fd, start, size))
            if not self._busy:
                self._busy = True
                try:
                    threading.Thread(target=self._drain, name="upload-hash", daemon=True).start()
                except RuntimeError as exc:  # no thread to be had: fail the chunk, not hang
                    self._busy = False
                    self._error = exc
                    raise DiskError(f"cannot start hashing: {exc}") from exc

    def _wait_idle(self) -> None:
        with self._changed:
            while self._busy:
                self._changed.wait()

    def _drain(self) -> None:
        while True:
            with self._changed:
                if not self._queue:
                    self._busy = False
                    self._changed.notify_all()
                    return
                fd, start, size = self._queue.popleft()
                skip = self._cancelled or self._error is not None
            if not size:
                try:
                    os.close(fd)
                except OSError:
                    pass
                continue
            if not skip:
                try:
                    _hash_region(self.digest, fd, start, size)
                except Exception as exc:  # noqa: BLE001 - reported by hexdigest(), never lost
                    self._error = exc
            with self._changed:
                self._pending -= size
                self._changed.notify_all()


class _Source:
    def __init__(self, hasher: RunningHash, fd: int) -> None:
        self.hasher, self.fd = hasher, fd

    def put(self, start: int, size: int) -> None:
        self.hasher._put(self.fd, start, size)

    def close(self) -> None:
        self.hasher._put(self.fd, 0, 0)  # the thread closes it after the last region


def _hash_region(digest: Any, fd: int, start: int, size: int) -> None:
    # mmap refuses a region past the end of the file (ValueError). Touching a mapped
    # page that a truncation cut afterwards would kill the process (SIGBUS): hence
    # RunningHash.cancel() before any truncation.
    aligned = start - start % mmap.ALLOCATIONGRANULARITY
    with (
        mmap.mmap(
            fd,
            start + size - aligned,
            flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0),
            prot=mmap.PROT_READ,
            offset=aligned,
        ) as mapped,
        memoryview(mapped) as view,
    ):
        digest.update(view[start - aligned :])
