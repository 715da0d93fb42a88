"""GET, POST /api/v1/requests/ and GET, PATCH /api/v1/requests/{id}/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crew.models import Campaign, ShootRequest, Status, StatusChange
from tests.factories import user


def _dept(name):
    from crew.models import Department

    return Department.objects.get(name=name)


def test_it_submits_a_request_for_the_requesters_own_department(api, channels):
    response = api("health").post(
        "/api/v1/requests/",
        {
            "title": "Відкриття амбулаторії на вул. Грушевського",
            "description": "Сімейні лікарі, нове обладнання",
            "contact_name": "Марія Петрів",
            "contact_phone": "+380 67 123 45 67",
            "target_channels": ["website", "facebook"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted"
    assert body["department_name"] == "Охорона здоров'я"
    assert body["requested_by"]["username"] == "health"
    assert sorted(body["target_channels"]) == ["facebook", "website"]
    row = StatusChange.objects.get(request_id=body["id"])
    assert (row.to_status, row.actor.username) == ("submitted", "health")


def test_it_lets_the_press_head_submit_for_any_department(api):
    response = api("press").post(
        "/api/v1/requests/",
        {"title": "Школа №5: новий спортзал", "department": _dept("Освіта").pk},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["department_name"] == "Освіта"


def test_it_forbids_a_requester_submitting_for_another_department(api):
    response = api("health").post(
        "/api/v1/requests/",
        {"title": "Чужа заявка", "department": _dept("Освіта").pk},
        format="json",
    )
    assert response.status_code == 403
    assert not ShootRequest.objects.exists()


@pytest.mark.parametrize("with_department", [True, False])
def test_it_forbids_the_crew_submitting_requests(api, with_department):
    body = {"title": "Своя ідея"}
    if with_department:
        body["department"] = _dept("Освіта").pk
    response = api("operator").post("/api/v1/requests/", body, format="json")
    assert response.status_code == 403


def test_it_ignores_a_status_sent_by_the_client(api):
    response = api("health").post(
        "/api/v1/requests/", {"title": "Вакцинація", "status": "published"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "submitted"


def test_it_shows_one_request(api, make_request):
    request = make_request("accepted")
    body = api("operator").get(f"/api/v1/requests/{request.pk}/").json()
    assert (body["id"], body["title"], body["status"]) == (
        request.pk,
        "Відкриття амбулаторії",
        "accepted",
    )


def test_it_edits_details_but_never_the_status(api, make_request):
    request = make_request("submitted")
    response = api("health").patch(
        f"/api/v1/requests/{request.pk}/",
        {"location": "вул. Стрийська, 3", "status": "approved"},
        format="json",
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert (request.location, request.status) == ("вул. Стрийська, 3", "submitted")


def test_it_forbids_a_requester_editing_after_acceptance(api, make_request):
    request = make_request("accepted")
    response = api("health").patch(
        f"/api/v1/requests/{request.pk}/", {"title": "Інша назва"}, format="json"
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.title == "Відкриття амбулаторії"


def test_it_lets_the_press_head_edit_an_accepted_request(api, make_request):
    request = make_request("accepted")
    response = api("press").patch(f"/api/v1/requests/{request.pk}/", {"priority": 4}, format="json")
    assert response.status_code == 200
    assert response.json()["priority"] == 4


def test_it_forbids_moving_a_request_to_another_department(api, make_request):
    request = make_request("submitted")
    response = api("health").patch(
        f"/api/v1/requests/{request.pk}/", {"department": _dept("Освіта").pk}, format="json"
    )
    assert response.status_code == 403


def test_it_refuses_put(api, make_request):
    request = make_request("submitted")
    response = api("press").put(f"/api/v1/requests/{request.pk}/", {}, format="json")
    assert response.status_code == 405


@pytest.fixture
def spread(make_request):
    """Requests in several states, departments and campaigns."""
    campaign = Campaign.objects.create(name="Розумне місто", slug="smart-city")
    return {
        "vaccination": make_request("submitted", title="Вакцинація в амбулаторії №2"),
        "school": make_request(
            "scheduled", department="education", title="Школа №3: STEM-клас", campaign=campaign
        ),
        "lyceum": make_request(
            "accepted",
            department="education",
            title="Ліцей: випускний",
            desired_at=timezone.now() + timedelta(days=90),
        ),
    }


def _titles(response):
    assert response.status_code == 200, response.json()
    return sorted(row["title"] for row in response.json()["results"])


def test_it_filters_by_status(api, spread):
    client = api("press")
    got = _titles(client.get("/api/v1/requests/", {"status": ["submitted", "accepted"]}))
    assert got == ["Вакцинація в амбулаторії №2", "Ліцей: випускний"]


def test_it_filters_by_department_and_campaign(api, spread):
    client = api("press")
    assert _titles(client.get("/api/v1/requests/", {"department": _dept("Освіта").pk})) == [
        "Ліцей: випускний",
        "Школа №3: STEM-клас",
    ]
    campaign = Campaign.objects.get(slug="smart-city")
    assert _titles(client.get("/api/v1/requests/", {"campaign": campaign.pk})) == [
        "Школа №3: STEM-клас"
    ]


def test_it_filters_by_assignee(api, spread):
    got = _titles(api("press").get("/api/v1/requests/", {"assignee": user("operator").pk}))
    assert got == ["Школа №3: STEM-клас"]


def test_it_filters_by_date_range(api, spread):
    shoot = spread["school"].shoots.get()
    day = timezone.localtime(shoot.starts_at).date()
    client = api("press")
    got = _titles(client.get("/api/v1/requests/", {"date_from": day, "date_to": day}))
    assert got == ["Школа №3: STEM-клас"]
    later = (timezone.now() + timedelta(days=60)).date()
    assert _titles(client.get("/api/v1/requests/", {"date_from": later})) == ["Ліцей: випускний"]


def test_it_searches_text_whatever_the_case(api, spread):
    client = api("press")
    assert _titles(client.get("/api/v1/requests/", {"search": "вакцинація"})) == [
        "Вакцинація в амбулаторії №2"
    ]
    assert _titles(client.get("/api/v1/requests/", {"search": "stem"})) == ["Школа №3: STEM-клас"]


def test_it_rejects_an_unknown_status_filter(api, spread):
    response = api("press").get("/api/v1/requests/", {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()


def test_it_pages_long_lists(api, make_request):
    for n in range(3):
        make_request("submitted", title=f"Заявка {n}")
    first = api("press").get("/api/v1/requests/", {"page_size": 2}).json()
    assert (first["count"], len(first["results"])) == (3, 2)
    second = api("press").get(first["next"]).json()
    assert [row["title"] for row in second["results"]] == ["Заявка 0"]


def test_it_lists_newest_first(api, make_request):
    make_request("submitted", title="Перша")
    make_request("submitted", title="Друга")
    rows = api("press").get("/api/v1/requests/").json()["results"]
    assert [row["title"] for row in rows] == ["Друга", "Перша"]
    assert Status.SUBMITTED == rows[0]["status"]


def test_the_lists_cost_the_same_queries_for_few_and_many(api, make_request):
    client = api("press")
    for n in range(2):
        make_request("scheduled", title=f"Заявка {n}")
    _count(client, "/api/v1/requests/")  # the caller's roles are looked up once and kept
    few = (_count(client, "/api/v1/requests/"), _count(client, "/api/v1/shoots/"))
    for n in range(2, 8):
        make_request("scheduled", title=f"Заявка {n}")
    many = (_count(client, "/api/v1/requests/"), _count(client, "/api/v1/shoots/"))
    assert few == many


def _count(client, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)
