"""Bad input answers 400 with a message on the field at fault; HTML comes back as data."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crew.models import Shoot, ShootRequest
from tests.factories import user


def _create(client, **fields):
    return client.post("/api/v1/requests/", {"title": "Вакцинація", **fields}, format="json")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Give the request a title."),
        ({"title": "   "}, "title", "Give the request a title."),
        ({"title": "Ш" * 201}, "title", "Keep the title under 200 characters."),
        ({"department": 999}, "department", "No such department."),
        ({"department": "health"}, "department", "Give the department's id (a number)."),
        ({"contact_phone": "дзвоніть Петрові"}, "contact_phone", "Enter a phone number"),
        ({"contact_phone": "12"}, "contact_phone", "Enter a phone number"),
        ({"target_channels": ["tiktok"]}, "target_channels", "No such channel: tiktok."),
        ({"priority": 9}, "priority", "not a valid choice"),
        ({"deadline": "2001-01-01"}, "deadline", "The deadline cannot be in the past."),
    ],
)
def test_it_names_the_field_at_fault(api, channels, departments, fields, field, message):
    response = _create(api("press"), **{"department": departments["Освіта"].pk, **fields})
    assert response.status_code == 400
    body = response.json()
    assert message in " ".join(body[field])
    assert not ShootRequest.objects.exists()


def test_the_press_head_must_choose_a_department(api):
    response = _create(api("press"))
    assert response.status_code == 400
    assert response.json()["department"] == ["Choose a department."]


def test_it_accepts_a_real_phone_number(api):
    response = _create(api("health"), contact_phone="+380 (3244) 2-11-33")
    assert response.status_code == 201, response.json()


def test_it_validates_edits_too(api, make_request):
    request = make_request("submitted")
    response = api("health").patch(f"/api/v1/requests/{request.pk}/", {"title": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["title"] == ["Give the request a title."]


def test_it_returns_html_as_text_never_as_markup(api):
    script = '<script>alert("x")</script><b>Школа</b>'
    response = _create(api("health"), title=script, description=script)
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["title"] == script
    detail = api("press").get(f"/api/v1/requests/{response.json()['id']}/")
    assert detail["Content-Type"].startswith("application/json")
    assert detail.json()["description"] == script


def _shoot_body(request, start, end, **extra):
    return {
        "request": request.pk,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "crew": [user("operator").pk],
        **extra,
    }


def test_it_refuses_a_shoot_that_ends_before_it_starts(api, make_request):
    request = make_request("accepted")
    start = timezone.now() + timedelta(days=2)
    response = api("press").post(
        "/api/v1/shoots/", _shoot_body(request, start, start - timedelta(hours=1)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["ends_at"] == ["The end must be after the start."]
    assert not Shoot.objects.exists()


def test_it_refuses_a_new_shoot_in_the_past(api, make_request):
    request = make_request("accepted")
    start = timezone.now() - timedelta(days=1)
    response = api("press").post(
        "/api/v1/shoots/", _shoot_body(request, start, start + timedelta(hours=1)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["starts_at"] == ["A new shoot cannot start in the past."]


@pytest.mark.parametrize(
    ("crew", "message"),
    [
        ([], "Assign at least one crew member."),
        ([99999], "No such person: 99999."),
        (["x"], "No such person: x."),
        ([{"user": 1, "role": "pilot"}], "Unknown crew role “pilot”."),
        ([[2]], "Give a user id, or an object with “user” and “role”."),
    ],
)
def test_it_explains_what_is_wrong_with_the_crew(api, make_request, crew, message):
    request = make_request("accepted")
    start = timezone.now() + timedelta(days=2)
    body = _shoot_body(request, start, start + timedelta(hours=1), crew=crew)
    response = api("press").post("/api/v1/shoots/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()["crew"])


def test_it_refuses_a_person_listed_twice(api, make_request):
    request = make_request("accepted")
    start = timezone.now() + timedelta(days=2)
    operator = user("operator").pk
    body = _shoot_body(
        request, start, start + timedelta(hours=1), crew=[operator, {"user": operator}]
    )
    response = api("press").post("/api/v1/shoots/", body, format="json")
    assert response.json()["crew"] == ["A person is listed twice."]


def test_it_refuses_malformed_dates(api, make_request):
    request = make_request("accepted")
    response = api("press").post(
        "/api/v1/shoots/",
        {"request": request.pk, "starts_at": "завтра", "ends_at": "", "crew": [1]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"starts_at", "ends_at"}


def test_a_decline_without_a_reason_is_400_on_the_note(api, make_request):
    request = make_request("submitted")
    response = api("press").post(f"/api/v1/requests/{request.pk}/decline/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["note"] == ["Please give a reason."]
    request.refresh_from_db()
    assert request.status == "submitted"


def test_it_refuses_moving_a_shoot_into_the_past(api, make_request):
    shoot = make_request("scheduled").shoots.get()
    start = timezone.now() - timedelta(days=3)
    response = api("press").patch(
        f"/api/v1/shoots/{shoot.pk}/",
        {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["starts_at"] == ["A shoot cannot be moved into the past."]
