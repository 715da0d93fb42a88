"""Two press heads approve the same cut at the same moment: exactly one wins.

Real threads on a transactional test database (SQLite here, Postgres in CI),
so the compare-and-swap in crew.workflow is what decides, not the test.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from crew.models import ShootRequest, Status, StatusChange
from tests import factories


@pytest.fixture
def shared_database(transactional_db, tmp_path):
    """The race needs a database that several connections share the way the real one is
    shared. Postgres test databases are; SQLite's in-memory test database locks whole
    tables per connection, so on SQLite the race runs on a migrated file database."""
    if connection.vendor != "sqlite":
        yield
        return
    settings_dict = connection.settings_dict  # the same dict every thread's connection reads
    saved_name, saved_raw = settings_dict["NAME"], connection.connection
    # Closing would destroy the in-memory database; set it aside and put it back after.
    connection.connection = None
    settings_dict["NAME"] = str(tmp_path / "race.sqlite3")
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = saved_name
        connection.connection = saved_raw


def _second_press_head() -> User:
    other = User.objects.create_user("press2", password="x", first_name="Ігор")
    other.groups.add(Group.objects.get(name="press"))
    return other


def _race(users: list[User], path: str, body: dict) -> list[int]:
    barrier = threading.Barrier(len(users))
    codes: list[int] = []

    def run(user: User) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=10)
            codes.append(client.post(path, body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(codes)


def test_it_lets_exactly_one_of_two_concurrent_approvals_win(shared_database, users, channels):
    request = factories.request_in_state(Status.IN_REVIEW)
    version = request.versions.get()
    press, press2 = users["press"], _second_press_head()

    codes = _race([press, press2], f"/api/v1/versions/{version.pk}/approve/", {"note": ""})

    assert codes == [200, 409]
    assert ShootRequest.objects.get(pk=request.pk).status == Status.APPROVED
    approvals = StatusChange.objects.filter(request=request, to_status=Status.APPROVED)
    assert approvals.filter(subject="request").count() == 1
    assert approvals.filter(subject="version").count() == 1


def test_it_lets_exactly_one_of_approve_and_request_changes_win(shared_database, users, channels):
    request = factories.request_in_state(Status.IN_REVIEW)
    version = request.versions.get()
    press2 = _second_press_head()
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def run(name: str, user: User, action: str) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=10)
            path = f"/api/v1/versions/{version.pk}/{action}/"
            codes[name] = client.post(path, {"note": "Скоротити"}, format="json").status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("a", users["press"], "approve")),
        threading.Thread(target=run, args=("b", press2, "request-changes")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(codes.values()) == [200, 409]
    final = ShootRequest.objects.get(pk=request.pk).status
    winner = "approved" if codes["a"] == 200 else "changes_requested"
    assert final == winner
    assert StatusChange.objects.filter(request=request, from_status=Status.IN_REVIEW).count() == 2
