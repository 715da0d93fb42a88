"""The commands docker-compose.yml runs start here, on the machine's PostgreSQL and Redis
and the test S3 server: migrate then gunicorn (web), celery worker, celery beat."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import BIN, ROOT, ServiceProcess, free_port
from tests.test_compose import command_of, web_steps

pytestmark = pytest.mark.integration


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET without following redirects (a redirect to HTTPS is an answer here)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=15)
    try:
        conn.request("GET", parts.path or "/", headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def local(argv: list[str]) -> list[str]:
    """A compose command run from this virtualenv (python, gunicorn, celery)."""
    return [str(BIN / argv[0]), *argv[1:]]


@pytest.fixture(scope="module")
def web_server(service_env, tmp_path_factory) -> Iterator[ServiceProcess]:
    migrate, gunicorn = web_steps()
    tmp_path = tmp_path_factory.mktemp("web")
    static_root = tmp_path / "static"
    env = {**service_env, "STATIC_ROOT": str(static_root)}
    # The image collects static files at build time.
    subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    result = subprocess.run(
        local(migrate), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    port = free_port()
    env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{port} --workers 1"
    server = ServiceProcess(
        argv=local(gunicorn),
        env=env,
        log_path=tmp_path / "gunicorn.log",
        ready_marker="Booting worker",
    )
    server.start()
    server.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_it_serves_healthz_from_the_compose_web_command(web_server):
    status, body = fetch(f"{web_server.url}/healthz")
    assert status == 200, body
    assert json.loads(body) == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }


@pytest.mark.django_db(transaction=True)
def test_it_serves_pages_and_compressed_static_files_in_production_mode(web_server):
    https = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    status, page = fetch(f"{web_server.url}/login/", https)
    assert status == 200
    # A hashed (manifest) static URL, served by whitenoise from gunicorn.
    stylesheet = next(
        part.split('"')[0]
        for part in page.decode().split('href="')[1:]
        if part.startswith("/static/") and ".css" in part.split('"')[0]
    )
    assert Path(stylesheet).stem.count(".") >= 1
    status, _ = fetch(f"{web_server.url}{stylesheet}", https)
    assert status == 200
    # Plain HTTP from a browser is sent to HTTPS.
    status, _ = fetch(f"{web_server.url}/login/", {"Host": "127.0.0.1"})
    assert status == 301


@pytest.mark.django_db(transaction=True)
def test_it_reports_storage_down_from_the_compose_web_command(web_server, s3_endpoint):
    s3_endpoint.proxy.fail_next = 10**6
    status, body = fetch(f"{web_server.url}/healthz")
    assert status == 503
    checks = json.loads(body)["checks"]
    assert checks["storage"].startswith("error")
    assert checks["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_it_starts_the_compose_worker_on_both_queues(live_worker):
    from config.celery import app

    replies = app.control.ping(timeout=5)
    assert replies, live_worker.log()[-2000:]
    queues = {
        queue["name"]
        for per_worker in (app.control.inspect(timeout=5).active_queues() or {}).values()
        for queue in per_worker
    }
    assert queues >= {"default", "transcode"}


@pytest.mark.django_db(transaction=True)
def test_it_starts_compose_beat_which_schedules_the_sweeper(service_env, tmp_path, live_worker):
    argv = command_of("beat")
    schedule = argv.index("--schedule") + 1
    argv[schedule] = str(tmp_path / "celerybeat-schedule")
    beat = ServiceProcess(
        argv=local(argv),
        env={**service_env, "KADR_SWEEP_INTERVAL": "1"},
        log_path=tmp_path / "beat.log",
        ready_marker="Sending due task sweep-stuck-media",
    )
    try:
        beat.start()
    finally:
        beat.stop()
    assert "media_pipeline.tasks.sweep" in beat.log()
