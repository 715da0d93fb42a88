"""POST /api/v1/versions/{id}/submit/, …/approve/, …/request-changes/ and the file binding."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from crew import workflow
from crew.exceptions import Conflict
from crew.models import Channel, Status, StatusChange
from media_pipeline.models import AssetStatus, MediaAsset
from tests import factories


def _editing_with(make_request, users, asset):
    request = make_request(Status.SHOT)
    version = workflow.add_version(request, by=users["editor"], asset=asset)
    return request, version


def test_it_submits_a_ready_cut(api, make_request, users):
    request, version = _editing_with(
        make_request, users, factories.ready_asset(uploaded_by=users["editor"])
    )

    response = api("editor").post(f"/api/v1/versions/{version.pk}/submit/", {}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "in_review"
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


def test_it_refuses_to_submit_a_cut_still_processing(api, make_request, users):
    _, version = _editing_with(
        make_request, users, factories.processing_asset(uploaded_by=users["editor"])
    )

    response = api("editor").post(f"/api/v1/versions/{version.pk}/submit/")

    assert response.status_code == 409
    assert "processed" in response.json()["detail"]


def test_it_refuses_to_submit_a_cut_whose_media_failed(api, make_request, users):
    asset = factories.ready_asset(uploaded_by=users["editor"])
    _, version = _editing_with(make_request, users, asset)
    MediaAsset.objects.filter(pk=asset.pk).update(
        status=AssetStatus.FAILED, error="moov atom not found"
    )

    response = api("editor").post(f"/api/v1/versions/{version.pk}/submit/")

    assert response.status_code == 409
    assert "moov atom not found" in response.json()["detail"]


def test_it_refuses_the_press_head_approving_their_own_cut(api, make_request, users):
    request = make_request(Status.SHOT)
    version = workflow.add_version(
        request, by=users["press"], asset=factories.ready_asset(uploaded_by=users["press"])
    )
    workflow.submit_version(version, by=users["press"])

    response = api("press").post(f"/api/v1/versions/{version.pk}/approve/")

    assert response.status_code == 403
    assert "yourself" in response.json()["detail"]


def test_it_refuses_crew_approving(api, make_request):
    version = make_request(Status.IN_REVIEW).versions.get()

    assert api("operator").post(f"/api/v1/versions/{version.pk}/approve/").status_code == 403


def test_it_refuses_approving_a_replaced_cut(api, make_request, users):
    request = make_request(Status.CHANGES_REQUESTED)
    v1 = request.versions.get()
    v2 = workflow.add_version(
        request, by=users["editor"], asset=factories.ready_asset(uploaded_by=users["editor"])
    )
    workflow.submit_version(v2, by=users["editor"])

    response = api("press").post(f"/api/v1/versions/{v1.pk}/approve/")

    assert response.status_code == 409
    assert "v2" in response.json()["detail"]


def test_it_needs_a_note_to_request_changes(api, make_request):
    version = make_request(Status.IN_REVIEW).versions.get()

    empty = api("press").post(f"/api/v1/versions/{version.pk}/request-changes/", {"note": " "})
    ok = api("press").post(
        f"/api/v1/versions/{version.pk}/request-changes/", {"note": "Додайте титри"}
    )

    assert empty.status_code == 400
    assert ok.status_code == 200
    assert ok.json()["state"] == "changes_requested"
    audit = StatusChange.objects.filter(
        subject=StatusChange.Subject.VERSION, subject_id=version.pk, to_status="changes_requested"
    ).get()
    assert audit.note == "Додайте титри"
    assert audit.actor.username == "press"


def test_it_records_the_approved_files_checksum(api, make_request):
    version = make_request(Status.IN_REVIEW).versions.get()

    response = api("press").post(f"/api/v1/versions/{version.pk}/approve/", {"note": "Гарно"})

    assert response.status_code == 200
    assert response.json()["state"] == "approved"
    assert response.json()["approved_sha256"] == version.media.sha256
    assert response.json()["decided_by"]["username"] == "press"


def test_it_refuses_to_publish_a_cut_whose_stored_file_changed(make_request, users):
    request = make_request(Status.APPROVED)
    version = request.versions.get()
    original = Path(settings.KADR_MEDIA_ROOT) / version.media.original_key
    original.write_bytes(b"someone swapped the file")

    with pytest.raises(Conflict, match="no longer matches"):
        workflow.publish(request, by=users["press"], channel=Channel.objects.get(slug="website"))
    request.refresh_from_db()
    assert request.status == Status.APPROVED
