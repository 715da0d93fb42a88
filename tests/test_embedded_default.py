"""The embedded default as `make run` starts it: SQLite, local media, and a real Celery
worker on kombu's filesystem broker — no Redis, Postgres or S3. A file handed to the
pipeline in one process is processed by the worker in another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def _env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KADR_", "DATABASE_", "CELERY_"))
    }
    env.update({"KADR_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings"})
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout


@pytest.mark.slow
def test_it_processes_an_upload_with_a_worker_on_the_filesystem_broker(tmp_path, clips):
    env = _env(tmp_path / "var")
    _manage(env, "migrate", "--noinput")
    clip = clips("landscape")
    asset_id = (
        _manage(
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
                _manage(
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
