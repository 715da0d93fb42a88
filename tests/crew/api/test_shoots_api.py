"""POST /api/v1/shoots/ schedules; clashes answer 409 with details; complete; footage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crew.models import Shoot, ShootState, Status, StatusChange
from tests import factories
from tests.factories import user


def _window(days=5, hour=10, hours=2):
    start = (timezone.now() + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return start, start + timedelta(hours=hours)


def _schedule(client, request, *, crew, days=5, hour=10, **extra):
    start, end = _window(days, hour)
    body = {
        "request": request.pk,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "location": "Площа Ринок, 1",
        "crew": crew,
        **extra,
    }
    return client.post("/api/v1/shoots/", body, format="json")


def test_it_schedules_an_accepted_request(api, make_request):
    request = make_request("accepted")
    kit = factories.demo.ensure_kit()["Sony FX3"]
    response = _schedule(
        api("press"),
        request,
        crew=[user("operator").pk, {"user": user("journalist").pk, "role": "journalist"}],
        kit=[kit.pk],
        notes="Взяти дрон",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "planned"
    assert body["location"] == "Площа Ринок, 1"
    assert body["kit"] == [kit.pk]
    assert {(c["username"], c["role"]) for c in body["crew"]} == {
        ("operator", "operator"),
        ("journalist", "journalist"),
    }
    request.refresh_from_db()
    assert request.status == Status.SCHEDULED
    assert StatusChange.objects.filter(
        request=request, to_status="scheduled", actor__username="press"
    ).exists()


def test_a_plain_id_gets_the_persons_usual_role(api, make_request):
    request = make_request("accepted")
    response = _schedule(api("press"), request, crew=[user("editor").pk])
    assert response.json()["crew"][0]["role"] == "editor"


def test_it_answers_409_with_who_is_booked_where_and_when(api, make_request):
    busy = make_request("accepted", title="Ремонт даху школи №2")
    other = make_request("accepted", title="ЦНАП: Дія в смартфоні")
    client = api("press")
    first = _schedule(client, busy, crew=[user("operator").pk], hour=10)
    assert first.status_code == 201
    response = _schedule(client, other, crew=[user("operator").pk], hour=11)
    assert response.status_code == 409
    body = response.json()
    assert body["detail"]
    [clash] = body["clashes"]
    assert clash["kind"] == "person"
    assert clash["name"] == "Андрій Коваль"
    assert clash["shoot"] == first.json()["id"]
    assert clash["request_title"] == "Ремонт даху школи №2"
    assert clash["starts_at"].startswith(first.json()["starts_at"][:16])
    other.refresh_from_db()
    assert other.status == Status.ACCEPTED
    assert Shoot.objects.count() == 1


def test_it_answers_409_when_kit_is_taken(api, make_request):
    kit = factories.demo.ensure_kit()["DJI Mini 4 Pro"]
    client = api("press")
    _schedule(client, make_request("accepted"), crew=[user("operator").pk], kit=[kit.pk])
    response = _schedule(client, make_request("accepted"), crew=[user("editor").pk], kit=[kit.pk])
    assert response.status_code == 409
    assert response.json()["clashes"][0]["name"] == "DJI Mini 4 Pro"


def test_it_refuses_someone_outside_the_crew(api, make_request):
    response = _schedule(api("press"), make_request("accepted"), crew=[user("health").pk])
    assert response.status_code == 400
    assert "crew" in response.json()


@pytest.mark.parametrize("who", ["operator", "health"])
def test_only_the_press_head_schedules(api, make_request, who):
    request = make_request("accepted")
    assert _schedule(api(who), request, crew=[user("operator").pk]).status_code == 403
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED


def test_it_answers_409_for_a_request_not_yet_accepted(api, make_request):
    response = _schedule(api("press"), make_request("submitted"), crew=[user("operator").pk])
    assert response.status_code == 409
    assert "submitted" in response.json()["detail"]


def test_the_assigned_operator_completes_the_shoot(api, make_request):
    request = make_request("scheduled")
    shoot = request.shoots.get()
    response = api("operator").post(
        f"/api/v1/shoots/{shoot.pk}/complete/", {"notes": "Зняли 40 хв"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["log"]) == ("done", "Зняли 40 хв")
    request.refresh_from_db()
    assert request.status == Status.SHOT
    assert StatusChange.objects.filter(to_status="shot", actor__username="operator").exists()


def test_crew_not_on_the_shoot_cannot_complete_it(api, make_request):
    shoot = make_request("scheduled").shoots.get()
    response = api("journalist").post(f"/api/v1/shoots/{shoot.pk}/complete/", {}, format="json")
    assert response.status_code == 403
    shoot.refresh_from_db()
    assert shoot.state == ShootState.PLANNED


def test_completing_twice_answers_409(api, make_request):
    shoot = make_request("shot").shoots.get()
    response = api("operator").post(f"/api/v1/shoots/{shoot.pk}/complete/", {}, format="json")
    assert response.status_code == 409


def test_it_reschedules_and_keeps_a_trace(api, make_request):
    shoot = make_request("scheduled").shoots.get()
    start, end = _window(days=20, hour=14)
    response = api("press").patch(
        f"/api/v1/shoots/{shoot.pk}/",
        {"starts_at": start.isoformat(), "ends_at": end.isoformat(), "note": "Дощ"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    shoot.refresh_from_db()
    assert shoot.starts_at == start
    row = StatusChange.objects.filter(subject="shoot", subject_id=shoot.pk).last()
    assert "Дощ" in row.note


def test_the_crew_cannot_reschedule(api, make_request):
    shoot = make_request("scheduled").shoots.get()
    response = api("operator").patch(
        f"/api/v1/shoots/{shoot.pk}/", {"location": "деінде"}, format="json"
    )
    assert response.status_code == 403


def test_cancelling_the_only_shoot_sends_the_request_back_to_accepted(api, make_request):
    request = make_request("scheduled")
    shoot = request.shoots.get()
    client = api("press")
    assert client.post(f"/api/v1/shoots/{shoot.pk}/cancel/", {}, format="json").status_code == 400
    response = client.post(
        f"/api/v1/shoots/{shoot.pk}/cancel/", {"note": "Захід перенесли"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED


def test_it_lists_a_persons_shoots_in_a_date_range(api, make_request):
    client = api("press")
    mine = make_request("accepted", title="Моя")
    theirs = make_request("accepted", title="Чужа")
    _schedule(client, mine, crew=[user("journalist").pk], days=10)
    _schedule(client, theirs, crew=[user("editor").pk], days=12)
    rows = client.get("/api/v1/shoots/", {"person": user("journalist").pk}).json()["results"]
    assert [row["request_title"] for row in rows] == ["Моя"]
    day = (timezone.now() + timedelta(days=12)).date()
    rows = client.get("/api/v1/shoots/", {"date_from": day, "date_to": day}).json()["results"]
    assert [row["request_title"] for row in rows] == ["Чужа"]


def test_it_attaches_footage_once(api, make_request):
    shoot = make_request("shot").shoots.get()
    asset = factories.ready_asset(uploaded_by=user("operator"), purposes=("footage",))
    client = api("operator")
    url = f"/api/v1/shoots/{shoot.pk}/footage/"
    first = client.post(url, {"media": str(asset.pk)}, format="json")
    assert first.status_code == 201, first.json()
    assert (first.json()["media"], first.json()["created"]) == (str(asset.pk), True)
    again = client.post(url, {"media": str(asset.pk)}, format="json")
    assert (again.status_code, again.json()["created"]) == (200, False)
    detail = client.get(f"/api/v1/shoots/{shoot.pk}/").json()
    assert [f["media"] for f in detail["footage"]] == [str(asset.pk)]


def test_it_says_when_the_same_file_is_already_attached(api, make_request):
    shoot = make_request("shot").shoots.get()
    original = factories.ready_asset(content=b"card A clip 1", purposes=("footage",))
    copy = factories.ready_asset(content=b"card A clip 1", purposes=("footage",))
    client = api("operator")
    url = f"/api/v1/shoots/{shoot.pk}/footage/"
    assert client.post(url, {"media": str(original.pk)}, format="json").status_code == 201
    response = client.post(url, {"media": str(copy.pk)}, format="json")
    assert response.status_code == 409
    assert response.json()["duplicate_of"] == str(original.pk)
    assert shoot.footage.count() == 1


def test_it_refuses_unknown_media(api, make_request):
    shoot = make_request("shot").shoots.get()
    response = api("operator").post(
        f"/api/v1/shoots/{shoot.pk}/footage/",
        {"media": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["media"]


def test_only_the_shoots_crew_adds_footage(api, make_request):
    shoot = make_request("shot").shoots.get()
    asset = factories.ready_asset(purposes=("footage",))
    response = api("journalist").post(
        f"/api/v1/shoots/{shoot.pk}/footage/", {"media": str(asset.pk)}, format="json"
    )
    assert response.status_code == 403
    assert shoot.footage.count() == 0
