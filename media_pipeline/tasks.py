"""Thin Celery tasks around the pipeline: they take ids and call the pipeline.

Only storage and network errors are retried (with backoff); a file that ffprobe
or ffmpeg refused is marked failed by the pipeline and never retried. The
attempt counter lives in the database, so a worker that dies mid-job counts too.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob
from media_pipeline.storage import StorageError

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds; doubled per retry
BACKOFF_MAX = 15 * 60


def backoff(retries: int) -> int:
    return int(min(BACKOFF_MAX, BACKOFF_BASE * 2**retries))


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # the database's attempt counter decides when to stop
)
def process_asset(self, asset_id: str, purpose: str) -> None:  # type: ignore[no-untyped-def]
    from media_pipeline import pipeline

    try:
        pipeline.process(asset_id, purpose)
    except StorageError as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


def enqueue(asset_id: str, purpose: str) -> None:
    """Send the job to the broker. When the broker is down, the upload still succeeds:
    the job stays queued in the database with no send time, and the next sweep after
    the broker is back sends it."""
    try:
        process_asset.apply_async((asset_id, purpose), queue="transcode")
    except (KombuOperationalError, OSError) as exc:
        log.warning("broker unreachable, %s %s left for the sweeper: %r", asset_id, purpose, exc)
        ProcessingJob.objects.filter(
            asset_id=uuid.UUID(str(asset_id)), purpose=purpose, status=AssetStatus.UPLOADED
        ).update(queued_at=None)


@shared_task
def sweep() -> int:
    """Re-queue jobs whose worker vanished (lease expired) or whose message was lost."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.KADR_LEASE_SECONDS)
    requeued = 0
    expired = ProcessingJob.objects.filter(
        Q(lease_until__lt=now) | Q(lease_until__isnull=True), status=AssetStatus.PROCESSING
    )
    lost = ProcessingJob.objects.filter(
        Q(queued_at__lt=stale) | Q(queued_at__isnull=True), status=AssetStatus.UPLOADED
    )
    for job in list(expired) + list(lost):
        # Mark it queued again first (compare-and-swap), so two sweepers send it once.
        moved = ProcessingJob.objects.filter(
            pk=job.pk, status=job.status, queued_at=job.queued_at, lease_until=job.lease_until
        ).update(status=AssetStatus.UPLOADED, queued_at=now, lease_until=None)
        if moved == 1:
            enqueue(str(job.asset_id), job.purpose)
            requeued += 1
    # Assets that arrived but whose first job was never created.
    for asset in MediaAsset.objects.filter(
        status=AssetStatus.UPLOADED, jobs__isnull=True, updated_at__lt=stale
    ).exclude(original_key=""):
        from media_pipeline import services

        services.request_processing(asset, asset.purpose)
        requeued += 1
    requeued += _requeue_checksums(now)
    if requeued:
        log.info("sweep re-queued %s media jobs", requeued)
    return requeued


def _requeue_checksums(now: datetime) -> int:
    """Direct-to-S3 uploads whose checksum task never ran (the broker was down, or the
    message was lost): without a sha256 a cut cannot be approved. Each is sent again at
    most once per KADR_CHECKSUM_RETRY_MINUTES, since hashing a large object takes a while."""
    from media_pipeline import uploads

    waited = now - timedelta(minutes=settings.KADR_CHECKSUM_RETRY_MINUTES)
    sent = 0
    for asset in MediaAsset.objects.filter(sha256="", updated_at__lt=waited).exclude(
        original_key=""
    ):
        if MediaAsset.objects.filter(pk=asset.pk, sha256="", updated_at=asset.updated_at).update(
            updated_at=now
        ):
            uploads.queue_checksum(str(asset.pk))
            sent += 1
    return sent


@shared_task
def clean_abandoned_uploads() -> int:
    """Remove uploads left unfinished for longer than KADR_UPLOAD_ABANDON_HOURS."""
    from media_pipeline import uploads

    return int(uploads.clean_abandoned() or 0)
