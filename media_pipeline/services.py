"""The pipeline's public interface: what the tracker and the API call.

Writes of an asset's status live in media_pipeline (this module and
pipeline.py); the tracker only asks for processing and reads the results.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from media_pipeline import storage
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Purpose

log = logging.getLogger(__name__)

HASH_CHUNK = 4 * 1024 * 1024


def request_processing(asset: MediaAsset, purpose: str) -> ProcessingJob:
    """Create (or re-arm) the purpose's job and queue it once the transaction commits.

    A job that is ready is kept as it is; reprocess() is for redoing one. Asking again
    for a job already queued (and sent to the broker recently) sends nothing: a job whose
    message was never sent, or was lost long ago, is sent again, as the sweeper would.
    """
    require_purpose(purpose)
    job, created = ProcessingJob.objects.get_or_create(asset=asset, purpose=purpose)
    if not created and job.status in (AssetStatus.READY, AssetStatus.PROCESSING):
        return job
    if not created and _queued_recently(job):
        return job
    _requeue(job, from_status=job.status)
    return job


def _queued_recently(job: ProcessingJob) -> bool:
    """Queued and sent within the lease time: its task is on its way (see tasks.sweep)."""
    if job.status != AssetStatus.UPLOADED or job.queued_at is None:
        return False
    return job.queued_at >= timezone.now() - timedelta(seconds=settings.KADR_LEASE_SECONDS)


def reprocess(asset: MediaAsset, purpose: str) -> ProcessingJob:
    """Re-run a purpose (e.g. after the ladder changed). The outputs in use stay in
    use until the new set is complete and swapped in; a job already running is left
    alone (it is making the new set)."""
    require_purpose(purpose)
    job, _created = ProcessingJob.objects.get_or_create(asset=asset, purpose=purpose)
    if job.status == AssetStatus.PROCESSING:
        return job
    _requeue(job, from_status=job.status)
    return job


class UnknownPurpose(ValueError):
    pass


def require_purpose(purpose: str) -> None:
    if purpose not in Purpose.values:
        raise UnknownPurpose(
            _("Unknown purpose “%(purpose)s”; choose one of: %(choices)s.")
            % {"purpose": purpose, "choices": ", ".join(Purpose.values)}
        )


def _requeue(job: ProcessingJob, *, from_status: str) -> None:
    """Back to the queue with a fresh attempt budget, once the transaction commits."""
    # Compare-and-swap on the send time too, so two callers racing send it once.
    moved = ProcessingJob.objects.filter(
        pk=job.pk, status=from_status, queued_at=job.queued_at
    ).update(
        status=AssetStatus.UPLOADED,
        queued_at=timezone.now(),
        error="",
        attempts=0,
        stage="queued",
        progress=0,
    )
    if moved == 1:
        if job.generation == 0:
            # Nothing to show yet: the asset follows its first job.
            MediaAsset.objects.filter(pk=job.asset_id, purpose=job.purpose).update(
                status=AssetStatus.UPLOADED, error="", stage="queued", progress=0
            )
        _enqueue_on_commit(job.asset_id, job.purpose)


def _enqueue_on_commit(asset_id: object, purpose: str) -> None:
    from media_pipeline import tasks

    transaction.on_commit(lambda: tasks.enqueue(str(asset_id), purpose))


def notify_failed(asset: MediaAsset | uuid.UUID | str, purpose: str, reason: str) -> None:
    """Tell the tracker a purpose's job failed for good, through
    settings.KADR_MEDIA_FAILED_HOOK (the pipeline never imports the tracker). `asset` is
    the asset or its id. A hook that is missing or raises is logged, never raised: a
    notification must not break the pipeline."""
    try:
        if not isinstance(asset, MediaAsset):
            found = MediaAsset.objects.filter(pk=asset).first()
            if found is None:
                return
            asset = found
        hook = getattr(settings, "KADR_MEDIA_FAILED_HOOK", "")
        if hook:
            import_string(hook)(asset, purpose, reason)
    except Exception:  # noqa: BLE001 — the failure is already recorded on the job
        log.exception("the media-failed hook raised for %s (%s)", asset, purpose)


def original_exists(asset: MediaAsset) -> bool:
    return bool(asset.original_key) and storage.get_storage().exists(asset.original_key)


def original_unchanged(asset: MediaAsset, sha256: str) -> bool:
    """Whether the stored original still has the bytes whose checksum is sha256.

    The whole file is hashed once; after that, while the object's fingerprint (size,
    times, identity; an S3 ETag) is the one recorded then, it is not read again: a
    cut published on four channels is not read four times.
    """
    backend = storage.get_storage()
    fingerprint = backend.fingerprint(asset.original_key)
    if sha256 == asset.sha256 and fingerprint == asset.verified_fingerprint:
        return True
    if stored_sha256(asset) != sha256:
        return False
    if sha256 == asset.sha256:
        MediaAsset.objects.filter(pk=asset.pk, sha256=sha256).update(
            verified_fingerprint=fingerprint
        )
        asset.verified_fingerprint = fingerprint
    return True


def stored_sha256(asset: MediaAsset) -> str:
    """Recompute the original's checksum from storage, streaming."""
    digest = hashlib.sha256()
    with storage.get_storage().open(asset.original_key) as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def job_for(asset: MediaAsset, purpose: str) -> ProcessingJob | None:
    return ProcessingJob.objects.filter(asset=asset, purpose=purpose).first()


def purpose_not_ready_reason(asset: MediaAsset, purpose: str) -> str:
    job = job_for(asset, purpose)
    if job is None:
        return _("The %(purpose)s renditions have not been started.") % {
            "purpose": Purpose(purpose).label
        }
    if job.status == AssetStatus.READY:
        return ""
    if job.status == AssetStatus.FAILED:
        return _("The %(purpose)s renditions failed: %(error)s") % {
            "purpose": Purpose(purpose).label,
            "error": job.error,
        }
    return _("The %(purpose)s renditions are being made (%(progress)s%%).") % {
        "purpose": Purpose(purpose).label,
        "progress": job.progress,
    }
