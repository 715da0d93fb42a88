"""manage.py seed_demo: every state, real audit history, idempotent, working logins."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from crew.models import Campaign, ShootRequest, Status, StatusChange


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_it_seeds_every_state_once_and_logins_work(var_dir):
    _seed(password="drohobych-demo")
    counts = {s: ShootRequest.objects.filter(status=s).count() for s in Status.values}
    assert all(counts.values()), counts
    assert sum(counts.values()) >= 20
    assert Campaign.objects.filter(slug="smart-city", requests__isnull=False).exists()
    _assert_real_history(ShootRequest.objects.filter(status=Status.PUBLISHED).first())
    history = StatusChange.objects.count()

    output = _seed(password="drohobych-demo")

    assert "0 new requests" in output
    assert ShootRequest.objects.count() == sum(counts.values())
    assert StatusChange.objects.count() == history
    assert User.objects.filter(username="admin", is_superuser=True).count() == 1
    client = APIClient()
    for username in ("press", "operator", "editor", "health", "education", "admin"):
        response = client.post(
            "/api/v1/auth/token/",
            {"username": username, "password": "drohobych-demo"},
            format="json",
        )
        assert response.status_code == 200, username


def _assert_real_history(published: ShootRequest) -> None:
    """Every step is in the audit trail, by the person who took it."""
    steps = [
        (row.to_status, row.actor.username)
        for row in published.history.filter(subject="request").select_related("actor")
    ]
    assert [s for s, _ in steps] == [
        "submitted",
        "accepted",
        "scheduled",
        "shot",
        "editing",
        "in_review",
        "approved",
        "published",
    ]
    assert dict(steps)["shot"] == "operator"
    assert dict(steps)["approved"] == "press"
    assert published.publications.exists()
    assert published.shoots.get().footage.exists()


@pytest.mark.django_db
def test_without_ffmpeg_it_stops_before_the_cut_and_says_so(var_dir, settings):
    settings.KADR_FFMPEG_BIN = "/nonexistent/ffmpeg"
    output = _seed()
    present = set(ShootRequest.objects.values_list("status", flat=True))
    assert present == {"submitted", "accepted", "declined", "scheduled", "shot", "cancelled"}
    assert "ffmpeg is not installed" in output
