"""The request page offers exactly the decisions the viewer may take, and taking them
in the browser moves the request, writes the audit row, and explains any refusal."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crew.models import Status, StatusChange

ACTIONS = ("accept", "decline", "cancel")


@pytest.fixture
def client_for(users):
    def make(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        return client

    return make


def _buttons(client: Client, pk: int) -> set[str]:
    html = client.get(reverse("crew:request", kwargs={"pk": pk})).content.decode()
    return {a for a in ACTIONS if reverse(f"crew:request_{a}", kwargs={"pk": pk}) in html}


def _post(client: Client, action: str, pk: int, note: str | None = None, **kw):
    data = {f"{action}-note": note} if note is not None else {}
    return client.post(reverse(f"crew:request_{action}", kwargs={"pk": pk}), data, **kw)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (Status.SUBMITTED, {"accept", "decline", "cancel"}),
        (Status.ACCEPTED, {"cancel"}),
        (Status.SCHEDULED, {"cancel"}),
        (Status.IN_REVIEW, {"cancel"}),
        (Status.PUBLISHED, set()),
        (Status.DECLINED, set()),
        (Status.CANCELLED, set()),
    ],
)
def test_it_shows_the_press_head_exactly_the_decisions_for_the_state(
    client_for, make_request, state, expected
):
    request_obj = make_request(state)
    assert _buttons(client_for("press"), request_obj.pk) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["health", "operator", "editor", "journalist"])
@pytest.mark.parametrize("state", [Status.SUBMITTED, Status.SCHEDULED])
def test_it_shows_no_decisions_to_requesters_and_crew(client_for, make_request, username, state):
    request_obj = make_request(state)
    assert _buttons(client_for(username), request_obj.pk) == set()


@pytest.mark.django_db
def test_it_accepts_from_the_page_and_writes_the_audit_row(client_for, make_request, users):
    request_obj = make_request(Status.SUBMITTED)
    client = client_for("press")
    response = _post(client, "accept", request_obj.pk, follow=True)
    assert response.status_code == 200
    request_obj.refresh_from_db()
    assert request_obj.status == Status.ACCEPTED
    row = StatusChange.objects.filter(request=request_obj).last()
    assert (row.from_status, row.to_status, row.actor) == ("submitted", "accepted", users["press"])
    html = response.content.decode()
    assert "The request is now “accepted”." in html
    assert "Оксана Мельник" in html  # the timeline names who did it


@pytest.mark.django_db
def test_it_declines_with_a_reason_shown_on_the_timeline(client_for, make_request, users):
    request_obj = make_request(Status.SUBMITTED)
    response = _post(
        client_for("press"), "decline", request_obj.pk, "Це не відеосюжет", follow=True
    )
    request_obj.refresh_from_db()
    assert request_obj.status == Status.DECLINED
    row = StatusChange.objects.filter(request=request_obj).last()
    assert (row.to_status, row.note, row.actor) == ("declined", "Це не відеосюжет", users["press"])
    assert "Це не відеосюжет" in response.content.decode()


@pytest.mark.django_db
def test_it_cancels_a_scheduled_request_with_a_reason(client_for, make_request):
    request_obj = make_request(Status.SCHEDULED)
    response = _post(client_for("press"), "cancel", request_obj.pk, "Захід перенесли")
    assert response.status_code == 302
    request_obj.refresh_from_db()
    assert request_obj.status == Status.CANCELLED
    assert StatusChange.objects.filter(
        request=request_obj, to_status="cancelled", note="Захід перенесли"
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["decline", "cancel"])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_it_reshows_the_form_with_an_error_when_the_reason_is_missing(
    client_for, make_request, action, note
):
    request_obj = make_request(Status.SUBMITTED)
    before = StatusChange.objects.filter(request=request_obj).count()
    response = _post(client_for("press"), action, request_obj.pk, note)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please give a reason." in html
    assert f'data-action="{action}" open' in html
    request_obj.refresh_from_db()
    assert request_obj.status == Status.SUBMITTED
    assert StatusChange.objects.filter(request=request_obj).count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "action"),
    [
        (Status.ACCEPTED, "accept"),
        (Status.SCHEDULED, "decline"),
        (Status.PUBLISHED, "cancel"),
        (Status.DECLINED, "accept"),
        (Status.CANCELLED, "cancel"),
    ],
)
def test_it_explains_an_invalid_transition_instead_of_failing(
    client_for, make_request, state, action
):
    request_obj = make_request(state)
    before = StatusChange.objects.filter(request=request_obj).count()
    response = _post(client_for("press"), action, request_obj.pk, "причина", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("crew:request", kwargs={"pk": request_obj.pk})
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert "Not possible while the request is" in messages[0]
    assert messages[0] in response.content.decode().replace("&#x27;", "'")
    request_obj.refresh_from_db()
    assert request_obj.status == state
    assert StatusChange.objects.filter(request=request_obj).count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["health", "operator", "journalist"])
@pytest.mark.parametrize("action", ACTIONS)
def test_it_forbids_decisions_to_other_roles_with_the_403_page(
    client_for, make_request, username, action
):
    request_obj = make_request(Status.SUBMITTED)
    response = _post(client_for(username), action, request_obj.pk, "хочу")
    assert response.status_code == 403
    assert b"error-code" in response.content
    request_obj.refresh_from_db()
    assert request_obj.status == Status.SUBMITTED


@pytest.mark.django_db
def test_it_refuses_a_decision_by_get(client_for, make_request):
    request_obj = make_request(Status.SUBMITTED)
    response = client_for("press").get(
        reverse("crew:request_accept", kwargs={"pk": request_obj.pk})
    )
    assert response.status_code == 405
    request_obj.refresh_from_db()
    assert request_obj.status == Status.SUBMITTED
