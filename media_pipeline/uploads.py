"""Resumable uploads: nothing a user uploads is lost, half-registered, or held in memory.

Two modes, one Upload row each:
- "chunks" (local storage): the client PATCHes chunks at the offset the server
  reports; each is streamed to KADR_UPLOAD_DIR/<upload id>.part and hashed in the
  background as it lands (the running sha256 lives in this process; another process
  falls back to a streaming re-hash at completion). The last chunk completes the
  upload.
- "s3": the browser PUTs parts straight to the bucket through presigned multipart
  URLs; the server signs, asks the bucket which parts it holds, completes, and a
  checksum task streams the object once to compute its sha256.

Completion creates the MediaAsset under the key chosen at creation
(media/<asset id>/original, never the user's file name), lets the tracker attach
it (settings.KADR_UPLOAD_COMPLETE_HOOK) and requests processing.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

from media_pipeline import part_files, services, storage
from media_pipeline.models import AssetStatus, MediaAsset, Purpose, Upload, UploadStatus

log = logging.getLogger(__name__)

CHUNKS, S3 = "chunks", "s3"
MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
MAX_PARTS = 10_000


class UploadProblem(Exception):
    """A client error with its HTTP status; `details` go into the JSON answer."""

    def __init__(self, http_status: int, message: str, /, **details: Any) -> None:
        super().__init__(message)
        self.status_code = http_status
        self.message = message
        self.details = details


def conflict(upload: Upload, message: str) -> UploadProblem:
    return UploadProblem(409, message, offset=upload.offset, status=upload.status)


# --- creating and finding uploads -------------------------------------------------------


def mode_of(upload: Upload) -> str:
    return S3 if upload.s3_upload_id else CHUNKS


def part_size_for(size: int) -> int:
    return max(settings.KADR_UPLOAD_PART_SIZE, MIN_PART, math.ceil(size / MAX_PARTS))


def part_count(upload: Upload) -> int:
    return max(1, math.ceil(upload.size / part_size_for(upload.size)))


def require_size(size: int) -> None:
    if size > settings.KADR_MAX_UPLOAD_BYTES:
        raise UploadProblem(
            413,
            _("The file is too large: the limit is %(limit)s bytes.")
            % {"limit": settings.KADR_MAX_UPLOAD_BYTES},
            limit=settings.KADR_MAX_UPLOAD_BYTES,
        )


def check_target(user: Any, purpose: str, target: dict[str, Any]) -> None:
    """Ask the tracker whether the user may upload there (raises its own 403/404)."""
    import_string(settings.KADR_UPLOAD_TARGET_CHECK)(user, purpose, target)


def create(
    *,
    user: Any,
    filename: str,
    size: int,
    purpose: str = Purpose.REVIEW,
    target: dict[str, Any] | None = None,
    sha256: str = "",
    content_type: str = "",
) -> Upload:
    """Open an upload; nothing is stored yet. Too large → 413, bad target → the hook's error."""
    require_size(size)
    if size <= 0:
        raise UploadProblem(400, _("The file is empty."), field="size")
    if purpose not in Purpose.values:
        raise UploadProblem(400, _("Unknown purpose."), field="purpose")
    target = dict(target or {})
    check_target(user, purpose, target)
    backend = storage.get_storage()
    # With S3 the browser sends parts straight to the bucket: chunks would have to be
    # copied into the bucket inside a request at the end.
    use_s3 = backend.supports_direct_upload
    upload = Upload(
        user=user,
        filename=filename[:500],
        size=size,
        purpose=purpose,
        target=target,
        expected_sha256=sha256.lower(),
        content_type=content_type[:200],
        storage_key=f"media/{uuid.uuid4()}/original",
    )
    if use_s3:
        upload.s3_upload_id = backend.create_multipart(upload.storage_key)  # type: ignore[attr-defined]
    upload.save()
    return upload


def access(user: Any, upload_id: Any) -> Upload:
    """The user's own upload, or 404 for missing and someone else's alike."""
    try:
        return Upload.objects.get(pk=upload_id, user=user)
    except (Upload.DoesNotExist, ValueError, TypeError, ValidationError):
        raise UploadProblem(404, _("No such upload.")) from None


# --- local mode: chunks -----------------------------------------------------------------


def write_chunk(upload: Upload, *, offset: int, body: Any, length: int) -> Upload:
    """Append one chunk at `offset`; completes the upload when it reaches the size.

    409 with the offset to resume from for a wrong offset, a repeat, or a finished
    upload. A client that vanishes mid-chunk keeps what arrived: the offset moves on
    by exactly the bytes written.
    """
    if mode_of(upload) != CHUNKS:
        raise UploadProblem(400, _("This upload sends its parts to S3."))
    if upload.status != UploadStatus.ACTIVE:
        raise conflict(upload, _("This upload is already finished."))
    if offset != upload.offset:
        raise conflict(upload, _("Wrong offset: resume from the offset given."))
    if offset + length > upload.size:
        raise UploadProblem(413, _("The chunk goes past the declared size."), offset=upload.offset)
    path = part_files.path_of(upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise conflict(upload, _("Another chunk of this upload is being written.")) from None
        # Another writer may have finished a chunk while we waited for the lock.
        upload.refresh_from_db(fields=["offset", "status"])
        if upload.status != UploadStatus.ACTIVE or upload.offset != offset:
            raise conflict(upload, _("Wrong offset: resume from the offset given."))
        on_disk = os.fstat(fd).st_size
        _require_bytes_on_disk(upload, on_disk)
        # Before anything may cut the file: a stale running hash stops reading it.
        running = part_files.running_hash_at(upload.pk, offset)
        if on_disk > offset:
            os.ftruncate(fd, offset)  # a torn earlier chunk past the committed offset
        written = part_files.stream_into(fd, upload, offset, body, length, running)
        new_offset = offset + written
        now = timezone.now()
        Upload.objects.filter(pk=upload.pk, offset=offset, status=UploadStatus.ACTIVE).update(
            offset=new_offset, updated_at=now
        )
        upload.offset, upload.updated_at = new_offset, now
        if written < length:
            log.info("upload %s: client left after %s of %s bytes", upload.pk, written, length)
        elif new_offset == upload.size:
            complete(upload)
    finally:
        # Explicitly: the running hash's copy of this descriptor would hold the lock
        # until it has read the chunk, and refuse the next one.
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return upload


def _require_bytes_on_disk(upload: Upload, on_disk: int) -> None:
    """The part file must hold every byte the database counts; else resume from what it holds.

    Chunks are acknowledged once written, not once flushed: a machine that loses
    power may come back with a shorter part file than the committed offset. The
    client is sent back to the bytes that survived rather than resuming past a hole.
    """
    if on_disk >= upload.offset:
        return
    log.warning(
        "upload %s: the part file holds %s bytes, %s were acknowledged; resuming from %s",
        upload.pk,
        on_disk,
        upload.offset,
        on_disk,
    )
    part_files.forget_running_hash(upload.pk)
    Upload.objects.filter(pk=upload.pk, offset=upload.offset, status=UploadStatus.ACTIVE).update(
        offset=on_disk, updated_at=timezone.now()
    )
    upload.offset = on_disk
    raise conflict(
        upload, _("Part of the upload did not survive on the server; resume from the offset given.")
    )


# --- S3 mode: parts straight to the bucket ----------------------------------------------


def sign_part(upload: Upload, number: int) -> dict[str, Any]:
    if mode_of(upload) != S3:
        raise UploadProblem(400, _("This upload sends chunks to Kadr."))
    if upload.status != UploadStatus.ACTIVE:
        raise conflict(upload, _("This upload is already finished."))
    count = part_count(upload)
    if not 1 <= number <= count:
        raise UploadProblem(400, _("There is no part %(n)s.") % {"n": number}, parts=count)
    backend: Any = storage.get_storage()
    ttl = settings.KADR_UPLOAD_PART_URL_TTL
    size = part_size_for(upload.size)
    start = (number - 1) * size
    end = min(start + size, upload.size)
    Upload.objects.filter(pk=upload.pk).update(updated_at=timezone.now())
    return {
        "number": number,
        # The signature covers the part's length: the bucket takes no byte past the size.
        "url": backend.sign_part(
            upload.storage_key, upload.s3_upload_id, number, ttl=ttl, size=end - start
        ),
        "method": "PUT",
        "start": start,
        "end": end,
        "expires_in": ttl,
    }


def bucket_parts(upload: Upload) -> list[dict[str, Any]]:
    """The parts the bucket holds, and the contiguous offset they cover (saved on the row)."""
    if mode_of(upload) != S3 or upload.status != UploadStatus.ACTIVE:
        return list(upload.parts)
    backend: Any = storage.get_storage()
    parts = backend.list_parts(upload.storage_key, upload.s3_upload_id)
    offset, expected = 0, 1
    for part in parts:
        if part["number"] != expected:
            break
        offset += part["size"]
        expected += 1
    Upload.objects.filter(pk=upload.pk, status=UploadStatus.ACTIVE).update(
        parts=parts, offset=offset
    )
    upload.parts, upload.offset = parts, offset
    return parts


# --- completion -------------------------------------------------------------------------


@dataclass
class Completion:
    upload: Upload
    asset: MediaAsset | None
    hook: dict[str, Any] = field(default_factory=dict)


def complete(upload: Upload) -> Completion:
    """Register the finished upload as a MediaAsset (once), attach it, request processing."""
    if upload.status == UploadStatus.COMPLETE:
        return Completion(upload, upload.asset, dict(upload.target.get("result", {})))
    if upload.status != UploadStatus.ACTIVE:
        raise conflict(upload, _("This upload was cancelled."))
    asset_id = uuid.UUID(upload.storage_key.split("/")[1])
    try:
        if mode_of(upload) == CHUNKS:
            asset = _complete_local(upload, asset_id)
        else:
            asset = _complete_s3(upload, asset_id)
    except (IntegrityError, storage.StorageError):
        # A concurrent completion (a retried request) may have won meanwhile.
        upload.refresh_from_db()
        if upload.status != UploadStatus.COMPLETE:
            raise
        asset = None
    if asset is None:  # another request completed it first
        upload.refresh_from_db()
        return Completion(upload, upload.asset, dict(upload.target.get("result", {})))
    return _after_completion(upload, asset)


def _new_asset(upload: Upload, asset_id: uuid.UUID, sha256: str) -> MediaAsset:
    return MediaAsset.objects.create(
        id=asset_id,
        original_key=upload.storage_key,
        original_name=upload.filename,
        size=upload.size,
        sha256=sha256,
        uploaded_by=upload.user,
        purpose=upload.purpose,
        status=AssetStatus.UPLOADED,
    )


def _claim(upload: Upload, asset: MediaAsset) -> bool:
    """Compare-and-swap active → complete; False when another request won."""
    won = Upload.objects.filter(pk=upload.pk, status=UploadStatus.ACTIVE).update(
        status=UploadStatus.COMPLETE, asset=asset, offset=upload.size, updated_at=timezone.now()
    )
    if won:
        upload.status, upload.asset, upload.offset = UploadStatus.COMPLETE, asset, upload.size
    return bool(won)


def _complete_local(upload: Upload, asset_id: uuid.UUID) -> MediaAsset | None:
    path = part_files.path_of(upload)
    on_disk = path.stat().st_size if path.is_file() else 0
    _require_bytes_on_disk(upload, on_disk)
    if on_disk != upload.size:
        raise conflict(upload, _("The upload is not complete yet."))
    sha256 = part_files.sha256_of_part(upload, path)
    if upload.expected_sha256 and sha256 != upload.expected_sha256:
        # Corrupt on the way: start over rather than register a file nobody sent.
        path.unlink(missing_ok=True)
        Upload.objects.filter(pk=upload.pk).update(offset=0)
        upload.offset = 0
        raise conflict(upload, _("The checksum does not match the file; please upload it again."))
    with transaction.atomic():
        asset = _new_asset(upload, asset_id, sha256)
        if not _claim(upload, asset):
            transaction.set_rollback(True)
            return None
        # Last: if the move fails the transaction rolls back and the bytes stay put.
        storage.get_storage().move_file(upload.storage_key, path, content_type=upload.content_type)
    return asset


def _complete_s3(upload: Upload, asset_id: uuid.UUID) -> MediaAsset | None:
    backend: Any = storage.get_storage()
    parts = bucket_parts(upload)
    count = part_count(upload)
    if [p["number"] for p in parts] != list(range(1, count + 1)) or upload.offset != upload.size:
        missing = sorted(set(range(1, count + 1)) - {p["number"] for p in parts})
        raise UploadProblem(
            409,
            _("Some parts are missing."),
            offset=upload.offset,
            status=upload.status,
            missing_parts=missing[:100],
        )
    stored = backend.complete_multipart(upload.storage_key, upload.s3_upload_id, parts)
    if stored != upload.size:
        raise storage.StorageError(f"size mismatch after completing {upload.storage_key}")
    with transaction.atomic():
        asset = _new_asset(upload, asset_id, "")
        if not _claim(upload, asset):
            transaction.set_rollback(True)
            return None
        transaction.on_commit(lambda: queue_checksum(str(asset_id)))
    return asset


def _after_completion(upload: Upload, asset: MediaAsset) -> Completion:
    """The tracker attaches the asset; its failure leaves the asset stored and reported."""
    part_files.forget_running_hash(upload.pk)
    result: dict[str, Any] = {}
    hook = import_string(settings.KADR_UPLOAD_COMPLETE_HOOK)
    try:
        with transaction.atomic():
            result = dict(hook(upload, asset) or {})
    except Exception as exc:  # noqa: BLE001 - the hook's refusal must not lose the upload
        status = getattr(exc, "status_code", None) or getattr(exc, "status", None) or 500
        if isinstance(exc, Http404):
            status = 404
        elif isinstance(exc, PermissionDenied):
            status = 403
        message = getattr(exc, "message", None) or str(exc)
        if status >= 500:
            log.exception("upload %s: completion hook failed", upload.pk)
        result = {"attach_error": str(message), "attach_status": int(status)}
    duplicate = result.get("duplicate_of")
    if duplicate:
        # The very same bytes are already there; keep one copy.
        storage.get_storage().delete_prefix(asset.prefix)
        Upload.objects.filter(pk=upload.pk).update(asset=None)
        MediaAsset.objects.filter(pk=asset.pk).delete()
        upload.asset = None
    elif services.job_for(asset, upload.purpose) is None:
        services.request_processing(asset, upload.purpose)
    upload.target = {**upload.target, "result": result}
    Upload.objects.filter(pk=upload.pk).update(target=upload.target)
    return Completion(upload, upload.asset, result)


def queue_checksum(asset_id: str) -> None:
    """Send the checksum task. With the broker down the upload still completes: the
    sweeper (tasks.sweep) sends it once the broker is back."""
    try:
        compute_checksum.delay(asset_id)
    except (KombuOperationalError, OSError) as exc:
        log.warning("broker unreachable, checksum of %s left for the sweeper: %r", asset_id, exc)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(storage.StorageError,),
    retry_backoff=True,
    max_retries=5,
)
def compute_checksum(asset_id: str) -> None:
    """The sha256 of a direct-to-S3 upload, streamed once from the bucket."""
    asset = MediaAsset.objects.filter(pk=asset_id).first()
    if asset is None or asset.sha256:
        return
    sha256 = services.stored_sha256(asset)
    upload = Upload.objects.filter(asset=asset).first()
    expected = upload.expected_sha256 if upload else ""
    MediaAsset.objects.filter(pk=asset.pk, sha256="").update(sha256=sha256)
    if expected and expected != sha256:
        log.warning("asset %s: sha256 %s differs from the declared %s", asset_id, sha256, expected)


# --- abort and cleanup ------------------------------------------------------------------


def abort(upload: Upload) -> None:
    if upload.status != UploadStatus.ACTIVE:
        raise conflict(upload, _("This upload is already finished."))
    if Upload.objects.filter(pk=upload.pk, status=UploadStatus.ACTIVE).update(
        status=UploadStatus.ABORTED, updated_at=timezone.now()
    ):
        upload.status = UploadStatus.ABORTED
        _discard(upload)


def _discard(upload: Upload) -> None:
    part_files.forget_running_hash(upload.pk)
    if mode_of(upload) == S3:
        backend: Any = storage.get_storage()
        backend.abort_multipart(upload.storage_key, upload.s3_upload_id)
    else:
        part_files.path_of(upload).unlink(missing_ok=True)


def clean_abandoned() -> int:
    """Abort uploads idle for longer than KADR_UPLOAD_ABANDON_HOURS; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.KADR_UPLOAD_ABANDON_HOURS)
    cleaned = 0
    for upload in Upload.objects.filter(status=UploadStatus.ACTIVE, updated_at__lt=cutoff):
        if Upload.objects.filter(
            pk=upload.pk, status=UploadStatus.ACTIVE, updated_at__lt=cutoff
        ).update(status=UploadStatus.ABORTED):
            try:
                _discard(upload)
            except storage.StorageError:
                log.warning("upload %s: could not abort its multipart upload yet", upload.pk)
            cleaned += 1
    _remove_stray_parts(cutoff)
    return cleaned


def _remove_stray_parts(cutoff: Any) -> None:
    """Chunk files no active upload owns (a crash between two steps), once they are old."""
    folder = Path(settings.KADR_UPLOAD_DIR)
    if not folder.is_dir():
        return
    active = {
        str(pk)
        for pk in Upload.objects.filter(status=UploadStatus.ACTIVE).values_list("pk", flat=True)
    }
    for path in folder.glob("*.part"):
        try:
            old = path.stat().st_mtime < cutoff.timestamp()
        except FileNotFoundError:
            continue
        if old and path.stem not in active:
            path.unlink(missing_ok=True)


def complete_from_temp_file(
    path: Path,
    *,
    user: Any,
    filename: str,
    purpose: str,
    target: dict[str, Any],
    sha256: str,
) -> Completion:
    """The one-request upload: a temporary file, already hashed, becomes an asset."""
    size = path.stat().st_size
    require_size(size)
    if size == 0:
        raise UploadProblem(400, _("The file is empty."), field="file")
    asset_id = uuid.uuid4()
    upload = Upload(
        user=user,
        filename=filename[:500],
        size=size,
        offset=size,
        purpose=purpose,
        target=dict(target),
        storage_key=f"media/{asset_id}/original",
        status=UploadStatus.COMPLETE,
    )
    with transaction.atomic():
        upload.save()
        asset = _new_asset(upload, asset_id, sha256)
        Upload.objects.filter(pk=upload.pk).update(asset=asset)
        upload.asset = asset
        storage.get_storage().move_file(upload.storage_key, path)
    return _after_completion(upload, asset)


# --- a local file, in one go (the simple API upload, ingest, demo data) ------------------


def create_asset_from_file(
    path: Path,
    *,
    user: Any,
    original_name: str,
    purpose: str,
    sha256: str = "",
    move: bool = False,
    process: bool = True,
) -> MediaAsset:
    """Store a local file under a generated key (checksummed, streaming) as a new asset.

    `process=False` when the caller attaches it through the workflow, which requests
    processing itself; `move=True` hands a temporary file over instead of copying it.
    """
    require_size(path.stat().st_size)
    sha256 = sha256 or part_files.sha256_of(path)
    asset_id = uuid.uuid4()
    key = f"media/{asset_id}/original"
    backend = storage.get_storage()
    size = backend.move_file(key, path) if move else backend.save_file(key, path)
    asset = MediaAsset.objects.create(
        id=asset_id,
        original_key=key,
        original_name=original_name[:500],
        size=size,
        sha256=sha256,
        uploaded_by=user,
        purpose=purpose,
        status=AssetStatus.UPLOADED,
    )
    if process:
        services.request_processing(asset, purpose)
    return asset
