"""tasks.py: retries only for storage trouble, an attempt counter in the database,
a sweeper for jobs whose worker vanished."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from media_pipeline import ffmpeg, services, tasks
from media_pipeline.models import AssetStatus, ProcessingJob
from media_pipeline.storage import LocalStorage, StorageError
from tests.media_pipeline.pipeline_fixtures import (
    output_files,
    small_ladder_fixture,  # noqa: F401
    stored_asset,
)

pytestmark = pytest.mark.django_db


def test_the_task_survives_a_dying_worker_and_runs_on_the_transcode_queue(
    monkeypatch, settings
) -> None:
    assert tasks.process_asset.acks_late and tasks.process_asset.reject_on_worker_lost
    assert settings.CELERY_TASK_ROUTES["media_pipeline.tasks.process_asset"]["queue"] == "transcode"
    sent = []
    monkeypatch.setattr(
        tasks.process_asset, "apply_async", lambda args, **kw: sent.append((args, kw))
    )
    tasks.enqueue("a1", "review")
    assert sent == [(("a1", "review"), {"queue": "transcode"})]


def test_the_backoff_grows_and_is_capped() -> None:
    assert [tasks.backoff(n) for n in range(3)] == [30, 60, 120]
    assert tasks.backoff(20) == tasks.BACKOFF_MAX


def run_like_a_worker(asset_id: str, purpose: str) -> list[float]:
    """Deliver the task, and deliver it again each time it asks for a retry
    (eager Celery raises Retry instead of queueing); returns the countdowns asked."""
    countdowns: list[float] = []
    for _ in range(10):
        try:
            tasks.process_asset.delay(asset_id, purpose)
            return countdowns
        except Retry as retry:
            countdowns.append(float(retry.when))  # type: ignore[arg-type]
    raise AssertionError("the task kept retrying")


def _flaky_storage(monkeypatch, failures: int) -> list[str]:
    calls: list[str] = []
    real = LocalStorage.save_file

    def save_file(self, key, path, **kw):  # type: ignore[no-untyped-def]
        calls.append(key)
        if "/review/" in key and len([c for c in calls if "/review/" in c]) <= failures:
            raise StorageError("bucket unreachable")
        return real(self, key, path, **kw)

    monkeypatch.setattr(LocalStorage, "save_file", save_file)
    return calls


@pytest.mark.slow
def test_a_storage_error_is_retried_and_then_succeeds(clips, monkeypatch, small_ladder) -> None:
    asset = stored_asset(clips("landscape"))
    _flaky_storage(monkeypatch, failures=1)
    assert run_like_a_worker(str(asset.pk), "review") == [30]
    asset.refresh_from_db()
    job = ProcessingJob.objects.get(asset=asset)
    assert asset.status == AssetStatus.READY and job.error == ""
    assert job.attempts == 2 and job.generation == 2
    # The first attempt's partial upload is gone; one complete set remains.
    assert output_files(asset) and all(
        k.startswith(f"media/{asset.pk}/review/2/") for k in output_files(asset)
    )


@pytest.mark.slow
def test_storage_that_keeps_failing_ends_failed_after_the_attempt_limit(
    clips, monkeypatch, settings, small_ladder
) -> None:
    settings.KADR_MAX_ATTEMPTS = 2
    asset = stored_asset(clips("landscape"))
    _flaky_storage(monkeypatch, failures=1000)
    assert run_like_a_worker(str(asset.pk), "review") == [30]
    asset.refresh_from_db()
    job = ProcessingJob.objects.get(asset=asset)
    assert asset.status == AssetStatus.FAILED and "bucket unreachable" in asset.error
    assert job.status == AssetStatus.FAILED and job.attempts == 2
    assert output_files(asset) == [], "an unreachable bucket never leaves a half set"


def test_a_file_ffmpeg_rejected_is_not_retried(clips, monkeypatch, small_ladder) -> None:
    asset = stored_asset(clips("landscape"))

    def reject(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ffmpeg.FfmpegFailed("Invalid data found when processing input", "…log…")

    monkeypatch.setattr(ffmpeg, "run", reject)
    tasks.process_asset.delay(str(asset.pk), "review")
    asset.refresh_from_db()
    job = ProcessingJob.objects.get(asset=asset)
    assert asset.status == AssetStatus.FAILED and "could not be converted" in asset.error
    assert job.attempts == 1 and job.ffmpeg_log == "…log…"


def _job(asset, **fields) -> ProcessingJob:  # type: ignore[no-untyped-def]
    job, _ = ProcessingJob.objects.get_or_create(asset=asset, purpose="review")
    ProcessingJob.objects.filter(pk=job.pk).update(**fields)
    return job


@pytest.mark.slow
def test_the_sweeper_requeues_a_job_whose_worker_vanished(clips, small_ladder) -> None:
    asset = stored_asset(clips("landscape"))
    past = timezone.now() - timedelta(minutes=1)
    job = _job(asset, status=AssetStatus.PROCESSING, attempts=1, lease_until=past)
    assert tasks.sweep() == 1
    job.refresh_from_db()
    assert job.status == AssetStatus.READY and job.attempts == 2


@pytest.mark.slow
def test_the_sweeper_requeues_a_job_whose_message_was_lost(clips, small_ladder) -> None:
    asset = stored_asset(clips("landscape"))
    job = _job(asset, status=AssetStatus.UPLOADED, queued_at=timezone.now() - timedelta(hours=2))
    assert tasks.sweep() == 1
    job.refresh_from_db()
    assert job.status == AssetStatus.READY


def test_the_sweeper_leaves_a_job_that_is_being_worked_on(clips, monkeypatch) -> None:
    asset = stored_asset(clips("landscape"))
    future = timezone.now() + timedelta(minutes=5)
    _job(asset, status=AssetStatus.PROCESSING, attempts=1, lease_until=future)
    _job_fresh = stored_asset(clips("landscape"))
    _job(_job_fresh, status=AssetStatus.UPLOADED, queued_at=timezone.now())
    monkeypatch.setattr(tasks, "enqueue", lambda *a: pytest.fail("nothing should be re-queued"))
    assert tasks.sweep() == 0


def test_a_file_that_kills_the_worker_every_time_ends_failed(clips, settings) -> None:
    asset = stored_asset(clips("landscape"))
    past = timezone.now() - timedelta(minutes=1)
    job = _job(
        asset, status=AssetStatus.PROCESSING, attempts=settings.KADR_MAX_ATTEMPTS, lease_until=past
    )
    tasks.sweep()
    job.refresh_from_db()
    asset.refresh_from_db()
    assert job.status == AssetStatus.FAILED and "stopped 3 times" in job.error
    assert asset.status == AssetStatus.FAILED


def test_a_second_worker_does_not_take_a_leased_job(clips, monkeypatch) -> None:
    asset = stored_asset(clips("landscape"))
    _job(
        asset,
        status=AssetStatus.PROCESSING,
        attempts=1,
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    monkeypatch.setattr(ffmpeg, "run", lambda *a, **k: pytest.fail("ffmpeg must not run"))
    tasks.process_asset.delay(str(asset.pk), "review")
    assert ProcessingJob.objects.get(asset=asset).attempts == 1


def test_request_processing_queues_the_job_once_the_transaction_commits(
    clips, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    asset = stored_asset(clips("landscape"))
    sent = []
    monkeypatch.setattr(
        tasks, "enqueue", lambda asset_id, purpose: sent.append((asset_id, purpose))
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.request_processing(asset, "review")
        assert sent == []
    assert sent == [(str(asset.pk), "review")]
    job = ProcessingJob.objects.get(asset=asset)
    assert job.status == AssetStatus.UPLOADED and job.queued_at is not None


def test_the_beat_task_cleans_abandoned_uploads(db, users, settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from media_pipeline.models import Upload, UploadStatus

    old = Upload.objects.create(user=users["editor"], filename="a.mp4", size=100)
    fresh = Upload.objects.create(user=users["editor"], filename="b.mp4", size=100)
    hours = settings.KADR_UPLOAD_ABANDON_HOURS + 1
    Upload.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(hours=hours))

    assert tasks.clean_abandoned_uploads() == 1
    assert Upload.objects.get(pk=old.pk).status == UploadStatus.ABORTED
    assert Upload.objects.get(pk=fresh.pk).status == UploadStatus.ACTIVE


@pytest.mark.slow
def test_a_worker_that_lost_its_lease_never_touches_its_replacements_outputs(
    clips, monkeypatch, small_ladder
) -> None:
    from media_pipeline import pipeline
    from tests.media_pipeline.pipeline_fixtures import media_root

    asset = stored_asset(clips("landscape"))
    real_upload = pipeline._upload
    calls = []

    def slow_upload(rendered, prefix, purpose):  # type: ignore[no-untyped-def]
        calls.append(prefix)
        keys = real_upload(rendered, prefix, purpose)
        if len(calls) == 1:
            # Worker A stalls past its lease; the sweeper hands the job to worker B.
            ProcessingJob.objects.filter(asset=asset).update(
                lease_until=timezone.now() - timedelta(seconds=1)
            )
            pipeline.process(str(asset.pk), "review")
        return keys

    monkeypatch.setattr(pipeline, "_upload", slow_upload)
    pipeline.process(str(asset.pk), "review")  # worker A
    job = ProcessingJob.objects.get(asset=asset)
    assert job.status == AssetStatus.READY and job.attempts == 2
    assert len(set(calls)) == 2, "each attempt writes its own generation"
    assert job.output_prefix == calls[1]
    assert all((media_root() / r.key).is_file() for r in job.renditions.all())
    assert (media_root() / job.hls_key).is_file()
    assert all(k.startswith(job.output_prefix + "/") for k in output_files(asset))
