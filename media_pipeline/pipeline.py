"""Runs one purpose's job for one asset: probe, one ffmpeg process, store, swap in.

`render_file` (encode.py) is the same encode on a local file with no database (the
`render` command). `process` wraps it in the job's life: a lease and an attempt counter in
the database, progress saved every couple of seconds, outputs uploaded under a
new generation and swapped in with one UPDATE, the old generation deleted after.
"""

from __future__ import annotations

import logging
import shutil
import time
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from media_pipeline import ffmpeg, ladder, probe, services
from media_pipeline.encode import (  # noqa: F401 (render_file is the pipeline's no-database path)
    MASTER,
    PurposeRefused,
    Rendered,
    encode,
    render_file,
    scratch_dir,
    timeout_for,
)
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Rendition
from media_pipeline.storage import StorageError, get_storage

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between progress writes
ENCODE_SHARE = 95  # percent of the progress bar the encode takes; uploading is the rest
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".m4s": "video/iso.segment",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}


class MissingOriginal(Exception):
    pass


# --- the job's life in the database --------------------------------------------------------


def _mirror(job: ProcessingJob, **fields: Any) -> None:
    """Keep the asset's status/stage/progress/error on its primary purpose's job.

    While an earlier generation of outputs exists, the asset stays ready: a rerun
    works in the background and is swapped in when done.
    """
    if fields.get("status") != AssetStatus.READY and job.generation > 0:
        return
    MediaAsset.objects.filter(pk=job.asset_id, purpose=job.purpose).update(
        **fields, updated_at=timezone.now()
    )


def _lease(asset_id: str, purpose: str) -> ProcessingJob | None:
    """Take the job unless it is done, failed, or another worker holds its lease."""
    if not MediaAsset.objects.filter(pk=asset_id).exists():
        return None
    job, _created = ProcessingJob.objects.get_or_create(asset_id=asset_id, purpose=purpose)
    now = timezone.now()
    free = Q(status=AssetStatus.UPLOADED) | Q(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), status=AssetStatus.PROCESSING
    )
    won = ProcessingJob.objects.filter(free, pk=job.pk).update(
        status=AssetStatus.PROCESSING,
        attempts=F("attempts") + 1,
        lease_until=now + timedelta(seconds=settings.KADR_LEASE_SECONDS),
        started_at=now,
        finished_at=None,
        stage="probing",
        progress=0,
    )
    if won != 1:
        return None
    job.refresh_from_db()
    return job


def _save(job: ProcessingJob, **fields: Any) -> None:
    """Write the job's fields (and its asset's) if this worker still holds the job."""
    lease = timezone.now() + timedelta(seconds=settings.KADR_LEASE_SECONDS)
    ProcessingJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
        lease_until=lease, **fields
    )
    shown = {k: v for k, v in fields.items() if k in ("stage", "progress")}
    if shown:
        _mirror(job, status=AssetStatus.PROCESSING, **shown)


class _Progress:
    """Turns ffmpeg's -progress seconds into a percentage saved at most every 2 s."""

    def __init__(self, job: ProcessingJob, duration: float) -> None:
        self.job, self.duration, self.last = job, max(duration, 0.1), 0.0

    def __call__(self, seconds: float) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        percent = min(ENCODE_SHARE, int(ENCODE_SHARE * seconds / self.duration))
        _save(self.job, stage="encoding", progress=percent)


def _fail(job: ProcessingJob, reason: str, *, log_text: str = "", whole_file: bool = False) -> None:
    failed = ProcessingJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
        status=AssetStatus.FAILED,
        error=reason,
        stage="",
        progress=0,
        lease_until=None,
        finished_at=timezone.now(),
        **({"ffmpeg_log": log_text} if log_text else {}),
    )
    if whole_file:
        # The file itself is refused: whatever the purpose, the asset is unusable.
        MediaAsset.objects.filter(pk=job.asset_id).update(
            status=AssetStatus.FAILED, error=reason, stage="", progress=0
        )
    else:
        _mirror(job, status=AssetStatus.FAILED, error=reason, stage="", progress=0)
    if failed:
        # Failed for good: the tracker tells the uploader (settings.KADR_MEDIA_FAILED_HOOK);
        # notify_failed logs and swallows anything the hook raises.
        services.notify_failed(job.asset_id, job.purpose, reason)


def _source(asset: MediaAsset, scratch: Path) -> Path:
    backend = get_storage()
    if not asset.original_key or not backend.exists(asset.original_key):
        raise MissingOriginal(_("The original file is missing from storage."))
    local = backend.local_path(asset.original_key)
    if local is not None and local.is_file():
        return local
    target = scratch / "source"
    backend.download_to(asset.original_key, target)
    return target


def _upload(rendered: Rendered, prefix: str, purpose: str) -> dict[str, str]:
    backend = get_storage()
    cache = (
        "public, max-age=31536000, immutable" if purpose == "publish" else "private, max-age=86400"
    )
    files = sorted(
        p for p in rendered.folder.iterdir() if p.is_file() and not p.name.startswith(".")
    )
    # The master playlist last: once it exists, everything it names exists.
    files.sort(key=lambda p: p.name == MASTER)
    for path in files:
        backend.save_file(
            f"{prefix}/{path.name}",
            path,
            content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
            cache_control=cache,
        )
    return {p.name: f"{prefix}/{p.name}" for p in files}


def _swap(job: ProcessingJob, rendered: Rendered, prefix: str, generation: int) -> bool:
    """Make the new generation current with one UPDATE; False if another run won."""

    def key(name: str) -> str:
        return f"{prefix}/{name}" if name else ""

    with transaction.atomic():
        won = ProcessingJob.objects.filter(
            pk=job.pk, attempts=job.attempts, generation=job.generation
        ).update(
            status=AssetStatus.READY,
            generation=generation,
            output_prefix=prefix,
            hls_key=key(rendered.hls),
            poster_key=key(rendered.poster),
            thumbnail_keys=[key(n) for n in rendered.thumbnails],
            storyboard_key=key(rendered.storyboard),
            storyboard_vtt_key=key(rendered.storyboard_vtt),
            stage="",
            progress=100,
            error="",
            lease_until=None,
            finished_at=timezone.now(),
            timings=rendered.timings,
            ffmpeg_log=rendered.log,
        )
        if won != 1:
            return False
        Rendition.objects.filter(job=job).exclude(generation=generation).delete()
        Rendition.objects.bulk_create(
            Rendition(
                job=job,
                generation=generation,
                name=r["name"],
                width=r["width"],
                height=r["height"],
                video_bitrate=r["video_bitrate"],
                audio_bitrate=r["audio_bitrate"],
                size=r["size"],
                key=key(r["file"]),
            )
            for r in rendered.renditions
        )
        job.generation = generation
        _mirror(job, status=AssetStatus.READY, stage="", progress=100, error="")
    return True


def _delete_quietly(prefix: str) -> None:
    try:
        get_storage().delete_prefix(prefix)
    except StorageError:
        log.warning("could not delete %s; it is unreferenced", prefix)


def _run(job: ProcessingJob, scratch: Path) -> None:
    asset = MediaAsset.objects.get(pk=job.asset_id)
    _mirror(job, status=AssetStatus.PROCESSING, stage="probing", progress=0, error="")
    source = _source(asset, scratch)
    started = time.monotonic()
    result = probe.probe(source)
    MediaAsset.objects.filter(pk=asset.pk).update(**result.model_fields())
    folder = scratch / "out"
    folder.mkdir()
    rendered = encode(
        source,
        folder,
        job.purpose,
        probed=result,
        on_progress=_Progress(job, result.duration),
        on_command=lambda argv: _save(
            job, stage="encoding", ffmpeg_command=ffmpeg.command_line(argv)
        ),
    )
    # A generation per attempt: a worker whose lease expired while it was still busy
    # can never overwrite or delete the files of the attempt that replaced it.
    old_prefix, generation = job.output_prefix, job.generation + job.attempts
    prefix = f"{asset.prefix}/{job.purpose}/{generation}"
    _save(job, stage="uploading", progress=ENCODE_SHARE)
    upload_started = time.monotonic()
    try:
        get_storage().delete_prefix(prefix)  # leftovers of an earlier run with this number
        _upload(rendered, prefix, job.purpose)
    except StorageError:
        _delete_quietly(prefix)
        raise
    rendered.timings["upload"] = round(time.monotonic() - upload_started, 3)
    rendered.timings["total"] = round(time.monotonic() - started, 3)
    if not _swap(job, rendered, prefix, generation):
        _delete_quietly(prefix)
        return
    # The set it replaced, and whatever attempts that died before this one left.
    stale = [old_prefix] if old_prefix else []
    stale += [
        f"{asset.prefix}/{job.purpose}/{n}"
        for n in range(generation - job.attempts + 1, generation)
    ]

    def delete_stale() -> None:
        for old in stale:
            if old != prefix:
                _delete_quietly(old)

    transaction.on_commit(delete_stale)


def process(asset_id: str, purpose: str) -> None:
    """Run the purpose's job once. Raises StorageError when a retry may help."""
    ladder.purpose_settings(purpose)
    job = _lease(asset_id, purpose)
    if job is None:
        return
    if job.attempts > settings.KADR_MAX_ATTEMPTS:
        _fail(
            job,
            _("Processing stopped %(count)s times without finishing. Last error: %(error)s")
            % {"count": job.attempts - 1, "error": job.error or _("the worker stopped")},
        )
        return
    scratch = scratch_dir()
    try:
        _run(job, scratch)
    except probe.ProbeRefused as exc:
        _fail(job, str(exc), whole_file=True)
    except (PurposeRefused, MissingOriginal) as exc:
        _fail(job, str(exc))
    except ffmpeg.FfmpegFailed as exc:
        if exc.timed_out:
            reason = _(
                "Converting stopped making progress or ran past its time limit; "
                "the file may be damaged."
            )
        else:
            reason = _("The file could not be converted; it may be damaged (%(detail)s).") % {
                "detail": str(exc)
            }
        _fail(job, reason, log_text=exc.log)
    except StorageError as exc:
        reason = _("Storage error: %(detail)s") % {"detail": exc}
        if job.attempts >= settings.KADR_MAX_ATTEMPTS:
            _fail(job, reason)
            return
        # Back in the queue; the task retries with backoff.
        ProcessingJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
            status=AssetStatus.UPLOADED, error=reason, stage="waiting to retry", lease_until=None
        )
        raise
    except Exception:
        _fail(
            job,
            _("An unexpected error stopped processing; an administrator can retry it."),
            log_text=traceback.format_exc()[-ffmpeg.LOG_TAIL :],
        )
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
