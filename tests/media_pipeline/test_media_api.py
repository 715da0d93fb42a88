"""POST /api/v1/media/ and GET /api/v1/media/{id}/ as the API contract promises them."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob
from tests import factories


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr("media_pipeline.tasks.enqueue", lambda a, p: calls.append((a, p)))
    return calls


def test_it_accepts_a_file_in_one_request(api, queued, django_capture_on_commit_callbacks):
    content = b"not really a video, but bytes all the same" * 100
    with django_capture_on_commit_callbacks(execute=True):
        response = api("editor").post(
            "/api/v1/media/",
            {"file": SimpleUploadedFile("Сюжет <1>.mp4", content), "purpose": "review"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "uploaded"
    asset = MediaAsset.objects.get(pk=body["id"])
    assert asset.sha256 == hashlib.sha256(content).hexdigest()
    assert asset.original_key == f"media/{asset.pk}/original"
    assert asset.original_name == "Сюжет <1>.mp4"
    assert queued == [(str(asset.pk), "review")]


def test_it_streams_a_browser_upload_through_the_size_limit(users, settings):
    """A browser (session and CSRF token) gets the same limit as a script."""
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    settings.KADR_MAX_UPLOAD_BYTES = 100_000
    token = _get_new_csrf_string()
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["editor"])
    client.cookies["csrftoken"] = token
    small = client.post(
        "/api/v1/media/", {"file": SimpleUploadedFile("a.mp4", b"x" * 5000)}, HTTP_X_CSRFTOKEN=token
    )
    assert small.status_code == 201, small.content
    large = client.post(
        "/api/v1/media/",
        {"file": SimpleUploadedFile("b.mp4", b"x" * 90_000), "pad": "y" * 20_000},
        HTTP_X_CSRFTOKEN=token,
    )
    assert large.status_code == 201
    too_large = client.post(
        "/api/v1/media/",
        {"file": SimpleUploadedFile("c.mp4", b"x" * 100_001)},
        HTTP_X_CSRFTOKEN=token,
    )
    assert too_large.status_code == 413
    assert MediaAsset.objects.count() == 2


def test_it_refuses_uploads_from_outside_the_press_service(api):
    response = api("health").post(
        "/api/v1/media/", {"file": SimpleUploadedFile("a.mp4", b"abc")}, format="multipart"
    )
    assert response.status_code == 403
    assert not MediaAsset.objects.exists()


def test_it_asks_for_a_login(api):
    assert api(None).get("/api/v1/media/00000000-0000-0000-0000-000000000000/").status_code in (
        401,
        403,
    )


def test_it_shows_the_best_ready_purpose_with_signed_urls(api, users, client):
    asset = factories.ready_asset(uploaded_by=users["editor"])
    ProcessingJob.objects.filter(asset=asset, purpose="publish").update(
        status=AssetStatus.PROCESSING, progress=30, stage="encoding"
    )
    ProcessingJob.objects.filter(asset=asset, purpose="review").update(
        poster_key=f"{asset.prefix}/review/1/poster.jpg",
        hls_key=f"{asset.prefix}/review/1/master.m3u8",
    )
    response = api("operator").get(f"/api/v1/media/{asset.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["sha256"] == asset.sha256
    assert body["purpose"] == "review"  # publish is still encoding
    assert body["purposes"]["publish"] == {
        "status": "processing",
        "progress": 30,
        "stage": "encoding",
        "error": "",
    }
    assert [r["name"] for r in body["renditions"]] == ["720p"]
    assert body["renditions"][0]["url"].startswith("http://testserver/m/")
    assert body["poster_url"].startswith("http://testserver/m/") and body["hls_url"].endswith(
        "master.m3u8"
    )
    original = client.get(body["original_url"])
    assert original.status_code == 200
    assert b"".join(original.streaming_content) == b"fake cut bytes"


def test_it_prefers_publishing_outputs_once_they_are_ready(api, users):
    asset = factories.ready_asset(uploaded_by=users["editor"])
    assert api("press").get(f"/api/v1/media/{asset.pk}/").json()["purpose"] == "publish"


def test_it_answers_404_for_media_the_user_may_not_see(api, users):
    asset = factories.ready_asset(uploaded_by=users["editor"])
    assert api("education").get(f"/api/v1/media/{asset.pk}/").status_code == 404
    assert (
        api("press").get("/api/v1/media/00000000-0000-0000-0000-000000000000/").status_code == 404
    )


def test_it_lets_a_department_see_its_own_cut(api, make_request):
    request = make_request("in_review", department="health")
    asset = request.versions.get().media
    assert api("health").get(f"/api/v1/media/{asset.pk}/").status_code == 200
    assert api("education").get(f"/api/v1/media/{asset.pk}/").status_code == 404


def test_it_documents_the_resumable_protocol_in_the_schema(api):
    schema = api("press").get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/v1/media/uploads/" in paths
    assert "patch" in paths["/api/v1/media/uploads/{id}/"]
    assert "/api/v1/media/uploads/{id}/parts/{number}/" in paths
    assert "/api/v1/media/uploads/{id}/complete/" in paths
    params = paths["/api/v1/media/uploads/{id}/"]["patch"]["parameters"]
    assert any(p["name"] == "Upload-Offset" for p in params)
