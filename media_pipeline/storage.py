"""One storage interface, two backends: the local disk (default) and S3 (boto3).

Keys look like media/<asset id>/…; a rerun writes the same keys, so it
overwrites rather than duplicates.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from abc import ABC, abstractmethod
from functools import cache
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core import signing
from django.urls import reverse

SIGNING_SALT = "kadr.media"
# Objects whose references are relative to their own folder: served through the
# signed-folder view so that each reference can be signed too (see views.py).
REWRITTEN_SUFFIXES = (".m3u8", ".vtt")


class StorageError(Exception):
    """A storage operation failed in a way that may succeed on retry."""


class Storage(ABC):
    @abstractmethod
    def save_file(
        self, key: str, path: Path, *, content_type: str = "", cache_control: str = ""
    ) -> int:
        """Store a local file under key; returns the stored size (verified)."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary stream of the stored object."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def fingerprint(self, key: str) -> str:
        """Changes whenever the stored object is replaced or rewritten (size, time, identity)."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None: ...

    @abstractmethod
    def url(self, key: str, *, ttl: int | None = None, download_name: str | None = None) -> str:
        """A short-lived URL to read the object (call only after a permission check)."""

    def local_path(self, key: str) -> Path | None:
        """A path ffmpeg can read directly, when the backend has one."""
        return None

    def download_to(self, key: str, path: Path) -> None:
        with self.open(key) as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 4 * 1024 * 1024)

    def read_bytes(self, key: str, limit: int) -> bytes:
        """A small object's bytes (playlists, WebVTT), refusing anything larger than limit."""
        with self.open(key) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise StorageError(f"{key} is larger than {limit} bytes")
        return data

    def move_file(
        self, key: str, path: Path, *, content_type: str = "", cache_control: str = ""
    ) -> int:
        """Store a local file under key and remove the local copy once it is safely stored."""
        size = self.save_file(key, path, content_type=content_type, cache_control=cache_control)
        path.unlink(missing_ok=True)
        return size

    def direct_url(self, key: str, *, ttl: int) -> str:
        """A URL for exactly this object, with no playlist rewriting (segments, sprites)."""
        return signed_folder_url(key, ttl=ttl)

    def public_url(self, key: str) -> str:
        """A long-lived URL for published media: the CDN base when set, else a signed URL."""
        base = settings.KADR_MEDIA_PUBLIC_BASE_URL
        if base:
            return f"{base}/{key}"
        return self.url(key, ttl=settings.KADR_PUBLIC_URL_TTL)

    @property
    def supports_direct_upload(self) -> bool:
        """True when browsers can upload parts straight to the backend (S3 multipart)."""
        return False


def signed_folder_url(key: str, *, ttl: int | None = None, download_name: str | None = None) -> str:
    """A URL to Kadr's signed-folder view for key.

    The token signs the key's folder, so relative references inside an HLS playlist
    or a WebVTT track (variant playlists, segments, sprites) resolve under the same token.
    """
    folder, _, name = key.rpartition("/")
    expires = int(time.time()) + int(ttl or settings.KADR_SIGNED_URL_TTL)
    token = signing.dumps(
        {"p": folder, "n": download_name or "", "e": expires}, salt=SIGNING_SALT, compress=True
    )
    return reverse("media-file", kwargs={"token": token, "path": name})


def read_folder_token(token: str) -> dict | None:
    """The folder, download name and expiry a token grants, or None when invalid or expired."""
    try:
        data = signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or int(data.get("e", 0)) < time.time():
        return None
    return data


def is_rewritten(key: str) -> bool:
    return key.endswith(REWRITTEN_SUFFIXES)


class LocalStorage(Storage):
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("key escapes the storage root")
        return path

    def save_file(
        self, key: str, path: Path, *, content_type: str = "", cache_control: str = ""
    ) -> int:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        try:
            shutil.copyfile(path, tmp)
            tmp.replace(target)  # atomic on one filesystem
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(str(exc)) from exc
        size = target.stat().st_size
        if size != path.stat().st_size:
            raise StorageError(f"size mismatch after storing {key}")
        return size

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"missing: {key}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def fingerprint(self, key: str) -> str:
        try:
            stat = self._path(key).stat()
        except OSError as exc:
            raise StorageError(f"checking {key} failed: {exc}") from exc
        # st_ctime_ns moves on any write, rename or chmod, and cannot be set from user space.
        return f"local:{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix.rstrip("/"))
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def url(self, key: str, *, ttl: int | None = None, download_name: str | None = None) -> str:
        return signed_folder_url(key, ttl=ttl, download_name=download_name)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def move_file(
        self, key: str, path: Path, *, content_type: str = "", cache_control: str = ""
    ) -> int:
        # A rename when the upload folder shares the filesystem: a 20 GB upload is not copied.
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        expected = path.stat().st_size
        try:
            os.replace(path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise StorageError(str(exc)) from exc
            return super().move_file(key, path)
        size = target.stat().st_size
        if size != expected:
            raise StorageError(f"size mismatch after storing {key}")
        return size


@cache
def _build(kind: str) -> Storage:
    if kind == "local":
        return LocalStorage(Path(settings.KADR_MEDIA_ROOT))
    if kind == "s3":
        from media_pipeline.s3 import S3Storage

        return S3Storage.from_settings()
    raise ValueError(f"unknown KADR_STORAGE {kind!r}")


def get_storage() -> Storage:
    return _build(settings.KADR_STORAGE)


def reset() -> None:
    """Forget the built backend (tests change settings)."""
    _build.cache_clear()
