"""The board, the request list and "my work" cost the same number of queries for 5
requests as for 50: no query per card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crew.models import Campaign, ShootRequest
from tests import factories

# A mix that fills every part of a card: shoots with crew, campaigns, deadlines.
STATES = ["submitted", "accepted", "scheduled", "shot", "declined"]


def _populate(n: int) -> None:
    campaign, _ = Campaign.objects.get_or_create(slug="dija", defaults={"name": "Дія в місті"})
    start = ShootRequest.objects.count()
    for i in range(start, n):
        factories.request_in_state(
            STATES[i % len(STATES)],
            # Every fifth goes to another department: the health requester must not see it.
            department="education" if i % 5 == 4 else "health",
            title=f"Сюжет {i}",
            campaign=campaign if i % 3 == 0 else None,
        )


def _queries(client: Client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


PAGES = [
    ("crew:board", None),
    ("crew:board", {"q": "Сюжет", "campaign": "", "date_from": "2020-01-01"}),
    ("crew:request_list", None),
    ("crew:request_list", {"status": "scheduled"}),
    ("crew:my_work", None),
]


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["press", "operator", "health"])
def test_it_costs_the_same_queries_for_5_and_50_requests(users, username):
    client = Client()
    client.force_login(users[username])
    _populate(5)
    small = {(name, str(p)): _queries(client, reverse(name), p) for name, p in PAGES}
    _populate(50)
    assert ShootRequest.objects.count() == 50
    large = {(name, str(p)): _queries(client, reverse(name), p) for name, p in PAGES}
    assert large == small
    print(username, small)


@pytest.mark.django_db
def test_it_shows_every_card_with_its_shoot_and_people(users):
    _populate(50)
    client = Client()
    client.force_login(users["press"])
    response = client.get(reverse("crew:board"))
    html = response.content.decode()
    columns = {c["status"]: c["count"] for c in response.context["columns"]}
    assert columns["scheduled"] == 10
    assert columns["submitted"] == 10
    assert sum(columns.values()) == 50
    assert html.count('<article class="kcard') == 50
    # Scheduled cards carry the crew (operator Андрій Коваль and editor Ірина Бойко).
    assert "Андрій Коваль" in html
    assert "Ірина Бойко" in html


@pytest.mark.django_db
def test_it_keeps_long_closed_requests_off_the_board_but_in_the_list(users, make_request):
    old = make_request("declined", title="Давно відхилена")
    ShootRequest.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=90))
    make_request("declined", title="Щойно відхилена")
    client = Client()
    client.force_login(users["press"])
    board = client.get(reverse("crew:board")).content.decode()
    assert "Щойно відхилена" in board
    assert "Давно відхилена" not in board
    assert "Давно відхилена" in client.get(reverse("crew:request_list")).content.decode()
    searched = client.get(reverse("crew:board"), {"q": "Давно"}).content.decode()
    assert "Давно відхилена" in searched
