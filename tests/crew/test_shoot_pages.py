"""The shoot pages as people use them: booking with clash messages, logging a shoot,
the footage list, rescheduling and cancelling, the calendar and one's own schedule."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crew import workflow
from crew.models import (
    Footage,
    Kit,
    Notification,
    NotificationKind,
    Shoot,
    ShootState,
    Status,
    StatusChange,
)
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob
from tests import factories

CM = workflow.CrewMember


def day(offset: int = 30) -> date:
    return timezone.localdate() + timedelta(days=offset)


def kyiv(d: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return timezone.make_aware(datetime(d.year, d.month, d.day, hour, minute))


def local_input(d: date, hhmm: str) -> str:
    return f"{d.isoformat()}T{hhmm}"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def camera(db) -> Kit:
    return Kit.objects.create(name="Sony FX3", kind=Kit.Kind.CAMERA)


@pytest.fixture
def book(users, channels):
    def make(d: date, start: str, end: str, people=("operator",), *, title="Зйомка") -> Shoot:
        request = factories.request_in_state("accepted", title=title)
        return workflow.schedule(
            request,
            by=users["press"],
            starts_at=kyiv(d, start),
            ends_at=kyiv(d, end),
            crew=[CM(users[name], "operator") for name in people],
            location="Палац культури",
        )

    return make


def schedule_form(users, d: date, start: str, end: str, **extra) -> dict:
    return {
        "starts_at": local_input(d, start),
        "ends_at": local_input(d, end),
        "location": "Школа №4",
        f"role_{users['operator'].pk}": "operator",
        f"role_{users['journalist'].pk}": "journalist",
        "notes": "Взяти петлички",
        **extra,
    }


# --- Booking ----------------------------------------------------------------------------


def test_it_lets_the_press_head_schedule_a_shoot_from_the_form(users, channels, camera):
    request = factories.request_in_state("accepted", title="День знань")
    press = client_for(users["press"])
    url = reverse("crew:shoot_new", kwargs={"request_pk": request.pk})
    page = press.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Андрій Коваль" in body and "Sony FX3" in body
    assert "Наталія Шевчук" not in body  # a requester is never offered as crew
    d = day()
    response = press.post(url, schedule_form(users, d, "10:00", "12:00", kit=[camera.pk]))
    shoot = Shoot.objects.get(request=request)
    assert response.status_code == 302 and response["Location"] == f"/shoots/{shoot.pk}/"
    assert timezone.localtime(shoot.starts_at) == kyiv(d, "10:00")
    assert {(a.user.username, a.role) for a in shoot.assignments.all()} == {
        ("operator", "operator"),
        ("journalist", "journalist"),
    }
    assert list(shoot.kit.all()) == [camera]
    request.refresh_from_db()
    assert request.status == Status.SCHEDULED
    page = press.get(response["Location"]).content.decode()
    assert "Школа №4" in page and "Взяти петлички" in page


def test_it_names_who_which_shoot_and_when_on_a_clash(users, book):
    d = day()
    other = book(d, "10:00", "12:00", ["operator"], title="Сесія міської ради")
    request = factories.request_in_state("accepted", title="Новий сквер")
    url = reverse("crew:shoot_new", kwargs={"request_pk": request.pk})
    response = client_for(users["press"]).post(url, schedule_form(users, d, "12:15", "13:00"))
    assert response.status_code == 409
    body = response.content.decode()
    assert "Андрій Коваль" in body
    assert "Сесія міської ради" in body
    assert f"{d:%d.%m.%Y} 10:00" in body and "12:00" in body
    assert f'href="/shoots/{other.pk}/"' in body
    assert "Марта Гнатів" not in body.split("clash-list")[1].split("</ul>")[0]  # she is free
    assert not Shoot.objects.filter(request=request).exists()


def test_it_refuses_an_end_before_the_start_and_a_missing_crew(users, channels):
    request = factories.request_in_state("accepted")
    url = reverse("crew:shoot_new", kwargs={"request_pk": request.pk})
    press = client_for(users["press"])
    response = press.post(url, schedule_form(users, day(), "12:00", "11:00"))
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    form = schedule_form(users, day(), "10:00", "11:00")
    form.pop(f"role_{users['operator'].pk}")
    form.pop(f"role_{users['journalist'].pk}")
    response = press.post(url, form)
    assert response.status_code == 400
    assert "Assign at least one crew member." in response.content.decode()
    assert not Shoot.objects.exists()


def test_it_refuses_a_wall_time_skipped_by_the_spring_change(users, channels):
    request = factories.request_in_state("accepted")
    year = timezone.localdate().year + 1
    spring = date(year, 3, 31) - timedelta(days=(date(year, 3, 31).weekday() + 1) % 7)
    url = reverse("crew:shoot_new", kwargs={"request_pk": request.pk})
    response = client_for(users["press"]).post(url, schedule_form(users, spring, "03:30", "05:00"))
    assert response.status_code == 400
    assert "Europe/Kyiv" in response.content.decode()  # "…may not exist" in Kyiv time
    assert not Shoot.objects.exists()


@pytest.mark.parametrize(("who", "code"), [("operator", 403), ("health", 403), ("education", 404)])
def test_it_lets_only_the_press_head_schedule(users, channels, who, code):
    request = factories.request_in_state("accepted", department="health")
    url = reverse("crew:shoot_new", kwargs={"request_pk": request.pk})
    client = client_for(users[who])
    assert client.get(url).status_code == code
    assert client.post(url, schedule_form(users, day(), "10:00", "11:00")).status_code == code
    assert not Shoot.objects.exists()


# --- The shoot page -------------------------------------------------------------------


def test_it_lets_the_crew_mark_the_shoot_done_with_a_log(users, book):
    shoot = book(day(), "10:00", "11:00", ["operator"])
    url = reverse("crew:shoot_complete", kwargs={"pk": shoot.pk})
    log = "Зняли директорку школи і перший урок; звук з петлички <b>тихий</b>"
    assert client_for(users["journalist"]).post(url, {"log": log}).status_code == 403
    operator = client_for(users["operator"])
    response = operator.post(url, {"log": log})
    assert response.status_code == 302
    shoot.refresh_from_db()
    shoot.request.refresh_from_db()
    assert shoot.state == ShootState.DONE and shoot.log == log
    assert shoot.request.status == Status.SHOT
    audit = StatusChange.objects.get(request=shoot.request, to_status=Status.SHOT)
    assert audit.actor == users["operator"] and audit.note == log
    page = operator.get(reverse("crew:shoot", kwargs={"pk": shoot.pk})).content.decode()
    assert "звук з петлички &lt;b&gt;тихий&lt;/b&gt;" in page  # shown, escaped
    again = operator.post(url, {"log": "ще раз"})
    assert again.status_code == 409


def test_it_shows_why_a_refused_file_failed(users, book):
    shoot = book(day(), "10:00", "11:00", ["operator"])
    asset = MediaAsset.objects.create(
        original_name="notes.txt",
        size=120,
        uploaded_by=users["operator"],
        status=AssetStatus.FAILED,
        error="Not an audio or video file: <text/plain>",
    )
    Footage.objects.create(shoot=shoot, media=asset, added_by=users["operator"])
    page = client_for(users["editor"]).get(reverse("crew:shoot", kwargs={"pk": shoot.pk}))
    body = page.content.decode()
    assert "notes.txt" in body
    assert "Not an audio or video file: &lt;text/plain&gt;" in body


def test_it_previews_footage_from_the_smallest_rendition_and_signs_the_download(users, book):
    shoot = book(day(), "10:00", "11:00", ["operator"])
    asset = factories.ready_asset(uploaded_by=users["operator"], purposes=("footage",))
    job = ProcessingJob.objects.get(asset=asset, purpose="footage")
    ProcessingJob.objects.filter(pk=job.pk).update(poster_key=f"{job.output_prefix}/poster.jpg")
    job.renditions.create(
        generation=1, name="360p", width=640, height=360, key=f"{job.output_prefix}/360p.mp4"
    )
    Footage.objects.create(shoot=shoot, media=asset, added_by=users["operator"])
    body = client_for(users["editor"]).get(reverse("crew:shoot", kwargs={"pk": shoot.pk}))
    html = body.content.decode()
    video = html.split("<video", 1)[1].split(">", 1)[0]
    assert "/360p.mp4" in video and "/poster.jpg" in video and "/720p.mp4" not in video
    assert "/original" in html and "download" in html
    assert "0:10" in html  # the duration


def test_it_lists_a_departments_footage_in_the_same_queries_for_few_and_many_clips(users, book):
    """The department that asked for the shoot sees its clips; checking that once for the
    shoot, not once per clip, keeps the page's queries flat."""
    shoot = book(day(), "10:00", "11:00", ["operator"])
    url = reverse("crew:shoot", kwargs={"pk": shoot.pk})

    def add_clips(n: int) -> None:
        for _ in range(n):
            asset = factories.ready_asset(uploaded_by=users["operator"], purposes=("footage",))
            Footage.objects.create(shoot=shoot, media=asset, added_by=users["operator"])

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            page = client_for(users["health"]).get(url)
        assert page.status_code == 200
        return len(ctx.captured_queries), page.content.decode()

    add_clips(2)
    few, _ = queries()
    add_clips(6)
    many, html = queries()
    assert many == few
    assert html.count("/original") == 8  # every clip's signed download link


def test_it_reschedules_from_the_shoot_page_and_tells_the_crew(
    users, book, django_capture_on_commit_callbacks
):
    shoot = book(day(), "10:00", "11:00", ["operator"])
    url = reverse("crew:shoot_reschedule", kwargs={"pk": shoot.pk})
    form = {
        "starts_at": local_input(day(), "14:00"),
        "ends_at": local_input(day(), "15:00"),
        "note": "Мер переніс",
    }
    assert client_for(users["operator"]).post(url, form).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users["press"]).post(url, form)
    assert response.status_code == 302
    shoot.refresh_from_db()
    assert timezone.localtime(shoot.starts_at) == kyiv(day(), "14:00")
    audit = StatusChange.objects.filter(subject=StatusChange.Subject.SHOOT, subject_id=shoot.pk)
    assert "Мер переніс" in audit.last().note
    assert Notification.objects.filter(
        user=users["operator"], kind=NotificationKind.SHOOT_CHANGED
    ).exists()


def test_it_shows_the_clash_when_rescheduling_onto_another_shoot(users, book):
    book(day(), "14:00", "15:00", ["operator"], title="Прийом громадян")
    shoot = book(day(), "10:00", "11:00", ["operator"])
    response = client_for(users["press"]).post(
        reverse("crew:shoot_reschedule", kwargs={"pk": shoot.pk}),
        {"starts_at": local_input(day(), "14:30"), "ends_at": local_input(day(), "15:30")},
    )
    assert response.status_code == 409
    assert "Прийом громадян" in response.content.decode()


def test_it_cancels_a_shoot_only_with_a_reason(users, book):
    shoot = book(day(), "10:00", "11:00", ["operator"])
    url = reverse("crew:shoot_cancel", kwargs={"pk": shoot.pk})
    press = client_for(users["press"])
    assert press.post(url, {"note": ""}).status_code == 400
    assert press.post(url, {"note": "Подію скасовано"}).status_code == 302
    shoot.refresh_from_db()
    shoot.request.refresh_from_db()
    assert shoot.state == ShootState.CANCELLED
    assert shoot.request.status == Status.ACCEPTED


def test_it_edits_crew_and_place_of_a_planned_shoot(users, book):
    shoot = book(day(), "10:00", "11:00", ["operator"])
    url = reverse("crew:shoot_edit", kwargs={"pk": shoot.pk})
    press = client_for(users["press"])
    assert press.get(url).status_code == 200
    response = press.post(
        url,
        {
            "starts_at": local_input(day(), "10:00"),
            "ends_at": local_input(day(), "11:30"),
            "location": "Стадіон",
            f"role_{users['editor'].pk}": "editor",
            "notes": "Дрон не брати",
        },
    )
    assert response.status_code == 302
    shoot.refresh_from_db()
    assert shoot.location == "Стадіон" and shoot.notes == "Дрон не брати"
    assert [a.user.username for a in shoot.assignments.all()] == ["editor"]


def test_it_lists_the_shoots_on_the_request_page(users, book):
    shoot = book(day(), "10:00", "11:00", ["operator"], title="Ремонт ліфтів")
    page = client_for(users["editor"]).get(reverse("crew:request", kwargs={"pk": shoot.request_id}))
    body = page.content.decode()
    assert f'href="/shoots/{shoot.pk}/"' in body and "Палац культури" in body
    assert "Андрій Коваль" in body


# --- Calendar ---------------------------------------------------------------------------


def test_it_shows_the_week_and_month_and_filters_by_person(users, book):
    monday = day(35) - timedelta(days=day(35).weekday())
    book(monday, "10:00", "11:00", ["operator"], title="Операторська зйомка")
    book(monday + timedelta(days=2), "15:00", "16:00", ["editor"], title="Монтажна нарада")
    client = client_for(users["journalist"])
    url = reverse("crew:calendar")
    for view in ("week", "month"):
        everyone = client.get(url, {"view": view, "date": monday.isoformat()})
        assert everyone.status_code == 200
        body = everyone.content.decode()
        assert "Операторська зйомка" in body and "Монтажна нарада" in body
        only = client.get(
            url, {"view": view, "date": monday.isoformat(), "person": users["operator"].pk}
        ).content.decode()
        assert "Операторська зйомка" in only and "Монтажна нарада" not in only
    next_week = client.get(
        url, {"view": "week", "date": (monday + timedelta(days=7)).isoformat()}
    ).content.decode()
    assert "Операторська зйомка" not in next_week
    for odd in ("not-a-date", "0001-01-01", "9999-12-31"):
        assert client.get(url, {"view": "week", "date": odd}).status_code == 200
        assert client.get(url, {"view": "month", "date": odd}).status_code == 200


def test_it_keeps_other_departments_shoots_out_of_a_requesters_calendar(users, book):
    book(day(), "10:00", "11:00", ["operator"], title="Лише для охорони здоров'я")
    body = client_for(users["education"]).get(reverse("crew:calendar"), {"date": day().isoformat()})
    assert "Лише для охорони здоров&#x27;я" not in body.content.decode()


def test_it_lists_my_upcoming_shoots(users, book):
    book(day(10), "10:00", "11:00", ["operator"], title="Моя зйомка")
    book(day(11), "10:00", "11:00", ["editor"], title="Не моя")
    body = client_for(users["operator"]).get(reverse("crew:my_schedule")).content.decode()
    assert "Моя зйомка" in body and "Не моя" not in body
