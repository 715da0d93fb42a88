"""/healthz: what a load balancer and the compose healthcheck see."""

from __future__ import annotations

import socket

import pytest

from media_pipeline import storage


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_it_reports_every_service_ok_on_the_embedded_default(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }


@pytest.mark.django_db
def test_it_leaves_no_probe_object_behind(client, settings):
    client.get("/healthz")
    assert not any((settings.KADR_MEDIA_ROOT / "health").glob("*"))


@pytest.mark.django_db
def test_it_answers_503_when_the_broker_is_unreachable(client, settings, closed_port):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"].startswith("error")
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_it_answers_503_when_storage_cannot_be_written(client, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    settings.KADR_MEDIA_ROOT = blocked
    storage.reset()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"].startswith("error")


@pytest.mark.django_db
def test_it_answers_probes_on_any_host_name_and_without_https(client, settings):
    settings.ALLOWED_HOSTS = ["kadr.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="172.18.0.5:8000")
    assert response.status_code == 200
    # Everything else still gets the host check.
    assert client.get("/login/", HTTP_HOST="172.18.0.5:8000").status_code == 400
