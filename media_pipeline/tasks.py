"""Thin Celery tasks around the pipeline: they take ids and call services.

(Filled in by the media pipeline work: process_asset, sweep, clean_abandoned_uploads.)
"""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_asset(asset_id: str, purpose: str) -> None:
    from media_pipeline import pipeline

    pipeline.process(asset_id, purpose)


def enqueue(asset_id: str, purpose: str) -> None:
    process_asset.apply_async((asset_id, purpose), queue="transcode")


@shared_task
def sweep() -> None:
    """Re-queue jobs stuck past their lease."""


@shared_task
def clean_abandoned_uploads() -> None:
    """Remove uploads left unfinished for longer than KADR_UPLOAD_ABANDON_HOURS."""
