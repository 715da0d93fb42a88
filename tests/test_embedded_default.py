"""The embedded default as `make run` starts it: SQLite, local media, and a real Celery
worker on kombu's filesystem broker — no Redis, Postgres or S3. A file handed to the
pipeline in one process is processed by the worker in another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.processes import ROOT, VENV_BIN, kadr_env, manage


@pytest.mark.slow
def test_it_processes_an_upload_with_a_worker_on_the_filesystem_broker(tmp_path, clips):
    env = kadr_env(tmp_path / "var")
    manage(env, "migrate", "--noinput")
    clip = clips("landscape")
    asset_id = (
        manage(
            env,
            "shell",
            "-c",
            "from pathlib import Path; from django.contrib.auth.models import User;"
            "from media_pipeline.uploads import create_asset_from_file;"
            "u = User.objects.create(username='editor');"
            f"a = create_asset_from_file(Path({str(clip)!r}), user=u, original_name='cut.mp4', purpose='footage');"
            "print(a.pk)",
        )
        .strip()
        .splitlines()[-1]
    )
    # Nothing is processed before a worker runs: the job waits in the queue folder.
    assert list((tmp_path / "var" / "celery" / "queue").iterdir())

    worker = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-B",
            "-Q",
            "default,transcode",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(tmp_path / "var" / "celerybeat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        state: dict = {}
        while time.monotonic() < deadline:
            state = json.loads(
                manage(
                    env,
                    "shell",
                    "-c",
                    "import json; from media_pipeline.models import MediaAsset;"
                    f"a = MediaAsset.objects.get(pk={asset_id!r});"
                    "print(json.dumps({'status': a.status, 'renditions': [r.name for j in a.jobs.all() for r in j.renditions.all()]}))",
                )
                .strip()
                .splitlines()[-1]
            )
            if state["status"] in ("ready", "failed"):
                break
            time.sleep(2)
        assert state["status"] == "ready", state
        assert state["renditions"], state
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
