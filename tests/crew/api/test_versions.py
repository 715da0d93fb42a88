"""POST/GET /api/v1/requests/{id}/versions/ and GET /api/v1/versions/{id}/."""

from __future__ import annotations

from crew.models import Status
from tests import factories


def test_it_adds_the_first_cut_and_moves_the_request_to_editing(api, make_request, users):
    request = make_request(Status.SHOT)
    asset = factories.ready_asset(uploaded_by=users["editor"])

    response = api("editor").post(
        f"/api/v1/requests/{request.pk}/versions/",
        {"media": str(asset.pk), "notes": "Перший монтаж"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == 1
    assert body["notes"] == "Перший монтаж"
    assert body["uploaded_by"]["username"] == "editor"
    assert body["media"] == str(asset.pk)
    assert body["media_status"] == "ready"
    request.refresh_from_db()
    assert request.status == Status.EDITING


def test_it_numbers_later_cuts_and_lists_them_newest_first(api, make_request, users):
    request = make_request(Status.CHANGES_REQUESTED)
    asset = factories.ready_asset(uploaded_by=users["editor"])
    created = api("editor").post(
        f"/api/v1/requests/{request.pk}/versions/", {"media": str(asset.pk)}, format="json"
    )
    assert created.json()["number"] == 2

    listed = api("press").get(f"/api/v1/requests/{request.pk}/versions/").json()

    assert [v["number"] for v in listed] == [2, 1]
    assert listed[1]["state"] == "superseded"


def test_it_shows_one_cut(api, make_request):
    request = make_request(Status.IN_REVIEW)
    version = request.versions.get()

    body = api("health").get(f"/api/v1/versions/{version.pk}/").json()

    assert body["id"] == version.pk
    assert body["state"] == "in_review"
    assert body["duration"] == 10.0


def test_it_hides_cuts_of_another_department(api, make_request):
    request = make_request(Status.IN_REVIEW, department="health")
    version = request.versions.get()

    assert api("education").get(f"/api/v1/versions/{version.pk}/").status_code == 404
    assert api("education").get(f"/api/v1/requests/{request.pk}/versions/").status_code == 404


def test_it_refuses_a_cut_from_a_requester(api, make_request, users):
    request = make_request(Status.SHOT)
    asset = factories.ready_asset(uploaded_by=users["health"])

    response = api("health").post(
        f"/api/v1/requests/{request.pk}/versions/", {"media": str(asset.pk)}, format="json"
    )

    assert response.status_code == 403


def test_it_rejects_unknown_media(api, make_request):
    request = make_request(Status.SHOT)

    response = api("editor").post(
        f"/api/v1/requests/{request.pk}/versions/",
        {"media": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )

    assert response.status_code == 400
    assert "media" in response.json()


def test_it_refuses_a_cut_before_the_shoot(api, make_request, users):
    request = make_request(Status.SCHEDULED)
    asset = factories.ready_asset(uploaded_by=users["editor"])

    response = api("editor").post(
        f"/api/v1/requests/{request.pk}/versions/", {"media": str(asset.pk)}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["detail"]


def test_the_review_endpoints_describe_themselves_without_warnings(users):
    """`manage.py spectacular --validate --fail-on-warn`, limited to these endpoints."""
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    from crew.api import review

    GENERATOR_STATS.reset()
    patterns = [path("api/v1/", include(review.urlpatterns))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, (
        dict(GENERATOR_STATS._warn_cache),
        dict(GENERATOR_STATS._error_cache),
    )
    assert "/api/v1/versions/{id}/comments/" in schema["paths"]
