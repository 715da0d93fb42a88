"""Who hears about what, in the app and by e-mail; opt-outs; a mail outage never breaks a page."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from crew import workflow
from crew.models import Notification, NotificationKind, NotificationOptOut, Profile, Status


class BrokenBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server is down")


class FlakyBackend(LocmemBackend):
    """Refuses the first two connections, then delivers."""

    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        if type(self).attempts <= 2:
            raise ConnectionRefusedError("try later")
        return super().send_messages(email_messages)


def _kinds(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def _submit(api, version):
    return api("editor").post(f"/api/v1/versions/{version.pk}/submit/")


def test_it_tells_the_press_head_a_cut_awaits_review(
    api, make_request, users, django_capture_on_commit_callbacks
):
    request = make_request(Status.EDITING)
    version = request.versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        assert _submit(api, version).status_code == 200

    note = Notification.objects.get(user=users["press"], kind=NotificationKind.CUT_AWAITS_REVIEW)
    assert note.request == request
    assert note.actor == users["editor"]
    assert note.url == f"/cuts/{version.pk}/"
    assert note.text == "v1"
    assert NotificationKind.CUT_AWAITS_REVIEW not in _kinds(users["editor"])  # not the actor
    assert NotificationKind.CUT_AWAITS_REVIEW not in _kinds(users["health"])


def test_it_tells_the_editor_and_crew_about_requested_changes_with_the_note(
    api, make_request, users, django_capture_on_commit_callbacks
):
    version = make_request(Status.IN_REVIEW).versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        api("press").post(
            f"/api/v1/versions/{version.pk}/request-changes/", {"note": "Прибрати музику"}
        )

    for name in ("editor", "operator"):
        note = Notification.objects.get(user=users[name], kind=NotificationKind.CHANGES_REQUESTED)
        assert note.text == "v1: Прибрати музику"
    assert not Notification.objects.filter(user=users["health"]).exclude(
        kind=NotificationKind.REQUEST_SCHEDULED
    )


def test_it_tells_the_crew_a_cut_was_approved(
    api, make_request, users, django_capture_on_commit_callbacks
):
    version = make_request(Status.IN_REVIEW).versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        api("press").post(f"/api/v1/versions/{version.pk}/approve/")

    assert NotificationKind.CUT_APPROVED in _kinds(users["editor"])
    assert NotificationKind.CUT_APPROVED not in _kinds(users["press"])


def test_it_tells_the_requester_when_scheduled_and_published(
    make_request, users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_request(Status.PUBLISHED, department="health")

    kinds = _kinds(users["health"])
    assert NotificationKind.REQUEST_SCHEDULED in kinds
    assert NotificationKind.REQUEST_PUBLISHED in kinds
    assert _kinds(users["education"]) == []


def test_it_tells_a_person_taken_off_a_shoot_as_well_as_the_crew_left_on_it(
    make_request, users, django_capture_on_commit_callbacks
):
    shoot = make_request(Status.SCHEDULED).shoots.get()
    assert set(shoot.crew.all()) == {users["operator"], users["editor"]}

    with django_capture_on_commit_callbacks(execute=True):
        workflow.reschedule(
            shoot,
            by=users["press"],
            starts_at=shoot.starts_at + timedelta(hours=2),
            ends_at=shoot.ends_at + timedelta(hours=2),
            crew=[workflow.CrewMember(users["operator"], "operator")],
        )

    assert NotificationKind.SHOOT_CHANGED in _kinds(users["operator"])
    assert NotificationKind.SHOOT_CHANGED in _kinds(users["editor"])  # taken off the shoot
    assert NotificationKind.SHOOT_CHANGED not in _kinds(users["press"])  # the actor
    assert _kinds(users["health"]) == []  # the requester is not on the crew


def test_it_respects_an_in_app_opt_out(
    api, make_request, users, django_capture_on_commit_callbacks
):
    NotificationOptOut.objects.create(
        user=users["press"], kind=NotificationKind.CUT_AWAITS_REVIEW, medium="in_app"
    )
    version = make_request(Status.EDITING).versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        _submit(api, version)

    assert _kinds(users["press"]) == []
    assert [m.to for m in mail.outbox] == [["press@kadr.local"]]  # e-mail still wanted


def test_it_respects_an_e_mail_opt_out(
    api, make_request, users, django_capture_on_commit_callbacks
):
    NotificationOptOut.objects.create(
        user=users["press"], kind=NotificationKind.CUT_AWAITS_REVIEW, medium="email"
    )
    version = make_request(Status.EDITING).versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        _submit(api, version)

    assert _kinds(users["press"]) == [NotificationKind.CUT_AWAITS_REVIEW]
    assert mail.outbox == []


def test_it_sends_e_mail_through_the_task_only_after_commit(
    api, make_request, users, django_capture_on_commit_callbacks
):
    version = make_request(Status.EDITING).versions.get()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _submit(api, version)
    assert mail.outbox == []  # nothing leaves before the transaction commits
    while callbacks:
        pending, callbacks[:] = list(callbacks), []
        for callback in pending:
            with django_capture_on_commit_callbacks(execute=False) as more:
                callback()
            callbacks.extend(more)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["press@kadr.local"]
    assert "Відкриття амбулаторії" in message.subject
    assert f"/cuts/{version.pk}/" in message.body
    assert Notification.objects.get(user=users["press"]).emailed_at is not None


def test_it_writes_each_e_mail_in_the_language_its_reader_chose(
    api, make_request, users, settings, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    settings.LANGUAGE_CODE = "uk"
    second_press = users["press"].__class__.objects.create_user(
        "deputy", email="deputy@kadr.local", password="x"
    )
    second_press.groups.add(Group.objects.get(name="press"))
    Profile.objects.update_or_create(user=second_press, defaults={"language": "en"})
    version = make_request(Status.EDITING).versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        _submit(api, version)

    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert "awaits your review" in subjects["deputy@kadr.local"]
    assert "awaits your review" not in subjects["press@kadr.local"]
    assert "Kadr" in subjects["deputy@kadr.local"] and "Кадр" in subjects["press@kadr.local"]


def test_it_keeps_the_page_working_when_the_mail_server_is_down(
    api, make_request, users, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.crew.test_notifications.BrokenBackend"
    version = make_request(Status.EDITING).versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = _submit(api, version)

    assert response.status_code == 200
    note = Notification.objects.get(user=users["press"])
    assert note.emailed_at is None  # not sent, and the in-app notice is there


def test_it_retries_mail_until_the_server_answers(
    api, make_request, users, settings, django_capture_on_commit_callbacks
):
    from config.celery import app

    settings.EMAIL_BACKEND = "tests.crew.test_notifications.FlakyBackend"
    FlakyBackend.attempts = 0
    version = make_request(Status.EDITING).versions.get()

    # As with a worker, a Retry re-queues the task instead of surfacing to the caller
    # (eager mode runs the retry at once, without the backoff delay).
    app.conf.task_eager_propagates = False
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _submit(api, version)
    finally:
        app.conf.task_eager_propagates = True

    assert FlakyBackend.attempts == 3
    assert [m.to for m in mail.outbox] == [["press@kadr.local"]]
    assert Notification.objects.get(user=users["press"]).emailed_at is not None


def test_it_lists_marks_read_and_counts_unread(
    api, client, make_request, users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_request(Status.IN_REVIEW)
    press = api("press")
    listed = press.get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in listed] == ["cut_awaits_review"]
    assert "awaits your review" in listed[0]["headline"]

    press.post(f"/api/v1/notifications/{listed[0]['id']}/read/")

    client.force_login(users["press"])
    assert client.get("/").context["unread_notifications"] == 0
    assert press.post("/api/v1/notifications/read-all/").json() == {"marked": 0}


def test_it_does_not_let_one_mark_another_persons_notification(
    api, make_request, users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_request(Status.IN_REVIEW)
    note = Notification.objects.get(user=users["press"])

    assert api("editor").post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None
