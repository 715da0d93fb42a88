"""GET, POST /api/v1/versions/{id}/comments/; POST /api/v1/comments/{id}/resolve/ and …/reopen/."""

from __future__ import annotations

from crew.models import Status
from tests import factories


def _cut(make_request, state=Status.IN_REVIEW, department="health"):
    request = make_request(state, department=department)
    return request, request.versions.order_by("-number").first()


def _post(client, version, **body):
    return client.post(f"/api/v1/versions/{version.pk}/comments/", body, format="json")


def test_it_pins_a_comment_to_a_moment_and_a_range(api, make_request):
    _, version = _cut(make_request)

    point = _post(api("press"), version, timecode=1.0, text="Тут різкий звук")
    span = _post(api("press"), version, timecode=2.0, timecode_end=4.5, text="Скоротити")

    assert point.status_code == 201, point.json()
    assert point.json()["timecode"] == 1.0
    assert point.json()["author"]["username"] == "press"
    assert span.json()["timecode_end"] == 4.5


def test_it_rejects_a_timecode_below_zero(api, make_request):
    _, version = _cut(make_request)

    response = _post(api("press"), version, timecode=-0.5, text="?")

    assert response.status_code == 400
    assert "timecode" in response.json()


def test_it_rejects_a_timecode_past_the_end(api, make_request):
    _, version = _cut(make_request)  # the cut is 10 s long

    late = _post(api("press"), version, timecode=10.5, text="?")
    late_end = _post(api("press"), version, timecode=9.0, timecode_end=11, text="?")

    assert late.status_code == 400
    assert late_end.status_code == 400
    assert "timecode_end" in late_end.json()


def test_it_rejects_a_range_that_ends_before_it_starts(api, make_request):
    _, version = _cut(make_request)

    assert _post(api("press"), version, timecode=5, timecode_end=3, text="?").status_code == 400


def test_it_rejects_an_empty_comment(api, make_request):
    _, version = _cut(make_request)

    assert _post(api("press"), version, timecode=1, text="   ").status_code == 400


def test_it_lists_comments_by_time_with_untimed_last(api, make_request):
    _, version = _cut(make_request)
    press = api("press")
    _post(press, version, text="Загалом добре")
    _post(press, version, timecode=7, text="сьома")
    _post(press, version, timecode=2.5, text="друга")

    listed = press.get(f"/api/v1/versions/{version.pk}/comments/").json()

    assert [c["text"] for c in listed] == ["друга", "сьома", "Загалом добре"]


def test_it_threads_replies_under_their_comment(api, make_request):
    _, version = _cut(make_request)
    first = _post(api("press"), version, timecode=3, text="Титр з помилкою").json()

    answer = _post(api("editor"), version, parent=first["id"], text="Виправлено")

    assert answer.status_code == 201
    assert answer.json()["parent"] == first["id"]
    listed = api("press").get(f"/api/v1/versions/{version.pk}/comments/").json()
    assert len(listed) == 1
    assert [r["text"] for r in listed[0]["replies"]] == ["Виправлено"]


def test_it_lets_the_editor_resolve_and_reopen(api, make_request):
    _, version = _cut(make_request)
    comment = _post(api("press"), version, timecode=3, text="Титр з помилкою").json()

    resolved = api("editor").post(f"/api/v1/comments/{comment['id']}/resolve/")
    again = api("editor").post(f"/api/v1/comments/{comment['id']}/resolve/")
    reopened = api("press").post(f"/api/v1/comments/{comment['id']}/reopen/")

    assert resolved.status_code == 200
    assert resolved.json()["resolved"] is True
    assert resolved.json()["resolved_by"]["username"] == "editor"
    assert again.status_code == 409
    assert reopened.json()["resolved"] is False


def test_it_lets_the_requester_of_the_department_comment(api, make_request):
    _, version = _cut(make_request, department="health")

    response = _post(api("health"), version, timecode=0.5, text="Прізвище лікаря інше")

    assert response.status_code == 201


def test_it_hides_comments_from_a_requester_of_another_department(api, make_request):
    _, version = _cut(make_request, department="health")
    _post(api("press"), version, timecode=1, text="внутрішнє")

    assert api("education").get(f"/api/v1/versions/{version.pk}/comments/").status_code == 404
    assert _post(api("education"), version, text="?").status_code == 404


def test_it_keeps_earlier_cuts_comments_readable_from_the_later_cut(api, make_request, users):
    request, v1 = _cut(make_request, state=Status.CHANGES_REQUESTED)
    _post(api("press"), v1, timecode=1, text="на першій версії")
    asset = factories.ready_asset(uploaded_by=users["editor"])
    v2 = (
        api("editor")
        .post(f"/api/v1/requests/{request.pk}/versions/", {"media": str(asset.pk)}, format="json")
        .json()
    )

    listed = api("press").get(f"/api/v1/versions/{v2['id']}/comments/?earlier=1").json()

    assert [(c["version_number"], c["text"]) for c in listed] == [(1, "на першій версії")]


def test_it_returns_script_as_plain_text(api, make_request):
    _, version = _cut(make_request)
    text = "<script>alert(1)</script>"

    _post(api("press"), version, timecode=1, text=text)

    listed = api("press").get(f"/api/v1/versions/{version.pk}/comments/").json()
    assert listed[0]["text"] == text
