"""The conflict matrix: people, kit, the travel buffer, touching windows, states that
do not block, rescheduling, and the bad input a press head can type."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from crew import scheduling, workflow
from crew.exceptions import InvalidTransition, KadrError, ScheduleConflict
from crew.models import Kit, Shoot
from tests import factories

CM = workflow.CrewMember


def at(hhmm: str, days: int = 30) -> datetime:
    """A Kyiv wall time `days` from today."""
    day = timezone.localdate() + timedelta(days=days)
    hour, minute = (int(x) for x in hhmm.split(":"))
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


@pytest.fixture
def kit(db) -> dict[str, Kit]:
    return {
        "camera": Kit.objects.create(name="Sony FX3", kind=Kit.Kind.CAMERA),
        "drone": Kit.objects.create(name="DJI Mini", kind=Kit.Kind.DRONE),
    }


@pytest.fixture
def book(users, channels):
    """book("09:00", "10:00", ["operator"], kit=[...]) schedules a new accepted request."""

    def make(start: str, end: str, people=("operator",), *, kit=(), title="Зйомка") -> Shoot:
        request = factories.request_in_state("accepted", title=title)
        return workflow.schedule(
            request,
            by=users["press"],
            starts_at=at(start),
            ends_at=at(end),
            crew=[CM(users[name], "operator") for name in people],
            kit=list(kit),
            location="Ратуша",
        )

    return make


def test_it_refuses_a_person_in_two_overlapping_shoots(book, users):
    first = book("10:00", "12:00", ["operator"], title="Відкриття школи")
    with pytest.raises(ScheduleConflict) as caught:
        book("11:00", "13:00", ["operator", "journalist"])
    clashes = caught.value.clashes
    assert [(c["kind"], c["id"], c["shoot"]) for c in clashes] == [
        ("person", users["operator"].pk, first.pk)
    ]
    message = clashes[0]["message"]
    assert "Андрій Коваль" in message and "Відкриття школи" in message
    assert at("10:00").strftime("%d.%m.%Y 10:00") in message and "12:00" in message
    assert caught.value.status_code == 409


def test_it_refuses_a_kit_item_in_two_overlapping_shoots(book, kit):
    book("10:00", "12:00", ["operator"], kit=[kit["camera"]])
    with pytest.raises(ScheduleConflict) as caught:
        book("11:00", "13:00", ["editor"], kit=[kit["camera"], kit["drone"]])
    assert [(c["kind"], c["name"]) for c in caught.value.clashes] == [("kit", "Sony FX3")]


def test_it_books_overlapping_shoots_that_share_nobody_and_no_kit(book, kit):
    book("10:00", "12:00", ["operator"], kit=[kit["camera"]])
    second = book("10:00", "12:00", ["editor"], kit=[kit["drone"]])
    assert second.pk


@pytest.mark.parametrize(
    ("start", "end", "clash"),
    [
        ("10:20", "11:00", True),  # 20 min after the first ends: too little to travel
        ("10:30", "11:00", False),  # exactly the 30 min buffer: touching is fine
        ("07:00", "08:30", False),  # ends exactly 30 min before the first starts
        ("07:00", "08:40", True),  # ends 20 min before the first starts
        ("09:15", "09:45", True),  # inside the first
    ],
)
def test_it_keeps_the_travel_buffer_between_shoots(book, start, end, clash):
    book("09:00", "10:00", ["operator"])
    if clash:
        with pytest.raises(ScheduleConflict):
            book(start, end, ["operator"])
    else:
        assert book(start, end, ["operator"]).pk


def test_it_uses_the_travel_buffer_setting(book, settings):
    settings.KADR_TRAVEL_BUFFER_MINUTES = 0
    book("09:00", "10:00", ["operator"])
    assert book("10:00", "11:00", ["operator"]).pk  # touching windows, no buffer
    with pytest.raises(ScheduleConflict):
        book("10:59", "12:00", ["operator"])
    assert scheduling.travel_buffer() == timedelta(0)


def test_it_lets_a_cancelled_shoot_free_its_people_and_kit(book, users, kit):
    first = book("10:00", "12:00", ["operator"], kit=[kit["camera"]])
    workflow.cancel_shoot(first, by=users["press"], note="Подію перенесли")
    assert book("10:00", "12:00", ["operator"], kit=[kit["camera"]]).pk


def test_it_lets_a_done_shoot_free_its_people(book, users):
    first = book("10:00", "12:00", ["operator"])
    workflow.complete_shoot(first, by=users["operator"], log="Готово")
    assert book("11:00", "12:00", ["operator"]).pk


def test_it_reschedules_a_shoot_over_its_own_old_window(book, users):
    shoot = book("10:00", "12:00", ["operator"])
    workflow.reschedule(shoot, by=users["press"], starts_at=at("10:30"), ends_at=at("12:30"))
    shoot.refresh_from_db()
    assert shoot.starts_at == at("10:30")


def test_it_refuses_to_reschedule_into_another_booking(book, users):
    book("14:00", "15:00", ["operator"], title="Сесія ради")
    shoot = book("10:00", "11:00", ["operator"])
    with pytest.raises(ScheduleConflict) as caught:
        workflow.reschedule(shoot, by=users["press"], starts_at=at("14:15"), ends_at=at("15:00"))
    assert "Сесія ради" in caught.value.clashes[0]["message"]
    shoot.refresh_from_db()
    assert shoot.starts_at == at("10:00")  # nothing moved


def test_it_rejects_a_crew_member_without_the_crew_role(users, channels):
    request = factories.request_in_state("accepted")
    with pytest.raises(KadrError) as caught:
        workflow.schedule(
            request,
            by=users["press"],
            starts_at=at("10:00"),
            ends_at=at("11:00"),
            crew=[CM(users["health"], "operator")],
        )
    assert "Наталія Шевчук" in caught.value.message
    assert not Shoot.objects.filter(request=request).exists()


@pytest.mark.parametrize("end", ["10:00", "09:00"])
def test_it_rejects_an_end_not_after_the_start(users, channels, end):
    request = factories.request_in_state("accepted")
    with pytest.raises(KadrError) as caught:
        workflow.schedule(
            request,
            by=users["press"],
            starts_at=at("10:00"),
            ends_at=at(end),
            crew=[CM(users["operator"], "operator")],
        )
    assert caught.value.details["field"] == "ends_at"
    assert caught.value.status_code == 400


def test_it_refuses_to_move_a_shoot_cancelled_meanwhile(book, users):
    shoot = book("10:00", "11:00", ["operator"])
    stale = Shoot.objects.get(pk=shoot.pk)  # another press head's copy, still "planned"
    workflow.cancel_shoot(shoot, by=users["press"], note="Скасовано")
    with pytest.raises(InvalidTransition):
        workflow.reschedule(stale, by=users["press"], starts_at=at("12:00"), ends_at=at("13:00"))
    shoot.refresh_from_db()
    assert shoot.starts_at == at("10:00")


def test_it_refuses_a_person_listed_twice_when_rescheduling(book, users):
    shoot = book("10:00", "11:00", ["operator"])
    with pytest.raises(KadrError) as caught:
        workflow.reschedule(
            shoot,
            by=users["press"],
            starts_at=at("10:00"),
            ends_at=at("11:00"),
            crew=[CM(users["editor"], "editor"), CM(users["editor"], "driver")],
        )
    assert caught.value.status_code == 400
    assert [a.user.username for a in shoot.assignments.all()] == ["operator"]
