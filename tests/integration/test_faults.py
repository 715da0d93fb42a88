"""The promises under faults, on real services: no upload is lost, and every job ends
ready or failed — with exactly one set of outputs, never ready with files missing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from django.db import transaction

from tests.integration.conftest import (
    IT_BUCKET,
    ServiceProcess,
    free_port,
    port_open,
    queue_length,
    redis_db_url,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A job that takes a few seconds to encode on two cores, so a fault can land mid-way.
SLOW = {"kind": "hd", "duration": 3.0}
FINISHED = ("ready", "failed")


def job_of(asset_id: str, purpose: str = "review"):
    from media_pipeline.models import ProcessingJob

    return ProcessingJob.objects.filter(asset_id=asset_id, purpose=purpose).first()


def wait_for_job(asset_id: str, *, statuses=FINISHED, timeout: float = 180.0, stage: str = ""):
    def check():
        job = job_of(asset_id)
        if job is None:
            return None
        if stage:
            return job if job.stage == stage else None
        return job if job.status in statuses else None

    return wait_until(check, timeout=timeout, what=f"job of {asset_id} to be {stage or statuses}")


def stored_keys(s3_endpoint, prefix: str) -> set[str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint.moto_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=IT_BUCKET, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def assert_one_complete_set(s3_endpoint, asset_id: str, purpose: str = "review") -> None:
    """Ready with one generation of renditions in the database and exactly its files in S3."""
    job = job_of(asset_id, purpose)
    assert job.status == "ready", job.error
    renditions = list(job.renditions.all())
    assert renditions
    names = [r.name for r in renditions]
    assert len(names) == len(set(names))
    assert {r.generation for r in renditions} == {job.generation}
    keys = stored_keys(s3_endpoint, f"media/{asset_id}/{purpose}/")
    # Only the current generation's folder is left, and everything it names is there.
    assert {key.rsplit("/", 1)[0] for key in keys} == {job.output_prefix}
    expected = {r.key for r in renditions} | {
        k for k in (job.hls_key, job.poster_key, job.storyboard_key, job.storyboard_vtt_key) if k
    }
    assert expected <= keys


def upload_cut(users, clips, *, kind: str = "landscape", duration: float = 1.5) -> str:
    """The editor uploads a cut through the API, as the uploader page does."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(users["editor"])
    with clips(kind, duration=duration).open("rb") as fh:
        response = client.post("/api/v1/media/", {"file": fh, "purpose": "review"})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_everything(worker: ServiceProcess) -> list[str]:
    """SIGKILL the worker and every process under it (ffmpeg runs in a group of its
    own), as when a container or a machine dies. Returns the killed commands."""
    assert worker.process is not None
    pids = [worker.process.pid, *descendants(worker.process.pid)]
    commands = []
    for pid in pids:
        with contextlib.suppress(OSError):
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode())
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.process.wait(timeout=30)
    return commands


@contextlib.contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what the web server sends with) at another broker."""
    from config.celery import app

    def reset() -> None:
        from kombu import pools

        # Celery caches connection and producer pools per app and, in kombu, per broker.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    # Celery prefers the CELERY_BROKER_URL environment variable over its configuration.
    previous = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    reset()
    app.conf.broker_url = os.environ["CELERY_BROKER_URL"] = url
    try:
        yield
    finally:
        reset()
        app.conf.broker_url = previous[0]
        if previous[1] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous[1]


@contextlib.contextmanager
def redis_server(port: int, tmp_path: Path) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        + ["no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: port_open("127.0.0.1", port), timeout=20, what="redis-server")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_it_redoes_a_transcode_whose_worker_was_killed(
    users, clips, start_worker, celery_worker, s3_endpoint
):
    # Short lease and visibility timeout so recovery takes seconds, not the production 15 min.
    fast_recovery = {"KADR_LEASE_SECONDS": "6", "CELERY_VISIBILITY_TIMEOUT": "5"}
    celery_worker.stop()
    doomed = start_worker(**fast_recovery)
    asset_id = upload_cut(users, clips, **SLOW)
    wait_for_job(asset_id, stage="encoding")
    wait_until(
        lambda: any("ffmpeg" in c for c in descendants_commands(doomed)),
        timeout=30,
        what="ffmpeg to run",
    )
    killed = kill_everything(doomed)
    assert any("ffmpeg" in command for command in killed)
    assert job_of(asset_id).status == "processing"

    rescuer = start_worker(**fast_recovery)
    try:
        from django.utils import timezone

        from media_pipeline import tasks

        # The redelivered message (visibility timeout) or the sweeper (expired lease):
        # whichever comes first redoes the job; the lease keeps it to one run at a time.
        wait_until(
            lambda: (
                (j := job_of(asset_id)).attempts >= 2
                or j.lease_until is None
                or j.lease_until < timezone.now()
            ),
            timeout=60,
            what="the dead worker's lease to expire",
        )
        with override_lease(6):
            tasks.sweep()
        job = wait_for_job(asset_id)
    finally:
        rescuer.stop()
    assert job.attempts >= 2
    assert_one_complete_set(s3_endpoint, asset_id)


def descendants_commands(worker: ServiceProcess) -> list[str]:
    assert worker.process is not None
    commands = []
    for pid in descendants(worker.process.pid):
        with contextlib.suppress(OSError):
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode())
    return commands


@contextlib.contextmanager
def override_lease(seconds: int) -> Iterator[None]:
    from django.test import override_settings

    with override_settings(KADR_LEASE_SECONDS=seconds):
        yield


def test_it_retries_while_s3_is_unreachable_and_is_ready_once_it_is_back(
    users, clips, live_worker, s3_link, s3_endpoint
):
    asset_id = upload_cut(users, clips, **SLOW)
    wait_for_job(asset_id, stage="encoding")
    s3_link.cut()
    # The renditions cannot be stored: the job waits to retry and is not ready.
    job = wait_until(
        # Back in the queue with the storage error recorded (in the site's language).
        lambda: (j := job_of(asset_id)) and j.error and j.status == "uploaded" and j,
        timeout=120,
        what="the storage error to be recorded",
        detail=lambda: f"{job_of(asset_id).__dict__}\n{live_worker.log()[-4000:]}",
    )
    assert job.status != "ready"
    from media_pipeline.models import MediaAsset

    assert MediaAsset.objects.get(pk=asset_id).status != "ready"
    s3_link.restore()
    job = wait_for_job(asset_id, timeout=240)
    assert_one_complete_set(s3_endpoint, asset_id)


def test_it_keeps_an_upload_made_while_redis_is_down_and_sweeps_it_into_the_queue(
    users, clips, start_worker, s3_endpoint, tmp_path
):
    from media_pipeline import tasks
    from media_pipeline.models import MediaAsset

    port = free_port()
    url = redis_db_url(port)
    assert not port_open("127.0.0.1", port)
    with broker(url):
        asset_id = upload_cut(users, clips)
        # Nothing lost: the original is stored and the job waits in the database.
        asset = MediaAsset.objects.get(pk=asset_id)
        assert stored_keys(s3_endpoint, asset.original_key) == {asset.original_key}
        assert job_of(asset_id).status == "uploaded"

        with redis_server(port, tmp_path):
            worker = start_worker(CELERY_BROKER_URL=url)
            try:
                assert tasks.sweep() >= 1
                wait_for_job(asset_id)
            finally:
                worker.stop()
    assert_one_complete_set(s3_endpoint, asset_id)


def test_it_enqueues_nothing_when_the_transaction_rolls_back(users, clips, broker_url):
    from media_pipeline import uploads
    from media_pipeline.models import MediaAsset

    # A broker database no worker reads, so a message that was sent would stay there.
    silent = broker_url.rsplit("/", 1)[0] + "/8"
    import redis

    redis.Redis.from_url(silent).flushdb()
    with broker(silent):
        with pytest.raises(RuntimeError), transaction.atomic():
            asset = uploads.create_asset_from_file(
                clips("tiny"), user=users["editor"], original_name="cut.mp4", purpose="review"
            )
            raise RuntimeError("the request failed after the upload was stored")
        assert not MediaAsset.objects.filter(pk=asset.pk).exists()
        assert queue_length(silent, "transcode") == 0

        # The same work, committed, sends exactly one message.
        with transaction.atomic():
            uploads.create_asset_from_file(
                clips("tiny"), user=users["editor"], original_name="cut.mp4", purpose="review"
            )
        assert queue_length(silent, "transcode") == 1
    redis.Redis.from_url(silent).flushdb()


ORDER = {"uploaded": 0, "processing": 1, "ready": 2, "failed": 2}


def test_it_makes_one_set_of_outputs_when_a_task_is_delivered_twice_at_once(
    users, clips, live_worker, s3_endpoint
):
    from media_pipeline import tasks
    from media_pipeline.models import MediaAsset

    asset_id = upload_cut(users, clips, kind="landscape", duration=2.0)
    # Two more deliveries of the same task, at the same moment, to two pool processes.
    barrier = threading.Barrier(2)

    def send() -> None:
        barrier.wait()
        tasks.process_asset.apply_async((asset_id, "review"), queue="transcode")

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    seen: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = MediaAsset.objects.get(pk=asset_id).status
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in FINISHED:
            break
        time.sleep(0.05)
    for sender in senders:
        sender.join()
    # Let the duplicates finish (they find the job done) and check nothing moved back.
    time.sleep(3)
    seen.append(MediaAsset.objects.get(pk=asset_id).status)
    ranks = [ORDER[s] for s in seen]
    assert ranks == sorted(ranks), seen
    assert seen[-1] == "ready"
    job = job_of(asset_id)
    assert job.generation == 1
    assert_one_complete_set(s3_endpoint, asset_id)
