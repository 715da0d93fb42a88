"""The pipeline's public interface: what the tracker and the API call.

Writes of an asset's status live in media_pipeline (this module and
pipeline.py); the tracker only asks for processing and reads the results.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from media_pipeline import storage
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Purpose

HASH_CHUNK = 4 * 1024 * 1024


def request_processing(asset: MediaAsset, purpose: str) -> ProcessingJob:
    """Create (or re-arm) the purpose's job and queue it once the transaction commits.

    A job that is ready is kept as it is; reprocess() is for redoing one.
    """
    if purpose not in Purpose.values:
        raise ValueError(_("Unknown purpose “%(purpose)s”.") % {"purpose": purpose})
    job, created = ProcessingJob.objects.get_or_create(asset=asset, purpose=purpose)
    if not created and job.status in (AssetStatus.READY, AssetStatus.PROCESSING):
        return job
    ProcessingJob.objects.filter(pk=job.pk).update(
        status=AssetStatus.UPLOADED, queued_at=timezone.now(), error=""
    )
    _enqueue_on_commit(asset.pk, purpose)
    return job


def _enqueue_on_commit(asset_id: object, purpose: str) -> None:
    from media_pipeline import tasks

    transaction.on_commit(lambda: tasks.enqueue(str(asset_id), purpose))


def original_exists(asset: MediaAsset) -> bool:
    return bool(asset.original_key) and storage.get_storage().exists(asset.original_key)


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
