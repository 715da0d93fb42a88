"""A requester of Education can neither see nor act on a Health request: always 404."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crew.models import ShootRequest
from tests.factories import user


@pytest.fixture
def health_request(make_request):
    return make_request("scheduled", department="health", title="Амбулаторія №4: нове УЗД")


def test_it_leaves_the_request_out_of_the_list(api, health_request, make_request):
    own = make_request("submitted", department="education", title="Школа №8: укриття")
    rows = api("education").get("/api/v1/requests/").json()["results"]
    assert [row["id"] for row in rows] == [own.pk]


def test_it_cannot_be_found_by_searching_or_filtering(api, health_request):
    client = api("education")
    for params in (
        {"search": "УЗД"},
        {"department": health_request.department_id},
        {"status": "scheduled"},
    ):
        assert client.get("/api/v1/requests/", params).json()["count"] == 0


@pytest.mark.parametrize("suffix", ["", "history/"])
def test_it_answers_404_to_reads(api, health_request, suffix):
    response = api("education").get(f"/api/v1/requests/{health_request.pk}/{suffix}")
    assert response.status_code == 404


@pytest.mark.parametrize("action", ["accept", "decline", "cancel"])
def test_it_answers_404_to_actions(api, health_request, action):
    response = api("education").post(
        f"/api/v1/requests/{health_request.pk}/{action}/", {"note": "x"}, format="json"
    )
    assert response.status_code == 404
    assert ShootRequest.objects.get(pk=health_request.pk).status == "scheduled"


def test_it_answers_404_to_edits(api, health_request):
    response = api("education").patch(
        f"/api/v1/requests/{health_request.pk}/", {"title": "Зламано"}, format="json"
    )
    assert response.status_code == 404
    assert ShootRequest.objects.get(pk=health_request.pk).title == "Амбулаторія №4: нове УЗД"


def test_it_hides_the_requests_shoots(api, health_request):
    shoot = health_request.shoots.get()
    client = api("education")
    assert client.get("/api/v1/shoots/").json()["count"] == 0
    assert client.get("/api/v1/shoots/", {"request": health_request.pk}).json()["count"] == 0
    assert client.get(f"/api/v1/shoots/{shoot.pk}/").status_code == 404
    for action in ("complete", "cancel", "footage"):
        response = client.post(f"/api/v1/shoots/{shoot.pk}/{action}/", {"note": "x"}, format="json")
        assert response.status_code == 404, action
    assert client.patch(f"/api/v1/shoots/{shoot.pk}/", {}, format="json").status_code == 404


def test_it_answers_404_to_scheduling_the_request(api, make_request):
    request = make_request("accepted", department="health")
    start = timezone.now() + timedelta(days=3)
    response = api("education").post(
        "/api/v1/shoots/",
        {
            "request": request.pk,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "crew": [user("operator").pk],
        },
        format="json",
    )
    assert response.status_code == 404


def test_the_health_requester_sees_it(api, health_request):
    client = api("health")
    assert client.get(f"/api/v1/requests/{health_request.pk}/").status_code == 200
    assert client.get("/api/v1/shoots/").json()["count"] == 1


def test_a_published_story_is_visible_to_every_department(api, make_request):
    published = make_request("published", department="health")
    client = api("education")
    assert client.get(f"/api/v1/requests/{published.pk}/").status_code == 200
    # Seeing it is not acting on it.
    response = client.post(f"/api/v1/requests/{published.pk}/cancel/", {"note": "x"}, format="json")
    assert response.status_code == 403
