"""services.request_processing: asking twice for a job already queued sends it once;
a job whose message was lost long ago is still sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from media_pipeline import services, tasks
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(
        tasks, "enqueue", lambda asset_id, purpose: sent.append((asset_id, purpose))
    )
    return sent


def queued_for_review(capture_on_commit) -> MediaAsset:
    """A new asset whose review job was requested and sent (callbacks run)."""
    asset = factories.ready_asset(purposes=())
    with capture_on_commit(execute=True):
        services.request_processing(asset, "review")
    return asset


def test_it_queues_a_job_once_when_asked_twice(sent, django_capture_on_commit_callbacks) -> None:
    asset = queued_for_review(django_capture_on_commit_callbacks)
    queued_at = ProcessingJob.objects.get(asset=asset).queued_at
    with django_capture_on_commit_callbacks(execute=True):
        job = services.request_processing(asset, "review")
    assert sent == [(str(asset.pk), "review")]
    job.refresh_from_db()
    assert job.status == AssetStatus.UPLOADED and job.queued_at == queued_at


def test_it_queues_again_a_job_whose_message_was_lost(
    sent, settings, django_capture_on_commit_callbacks
) -> None:
    asset = queued_for_review(django_capture_on_commit_callbacks)
    long_ago = timezone.now() - timedelta(seconds=settings.KADR_LEASE_SECONDS + 60)
    ProcessingJob.objects.filter(asset=asset).update(queued_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_processing(asset, "review")
    assert sent == [(str(asset.pk), "review")] * 2
    queued_at = ProcessingJob.objects.get(asset=asset).queued_at
    assert queued_at is not None and queued_at > long_ago


def test_it_queues_again_a_job_the_broker_never_received(
    sent, django_capture_on_commit_callbacks
) -> None:
    asset = queued_for_review(django_capture_on_commit_callbacks)
    # What tasks.enqueue records when the broker is down.
    ProcessingJob.objects.filter(asset=asset).update(queued_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_processing(asset, "review")
    assert len(sent) == 2


def test_the_sweeper_still_rescues_a_stuck_queued_job(
    sent, settings, django_capture_on_commit_callbacks
) -> None:
    asset = queued_for_review(django_capture_on_commit_callbacks)
    long_ago = timezone.now() - timedelta(seconds=settings.KADR_LEASE_SECONDS + 60)
    ProcessingJob.objects.filter(asset=asset).update(queued_at=long_ago)
    assert tasks.sweep() == 1
    assert len(sent) == 2
