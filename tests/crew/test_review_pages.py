"""The review pages: the cut stack on the request page, the cut's page with its player,
comments and decisions, compare, notifications and their settings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crew import workflow
from crew.models import Comment, Notification, NotificationOptOut, Status
from tests import factories


@pytest.fixture
def login(client, users):
    def as_(name):
        client.force_login(users[name])
        return client

    return as_


def _cut(make_request, state=Status.IN_REVIEW, **kw):
    request = make_request(state, **kw)
    return request, request.versions.order_by("-number").first()


def test_it_shows_the_cut_stack_on_the_request_page(login, make_request, users):
    request, version = _cut(make_request, Status.EDITING)
    Comment.objects.create(version=version, author=users["press"], text="a", timecode=1)

    page = login("editor").get(reverse("crew:request", kwargs={"pk": request.pk}))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="cut-{version.pk}"' in html
    assert "v1" in html
    assert 'data-action="submit"' in html
    assert 'data-purpose="review"' in html
    assert "1 comment, 1 open" in html


def test_it_shows_the_player_and_the_decision_to_the_press_head(login, make_request):
    _, version = _cut(make_request)

    html = login("press").get(reverse("crew:version", kwargs={"pk": version.pk})).content.decode()

    assert "data-player" in html
    assert "720p.mp4" in html  # the rendition's signed URL
    assert 'data-action="approve"' in html
    assert 'data-action="request-changes"' in html


def test_it_hides_the_decision_from_the_crew(login, make_request):
    _, version = _cut(make_request)

    html = login("editor").get(reverse("crew:version", kwargs={"pk": version.pk})).content.decode()

    assert 'data-action="approve"' not in html


def test_it_pins_a_comment_typed_as_a_timecode(login, make_request):
    _, version = _cut(make_request)

    response = login("press").post(
        reverse("crew:comment_add", kwargs={"pk": version.pk}),
        {"timecode": "00:00:01:00", "timecode_end": "", "text": "Тут"},
    )

    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.timecode == 1.0
    page = login("press").get(response["Location"]).content.decode()
    assert "00:00:01:00" in page


def test_it_shows_script_in_a_comment_as_text(login, make_request):
    _, version = _cut(make_request)
    login("press").post(
        reverse("crew:comment_add", kwargs={"pk": version.pk}),
        {"timecode": "2", "text": "<script>alert('x')</script>"},
    )

    html = login("press").get(reverse("crew:version", kwargs={"pk": version.pk})).content.decode()

    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_it_answers_a_timecode_past_the_end_with_the_reason(login, make_request):
    _, version = _cut(make_request)

    response = login("press").post(
        reverse("crew:comment_add", kwargs={"pk": version.pk}), {"timecode": "99", "text": "?"}
    )

    assert response.status_code == 400
    assert "10.00 s long" in response.content.decode()
    assert not Comment.objects.exists()


def test_it_approves_from_the_page(login, make_request):
    request, version = _cut(make_request)

    response = login("press").post(
        reverse("crew:version_approve", kwargs={"pk": version.pk}), {"note": ""}
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_it_asks_for_a_note_before_requesting_changes(login, make_request):
    request, version = _cut(make_request)

    response = login("press").post(
        reverse("crew:version_request_changes", kwargs={"pk": version.pk}), {"note": ""}
    )

    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW


def test_it_refuses_to_submit_a_cut_still_processing_with_the_reason(login, make_request, users):
    request = make_request(Status.SHOT)
    version = workflow.add_version(
        request, by=users["editor"], asset=factories.processing_asset(uploaded_by=users["editor"])
    )

    response = login("editor").post(reverse("crew:version_submit", kwargs={"pk": version.pk}))

    assert response.status_code == 409
    assert "still being processed" in response.content.decode()


def test_it_resolves_and_reopens_a_comment(login, make_request, users):
    _, version = _cut(make_request)
    comment = Comment.objects.create(version=version, author=users["press"], text="x", timecode=1)
    editor = login("editor")

    editor.post(reverse("crew:comment_resolve", kwargs={"pk": comment.pk}))
    comment.refresh_from_db()
    assert comment.resolved_at is not None
    editor.post(reverse("crew:comment_reopen", kwargs={"pk": comment.pk}))
    comment.refresh_from_db()
    assert comment.resolved_at is None


def test_it_compares_two_cuts(login, make_request, users):
    request, _ = _cut(make_request, Status.CHANGES_REQUESTED)
    workflow.add_version(
        request, by=users["editor"], asset=factories.ready_asset(uploaded_by=users["editor"])
    )

    html = login("press").get(reverse("crew:compare", kwargs={"pk": request.pk})).content.decode()

    assert html.count("data-player ") == 2
    assert "data-compare-controls" in html


def test_it_hides_a_cut_from_another_departments_requester(login, make_request):
    _, version = _cut(make_request, department="health")

    assert (
        login("education").get(reverse("crew:version", kwargs={"pk": version.pk})).status_code
        == 404
    )
    assert (
        login("health").get(reverse("crew:version", kwargs={"pk": version.pk})).status_code == 200
    )


def test_it_lists_notifications_with_the_bell_count_and_marks_them_read(
    login, make_request, users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _cut(make_request)
    press = login("press")

    page = press.get(reverse("crew:notifications")).content.decode()
    assert "awaits your review" in page
    assert 'class="count">1<' in page

    press.post(reverse("crew:notifications_read_all"))
    assert not Notification.objects.filter(user=users["press"], read_at__isnull=True).exists()


def test_it_saves_notification_opt_outs(login, users):
    page = login("editor").get(reverse("crew:notification_settings"))
    assert page.status_code == 200

    login("editor").post(
        reverse("crew:notification_settings"),
        {"receive": ["cut_approved:in_app", "changes_requested:in_app", "changes_requested:email"]},
    )

    off = set(NotificationOptOut.objects.filter(user=users["editor"]).values_list("kind", "medium"))
    assert ("cut_approved", "email") in off
    assert ("cut_approved", "in_app") not in off
    assert ("changes_requested", "email") not in off


def test_it_answers_a_broken_reply_form_with_400(login, make_request):
    _, version = _cut(make_request)

    response = login("press").post(
        reverse("crew:comment_add", kwargs={"pk": version.pk}), {"parent": "abc", "text": "?"}
    )

    assert response.status_code == 400
