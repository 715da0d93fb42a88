"""iCal feeds: Kyiv times that survive the daylight-saving changes, secret revocable
URLs, a person's own shoots, the whole crew's feed, and changes phones can follow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from crew import calendar, workflow
from crew.models import Shoot
from tests import factories

KYIV = ZoneInfo("Europe/Kyiv")
CM = workflow.CrewMember


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def kyiv(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=KYIV)


@pytest.fixture
def book(users, channels):
    def make(starts_at: datetime, people=("operator",), *, title="Зйомка", hours=1) -> Shoot:
        request = factories.request_in_state("accepted", title=title)
        return workflow.schedule(
            request,
            by=users["press"],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            crew=[CM(users[name], "operator") for name in people],
            location="Площа Ринок, 1",
        )

    return make


def fetch(name: str, token: str) -> tuple[int, str, Calendar | None]:
    response = Client().get(reverse(f"crew:{name}", kwargs={"token": token}))
    if response.status_code != 200:
        return response.status_code, response["Content-Type"], None
    return 200, response["Content-Type"], Calendar.from_ical(response.content)


def events(cal: Calendar) -> dict[str, object]:
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def test_it_keeps_ten_oclock_at_ten_across_both_dst_changes(book, users):
    year = timezone.localdate().year + 1  # both changes of next year are in the future
    spring, autumn = last_sunday(year, 3), last_sunday(year, 10)
    days = {
        "before spring": spring - timedelta(days=1),
        "after spring": spring + timedelta(days=1),
        "before autumn": autumn - timedelta(days=1),
        "after autumn": autumn + timedelta(days=1),
    }
    for title, day in days.items():
        book(kyiv(day, 10), title=title)
    status, content_type, cal = fetch("ical_user", calendar.feed_token(users["operator"]))
    assert status == 200 and content_type.startswith("text/calendar")
    assert cal is not None
    # The VTIMEZONE alone (not the phone's own tz database) must give the right offsets.
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Kyiv"
    rules = vtimezone.to_tz(lookup_tzid=False)
    utc_hour = {"before spring": 8, "after spring": 7, "before autumn": 7, "after autumn": 8}
    found = events(cal)
    for title, day in days.items():
        start = found[title].decoded("dtstart")
        assert start.astimezone(KYIV) == kyiv(day, 10), title
        by_vtimezone = start.replace(tzinfo=None).replace(tzinfo=rules)
        assert by_vtimezone.astimezone(UTC).hour == utc_hour[title], title
        assert (found[title].decoded("dtend") - start) == timedelta(hours=1)


def test_it_puts_each_dst_onset_at_the_true_instant(book, users):
    """RFC 5545: an onset's DTSTART/RDATE is wall time in TZOFFSETFROM. Kyiv springs
    forward at 03:00 EET (01:00 UTC); writing 04:00 would put 04:00–05:00 on the
    change day in a gap and move an early shoot by an hour on strict clients."""
    spring = last_sunday(timezone.localdate().year + 1, 3)
    book(kyiv(spring, 4, 30), title="Світанок з дрона")
    _, _, cal = fetch("ical_user", calendar.feed_token(users["operator"]))
    assert cal is not None
    (vtimezone,) = cal.walk("VTIMEZONE")
    onsets = 0
    for part in vtimezone.walk():
        if part.name not in ("STANDARD", "DAYLIGHT"):
            continue
        before, after = part.decoded("tzoffsetfrom"), part.decoded("tzoffsetto")
        if before == after:
            continue  # the opening rule, not a change
        rdates = part.get("rdate", [])
        rdates = rdates if isinstance(rdates, list) else [rdates]
        walls = [part.decoded("dtstart"), *(p.dt for rdate in rdates for p in rdate.dts)]
        for wall in walls:
            instant = (wall - before).replace(tzinfo=UTC)
            assert (instant - timedelta(minutes=1)).astimezone(KYIV).utcoffset() == before
            assert instant.astimezone(KYIV).utcoffset() == after
            onsets += 1
    assert onsets >= 8  # two a year over the years the feed covers
    rules = vtimezone.to_tz(lookup_tzid=False)
    start = events(cal)["Світанок з дрона"].decoded("dtstart")
    as_utc = start.replace(tzinfo=None).replace(tzinfo=rules).astimezone(UTC)
    assert (as_utc.hour, as_utc.minute) == (1, 30)


def test_it_lists_only_the_persons_own_shoots(book, users):
    mine = book(kyiv(timezone.localdate() + timedelta(days=20), 10), ["operator"], title="Моя")
    book(kyiv(timezone.localdate() + timedelta(days=21), 10), ["editor"], title="Чужа")
    _, _, cal = fetch("ical_user", calendar.feed_token(users["operator"]))
    assert cal is not None
    assert set(events(cal)) == {"Моя"}
    event = events(cal)["Моя"]
    assert str(event["uid"]) == calendar.uid_for(mine)
    assert str(event["location"]) == "Площа Ринок, 1"
    description = str(event["description"])
    assert "Андрій Коваль" in description and "camera operator" in description
    assert f"/shoots/{mine.pk}/" in description


def test_it_serves_the_whole_crew_feed_to_crew_tokens_only(book, users):
    book(kyiv(timezone.localdate() + timedelta(days=20), 10), ["operator"], title="Перша")
    book(kyiv(timezone.localdate() + timedelta(days=21), 10), ["editor"], title="Друга")
    status, _, cal = fetch("ical_crew", calendar.feed_token(users["journalist"]))
    assert status == 200 and cal is not None
    assert set(events(cal)) == {"Перша", "Друга"}
    # A requester who somehow holds a token gets nothing from either feed.
    requester_token = calendar.feed_token(users["health"])
    assert fetch("ical_crew", requester_token)[0] == 404
    assert fetch("ical_user", requester_token)[0] == 404


def test_it_answers_404_for_a_rotated_or_revoked_token(book, users):
    book(kyiv(timezone.localdate() + timedelta(days=20), 10))
    operator = users["operator"]
    old = calendar.feed_token(operator)
    assert fetch("ical_user", old)[0] == 200
    new = operator.profile.rotate_ical_token()
    assert fetch("ical_user", old)[0] == 404
    assert fetch("ical_crew", old)[0] == 404
    assert fetch("ical_user", new)[0] == 200
    calendar.revoke(operator)
    assert fetch("ical_user", new)[0] == 404
    assert fetch("ical_user", "x")[0] == 404


def test_it_bumps_sequence_on_reschedule_and_marks_cancelled(book, users):
    shoot = book(kyiv(timezone.localdate() + timedelta(days=20), 10), title="Сесія")
    token = calendar.feed_token(users["operator"])
    first = events(fetch("ical_user", token)[2])["Сесія"]  # type: ignore[arg-type]
    assert int(first["sequence"]) == 0 and str(first["status"]) == "CONFIRMED"
    later = kyiv(timezone.localdate() + timedelta(days=20), 15)
    workflow.reschedule(
        shoot, by=users["press"], starts_at=later, ends_at=later + timedelta(hours=1)
    )
    moved = events(fetch("ical_user", token)[2])["Сесія"]  # type: ignore[arg-type]
    assert str(moved["uid"]) == str(first["uid"])
    assert int(moved["sequence"]) == 1
    assert moved.decoded("dtstart").astimezone(KYIV).hour == 15
    workflow.cancel_shoot(shoot, by=users["press"], note="Сесію перенесли")
    gone = events(fetch("ical_user", token)[2])["Сесія"]  # type: ignore[arg-type]
    assert str(gone["status"]) == "CANCELLED" and int(gone["sequence"]) == 2


def test_it_shows_the_feed_addresses_and_rotates_them(users):
    client = Client()
    client.force_login(users["operator"])
    page = client.get(reverse("crew:ical_settings"))
    assert page.status_code == 200
    client.post(reverse("crew:ical_settings"), {"action": "rotate"})
    users["operator"].profile.refresh_from_db()
    token = users["operator"].profile.ical_token
    page = client.get(reverse("crew:ical_settings"))
    assert reverse("crew:ical_user", kwargs={"token": token}) in page.content.decode()
    assert reverse("crew:ical_crew", kwargs={"token": token}) in page.content.decode()
    client.post(reverse("crew:ical_settings"), {"action": "rotate"})
    users["operator"].profile.refresh_from_db()
    assert users["operator"].profile.ical_token != token
    assert fetch("ical_user", token)[0] == 404
    client.post(reverse("crew:ical_settings"), {"action": "revoke"})
    users["operator"].profile.refresh_from_db()
    assert users["operator"].profile.ical_token == ""


def test_it_keeps_requesters_off_the_feed_settings(users):
    client = Client()
    client.force_login(users["health"])
    assert client.get(reverse("crew:ical_settings")).status_code == 403
