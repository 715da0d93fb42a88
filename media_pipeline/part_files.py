"""A local-storage upload's part file: where it is, and the sha256 running over it.

The chunks land in KADR_UPLOAD_DIR/<upload id>.part (receive.py writes them); the
running hash of each upload lives in this process, goes on in the background from
one chunk to the next, and spares completion a re-read of the whole file. Another
process, or a hash that failed or was cancelled, falls back to reading the file once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from media_pipeline import receive, storage
from media_pipeline.models import Upload

log = logging.getLogger(__name__)

BLOCK = 1024 * 1024
MAX_RUNNING_HASHES = 512

# upload id → its part file's running sha256: lets completion skip a re-read.
_running_hashes: dict[uuid.UUID, receive.RunningHash] = {}


def path_of(upload: Upload) -> Path:
    return Path(settings.KADR_UPLOAD_DIR) / f"{upload.pk}.part"


def running_hash_at(upload_id: uuid.UUID, offset: int) -> receive.RunningHash | None:
    """The running hash to go on with at `offset` (a new one at 0), or None: completion
    will re-read the file. One that covers some other offset is stopped first."""
    running = _running_hashes.pop(upload_id, None)
    if running is not None and running.covered != offset:
        running.cancel()
        running = None
    return receive.RunningHash() if offset == 0 else running


def forget_running_hash(upload_id: uuid.UUID) -> None:
    running = _running_hashes.pop(upload_id, None)
    if running is not None:
        running.cancel()


def stream_into(
    fd: int,
    upload: Upload,
    offset: int,
    body: Any,
    length: int,
    running: receive.RunningHash | None,
) -> int:
    """Write what the client sends at offset; returns the bytes written. The running
    hash goes on in the background and is kept for the next chunk."""
    os.lseek(fd, offset, os.SEEK_SET)
    try:
        received = receive.receive(fd, body, length, running)
    except (receive.DiskError, OSError) as exc:
        if running is not None:
            running.cancel()  # it may be reading what the truncation cuts
        os.ftruncate(fd, offset)
        raise storage.StorageError(f"writing upload {upload.pk} failed: {exc}") from exc
    if running is not None:
        if len(_running_hashes) >= MAX_RUNNING_HASHES:
            # Abandoned uploads' hashes: drop the oldest; completion re-reads the file.
            forget_running_hash(next(iter(_running_hashes)))
        _running_hashes[upload.pk] = running
    return received


def sha256_of_part(upload: Upload, path: Path) -> str:
    running = _running_hashes.pop(upload.pk, None)
    if running is not None and running.covered == upload.size:
        try:
            return running.hexdigest()
        except receive.DiskError:
            log.warning("upload %s: the running hash failed; reading the file again", upload.pk)
    elif running is not None:
        running.cancel()
    return sha256_of(path)


def sha256_of(path: Path) -> str:
    """Any local file's sha256, read in blocks (never whole into memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()
