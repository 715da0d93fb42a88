"""The full transition matrix through the API: every (state, action, role) triple.

Allowed triples succeed and write an audit row naming the actor; the rest answer
404 (not visible to the caller), 403 (the role may not) or 409 (not in this
state) and change nothing. A triple is left out only when its object cannot
exist in that state (no shoot to complete before scheduling, no cut to review
before the first cut).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crew import workflow
from crew.models import ShootRequest, Status, StatusChange
from tests import factories
from tests.factories import user

STATES = [s.value for s in Status]
# press head; crew on the shoot; crew not on it; requester of the request's
# department (health); requester of another department (education).
ROLES = ["press", "operator", "journalist", "health", "education"]

PRESS_ONLY = {"accept", "decline", "cancel", "schedule", "approve", "request_changes", "publish"}
ALLOWED_STATES = {
    "accept": {"submitted"},
    "decline": {"submitted"},
    "cancel": {
        "submitted",
        "accepted",
        "scheduled",
        "shot",
        "editing",
        "in_review",
        "changes_requested",
        "approved",
    },
    # A further shoot may be added while the first is planned or the edit is on.
    "schedule": {"accepted", "scheduled", "shot", "editing"},
    "complete": {"scheduled"},
    "submit": {"editing", "changes_requested"},
    "approve": {"in_review"},
    "request_changes": {"in_review"},
    "publish": {"approved", "published"},
}
SUCCESS_CODE = {"schedule": 201, "publish": 201}
HAS_SHOOT = {
    "scheduled",
    "shot",
    "editing",
    "in_review",
    "changes_requested",
    "approved",
    "published",
    "cancelled",
}
HAS_CUT = {"editing", "in_review", "changes_requested", "approved", "published", "cancelled"}
ACTIONS = list(ALLOWED_STATES)


def applicable(state: str, action: str) -> bool:
    if action == "complete":
        return state in HAS_SHOOT
    if action in ("submit", "approve", "request_changes"):
        return state in HAS_CUT
    return True


def expected(state: str, action: str, role: str) -> int:
    visible = role != "education" or state == Status.PUBLISHED
    if not visible:
        return 404
    if action in PRESS_ONLY and role != "press":
        return 403
    if action == "complete" and role not in ("press", "operator"):
        return 403
    if action == "submit" and role not in ("press", "operator", "journalist"):
        return 403
    if state not in ALLOWED_STATES[action]:
        return 409
    return SUCCESS_CODE.get(action, 200)


def build(state: str) -> ShootRequest:
    """A health request in `state`; a cancelled one is cancelled mid-review, so it has a
    shoot and a cut to try actions on."""
    if state == Status.CANCELLED:
        request = factories.request_in_state(Status.IN_REVIEW)
        workflow.cancel(request, by=user("press"), note="Подію скасовано")
        return request
    return factories.request_in_state(state)


def call(client, request: ShootRequest, action: str):
    note = {"note": "Причина"}
    if action in ("accept", "decline", "cancel"):
        return client.post(f"/api/v1/requests/{request.pk}/{action}/", note, format="json")
    if action == "schedule":
        start = timezone.now() + timedelta(days=90)
        return client.post(
            "/api/v1/shoots/",
            {
                "request": request.pk,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "crew": [user("journalist").pk],
            },
            format="json",
        )
    if action == "complete":
        shoot = request.shoots.order_by("-pk").first()
        return client.post(f"/api/v1/shoots/{shoot.pk}/complete/", {"notes": "Є"}, format="json")
    if action == "publish":
        return client.post(
            f"/api/v1/requests/{request.pk}/publications/",
            {"channel": "youtube", "url": "https://youtu.be/drohobych"},
            format="json",
        )
    version = request.versions.order_by("-number").first()
    path = action.replace("_", "-")
    return client.post(f"/api/v1/versions/{version.pk}/{path}/", note, format="json")


MATRIX = [
    pytest.param(state, action, role, id=f"{state}-{action}-{role}")
    for state in STATES
    for action in ACTIONS
    for role in ROLES
    if applicable(state, action)
]


@pytest.mark.parametrize(("state", "action", "role"), MATRIX)
def test_it_follows_the_matrix(api, make_request, state, action, role):
    request = build(state)
    actor = user(role)
    rows_before = StatusChange.objects.count()
    want = expected(state, action, role)

    response = call(api(role), request, action)

    assert response.status_code == want, response.content
    after = ShootRequest.objects.get(pk=request.pk)
    if want in (200, 201):
        new_rows = StatusChange.objects.filter(pk__gt=_last_pk(rows_before))
        assert new_rows.filter(actor=actor).exists()
        assert not new_rows.exclude(actor=actor).exists()
    else:
        assert response.json()["detail"]
        assert StatusChange.objects.count() == rows_before
        assert after.status == state
        if want == 409:
            # The caller learns what state the request (or its shoot or cut) is in.
            assert response.json().get("status") or "“" in response.json()["detail"]


def _last_pk(count: int) -> int:
    row = StatusChange.objects.order_by("pk")[count - 1 : count].first()
    return row.pk if row else 0


@pytest.mark.parametrize(
    ("state", "action", "to"),
    [
        ("submitted", "accept", "accepted"),
        ("submitted", "decline", "declined"),
        ("approved", "cancel", "cancelled"),
        ("accepted", "schedule", "scheduled"),
        ("scheduled", "complete", "shot"),
        ("editing", "submit", "in_review"),
        ("changes_requested", "submit", "in_review"),
        ("in_review", "approve", "approved"),
        ("in_review", "request_changes", "changes_requested"),
        ("approved", "publish", "published"),
    ],
)
def test_each_allowed_step_moves_the_request(api, make_request, state, action, to):
    request = build(state)
    role = "operator" if action in ("complete", "submit") else "press"
    call(api(role), request, action)
    request.refresh_from_db()
    assert request.status == to
    row = request.history.filter(subject="request").last()
    assert (row.from_status, row.to_status, row.actor.username) == (state, to, role)


def test_the_press_head_cannot_approve_their_own_cut(api, make_request):
    request = factories.request_in_state(Status.EDITING)
    press = user("press")
    version = workflow.add_version(
        request, by=press, asset=factories.ready_asset(uploaded_by=press)
    )
    workflow.submit_version(version, by=press)
    response = api("press").post(f"/api/v1/versions/{version.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert "uploaded yourself" in response.json()["detail"]


def test_a_decline_needs_a_reason(api, make_request):
    request = make_request("submitted")
    response = api("press").post(f"/api/v1/requests/{request.pk}/decline/", {}, format="json")
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_a_cancel_needs_a_reason(api, make_request):
    request = make_request("scheduled")
    response = api("press").post(
        f"/api/v1/requests/{request.pk}/cancel/", {"note": "  "}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["note"]


def test_cancelling_a_scheduled_request_cancels_its_shoot(api, make_request):
    request = make_request("scheduled")
    response = api("press").post(
        f"/api/v1/requests/{request.pk}/cancel/", {"note": "Захід скасовано"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert request.shoots.get().state == "cancelled"


def test_accepting_twice_answers_409_with_the_current_state(api, make_request):
    request = make_request("submitted")
    client = api("press")
    assert (
        client.post(f"/api/v1/requests/{request.pk}/accept/", {}, format="json").status_code == 200
    )
    again = client.post(f"/api/v1/requests/{request.pk}/accept/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["status"] == "accepted"
