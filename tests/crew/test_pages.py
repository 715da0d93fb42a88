"""Every tracker page renders for every role through the browser's path (Django's test
client), anonymous visitors are sent to log in, and another department's request is a 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from crew.models import Profile, Status, StatusChange

ROLES = ["press", "operator", "journalist", "health", "education"]


@pytest.fixture
def client_for(users):
    def make(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        return client

    return make


@pytest.fixture
def health_request(make_request):
    return make_request("scheduled", department="health", title="Щеплення в амбулаторії №2")


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_it_renders_the_board_list_and_my_work_for_every_role(client_for, health_request, username):
    client = client_for(username)
    for name in ("crew:board", "crew:request_list", "crew:my_work"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert b'class="topbar"' in response.content
    board = client.get(reverse("crew:board")).content.decode()
    if username == "education":
        assert "Щеплення в амбулаторії №2" not in board
    else:
        assert "Щеплення в амбулаторії №2" in board


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["press", "operator", "journalist", "health"])
def test_it_renders_the_request_page_for_everyone_who_may_see_it(
    client_for, health_request, username
):
    response = client_for(username).get(reverse("crew:request", kwargs={"pk": health_request.pk}))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Щеплення в амбулаторії №2" in page
    # The timeline shows who moved it, with translated labels.
    assert "Оксана Мельник" in page
    assert "scheduled" in page


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["press", "health", "education"])
def test_it_renders_the_new_request_form_for_those_who_may_file(client_for, username):
    response = client_for(username).get(reverse("crew:request_new"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="title"' in page
    # Only the press head chooses the department and the source.
    assert ('name="department"' in page) == (username == "press")
    assert ('name="source"' in page) == (username == "press")


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["operator", "journalist"])
def test_it_shows_a_friendly_403_to_crew_on_the_new_request_form(client_for, username):
    response = client_for(username).get(reverse("crew:request_new"))
    assert response.status_code == 403
    assert b"error-code" in response.content


@pytest.mark.django_db
def test_it_renders_the_login_page_and_logs_in(users):
    client = Client()
    assert client.get(reverse("login")).status_code == 200
    users["health"].set_password("s3cret-pass")
    users["health"].save()
    response = client.post(reverse("login"), {"username": "health", "password": "s3cret-pass"})
    assert response.status_code == 302
    assert response["Location"] == reverse("crew:board")


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in(health_request):
    client = Client()
    pk = health_request.pk
    for url in (
        reverse("crew:board"),
        reverse("crew:request_list"),
        reverse("crew:my_work"),
        reverse("crew:request_new"),
        reverse("crew:request", kwargs={"pk": pk}),
        reverse("crew:request_edit", kwargs={"pk": pk}),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    response = client.post(reverse("crew:request_cancel", kwargs={"pk": pk}), {"cancel-note": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_it_hides_a_health_request_from_education_on_every_page(client_for, make_request):
    submitted = make_request("submitted", department="health", title="Таємна нарада")
    client = client_for("education")
    pk = submitted.pk
    assert client.get(reverse("crew:request", kwargs={"pk": pk})).status_code == 404
    assert client.get(reverse("crew:request_edit", kwargs={"pk": pk})).status_code == 404
    for action in ("accept", "decline", "cancel"):
        response = client.post(
            reverse(f"crew:request_{action}", kwargs={"pk": pk}), {f"{action}-note": "хочу"}
        )
        assert response.status_code == 404, action
    assert "Таємна нарада" not in client.get(reverse("crew:board")).content.decode()
    assert "Таємна нарада" not in client.get(reverse("crew:request_list")).content.decode()
    assert "Таємна нарада" not in client.get(reverse("crew:my_work")).content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert StatusChange.objects.filter(request=submitted).count() == 1


@pytest.mark.django_db
def test_it_answers_404_for_a_missing_request(client_for):
    response = client_for("press").get(reverse("crew:request", kwargs={"pk": 999999}))
    assert response.status_code == 404
    assert b"error-code" in response.content


@pytest.mark.django_db
def test_it_lets_the_requester_file_for_their_own_department(client_for, users):
    client = client_for("health")
    response = client.post(
        reverse("crew:request_new"),
        {"title": "День відкритих дверей", "priority": 2, "contact_phone": "+380 67 123 45 67"},
    )
    assert response.status_code == 302
    detail = client.get(response["Location"])
    page = detail.content.decode()
    assert "День відкритих дверей" in page
    assert "Охорона здоров&#x27;я" in page or "Охорона здоров'я" in page
    request_obj = detail.context["request_obj"]
    assert request_obj.department == users["health"].profile.department
    assert request_obj.requested_by == users["health"]
    assert request_obj.history.get().to_status == Status.SUBMITTED


@pytest.mark.django_db
def test_it_lets_the_press_head_file_for_any_department_with_a_source(
    client_for, departments, users
):
    education = users["education"].profile.department
    response = client_for("press").post(
        reverse("crew:request_new"),
        {
            "title": "Звернення мешканців",
            "department": education.pk,
            "source": "resident",
            "priority": 3,
        },
    )
    assert response.status_code == 302
    created = education.requests.get(title="Звернення мешканців")
    assert created.source == "resident"
    assert created.requested_by == users["press"]


@pytest.mark.django_db
def test_it_lets_a_requester_edit_a_submitted_request_but_not_an_accepted_one(
    client_for, make_request
):
    submitted = make_request("submitted", department="health", title="Перша назва")
    client = client_for("health")
    url = reverse("crew:request_edit", kwargs={"pk": submitted.pk})
    assert client.get(url).status_code == 200
    response = client.post(url, {"title": "Друга назва", "priority": 2})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.title == "Друга назва"
    assert submitted.status == Status.SUBMITTED

    accepted = make_request("accepted", department="health", title="Прийнята")
    assert client.get(reverse("crew:request_edit", kwargs={"pk": accepted.pk})).status_code == 403


@pytest.mark.django_db
def test_it_switches_the_language_in_one_click(client_for, settings):
    settings.LANGUAGE_CODE = "uk"
    client = client_for("press")
    assert '<html lang="uk">' in client.get(reverse("crew:board")).content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("crew:board")).content.decode()
    assert '<html lang="en">' in page
    assert "Board" in page
    response = client.post(reverse("set_language"), {"language": "uk", "next": "/"})
    assert '<html lang="uk">' in client.get(reverse("crew:board")).content.decode()


@pytest.mark.django_db
def test_it_remembers_a_signed_in_persons_language_on_their_next_browser(
    client_for, users, settings
):
    settings.LANGUAGE_CODE = "uk"
    client_for("editor").post(reverse("set_language"), {"language": "en", "next": "/"})
    assert Profile.objects.get(user=users["editor"]).language == "en"

    another_browser = client_for("editor")  # no language cookie yet
    assert '<html lang="en">' in another_browser.get(reverse("crew:board")).content.decode()
    # Other people, and anonymous visitors, are not affected.
    assert '<html lang="uk">' in client_for("press").get(reverse("crew:board")).content.decode()
    Client().post(reverse("set_language"), {"language": "en", "next": "/"})
    assert not Profile.objects.filter(user=users["press"]).exclude(language="").exists()


@pytest.mark.django_db
def test_it_shows_the_schedule_button_to_the_press_head_only(client_for, make_request):
    accepted = make_request("accepted", department="health")
    url = reverse("crew:request", kwargs={"pk": accepted.pk})
    shoot_new = reverse("crew:shoot_new", kwargs={"request_pk": accepted.pk})
    assert shoot_new in client_for("press").get(url).content.decode()
    assert shoot_new not in client_for("operator").get(url).content.decode()
    assert shoot_new not in client_for("health").get(url).content.decode()


@pytest.mark.django_db
def test_it_speaks_ukrainian_by_default_even_to_an_english_browser(client_for, settings):
    settings.LANGUAGE_CODE = "uk"
    client = client_for("health")
    page = client.get(reverse("crew:board"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="uk">' in page.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("crew:board"), HTTP_ACCEPT_LANGUAGE="uk")
    assert '<html lang="en">' in page.content.decode()


@pytest.mark.django_db
def test_it_shows_times_in_kyiv(client_for, make_request, settings):
    settings.TIME_ZONE = "Europe/Kyiv"
    request_obj = make_request("submitted")
    # 10:00 UTC on a winter day is 12:00 in Kyiv.
    request_obj.history.update(at=datetime(2026, 1, 15, 10, 0, tzinfo=UTC))
    page = client_for("press").get(reverse("crew:request", kwargs={"pk": request_obj.pk}))
    assert "15.01.2026 12:00" in page.content.decode()


def test_it_has_a_friendly_500_page_that_needs_no_context():
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "500" in html
    assert "app.css" in html
