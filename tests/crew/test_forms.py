"""The request form answers bad input with a message next to the field, and whatever
people type is shown back escaped, never as markup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crew.models import ShootRequest

SCRIPT = '<script>alert("x")</script><b>жирний</b>'


@pytest.fixture
def press_client(users) -> Client:
    client = Client()
    client.force_login(users["press"])
    return client


@pytest.fixture
def health_client(users) -> Client:
    client = Client()
    client.force_login(users["health"])
    return client


def _post(client: Client, department=None, **data):
    body = {"title": "Ремонт дитсадка", "priority": 2, **data}
    if department is not None:
        body["department"] = department
    return client.post(reverse("crew:request_new"), body)


def _field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


@pytest.mark.django_db
def test_it_rejects_an_empty_title_next_to_the_field(health_client):
    response = _post(health_client, title="   ")
    assert response.status_code == 200
    assert _field_errors(response, "title") == ["Give the request a title."]
    assert 'id="id_title_error"' in response.content.decode()
    assert not ShootRequest.objects.exists()


@pytest.mark.django_db
def test_it_rejects_an_over_long_title(health_client):
    response = _post(health_client, title="К" * 201)
    errors = _field_errors(response, "title")
    assert len(errors) == 1
    assert "200" in errors[0]
    assert not ShootRequest.objects.exists()


@pytest.mark.django_db
def test_it_rejects_an_unknown_department(press_client):
    response = _post(press_client, department=999999)
    assert _field_errors(response, "department") == ["Unknown department; pick one from the list."]
    response = _post(press_client, department="not-a-number")
    assert _field_errors(response, "department") == ["Unknown department; pick one from the list."]
    assert not ShootRequest.objects.exists()


@pytest.mark.django_db
def test_it_requires_the_department_from_the_press_head(press_client):
    response = _post(press_client)
    assert _field_errors(response, "department") == ["Choose the department."]


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["дзвоніть мені", "12", "+38 (067) abc", "<b>1234567</b>"])
def test_it_rejects_a_phone_that_is_not_one(health_client, phone):
    response = _post(health_client, contact_phone=phone)
    errors = _field_errors(response, "contact_phone")
    assert errors and "phone number" in errors[0]
    assert not ShootRequest.objects.exists()


@pytest.mark.django_db
def test_it_accepts_a_real_phone_number(health_client):
    response = _post(health_client, contact_phone="+380 (67) 123-45-67")
    assert response.status_code == 302
    assert ShootRequest.objects.get().contact_phone == "+380 (67) 123-45-67"


@pytest.mark.django_db
def test_it_rejects_a_desired_date_in_the_past(health_client):
    yesterday = timezone.localtime() - timedelta(days=1)
    response = _post(health_client, desired_at=yesterday.strftime("%Y-%m-%dT%H:%M"))
    assert _field_errors(response, "desired_at") == ["The desired date is in the past."]
    assert not ShootRequest.objects.exists()


@pytest.mark.django_db
def test_it_reads_the_desired_date_in_kyiv_time(health_client):
    tomorrow = timezone.localtime() + timedelta(days=1)
    response = _post(health_client, desired_at=tomorrow.strftime("%Y-%m-%dT10:30"))
    assert response.status_code == 302
    desired = timezone.localtime(ShootRequest.objects.get().desired_at)
    assert (desired.hour, desired.minute) == (10, 30)
    assert str(desired.tzinfo) == "Europe/Kyiv"


@pytest.mark.django_db
def test_it_rejects_a_deadline_in_the_past(health_client):
    response = _post(health_client, deadline="2020-01-01")
    assert _field_errors(response, "deadline") == ["The deadline is in the past."]


@pytest.mark.django_db
def test_it_keeps_what_was_typed_when_the_form_comes_back(health_client):
    response = _post(health_client, title="", description="Довгий опис події")
    assert "Довгий опис події" in response.content.decode()


@pytest.mark.django_db
def test_it_shows_html_typed_into_title_and_description_escaped(health_client, users):
    response = _post(health_client, title=SCRIPT, description=SCRIPT, location=SCRIPT)
    assert response.status_code == 302
    pages = [
        health_client.get(response["Location"]),
        health_client.get(reverse("crew:board")),
        health_client.get(reverse("crew:request_list")),
        health_client.get(reverse("crew:my_work")),
    ]
    press = Client()
    press.force_login(users["press"])
    pages.append(press.get(response["Location"]))
    for page in pages:
        html = page.content.decode()
        assert "<script>alert" not in html
        assert "<b>жирний</b>" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_it_shows_html_in_a_decision_note_escaped(press_client, make_request):
    submitted = make_request("submitted")
    press_client.post(
        reverse("crew:request_decline", kwargs={"pk": submitted.pk}), {"decline-note": SCRIPT}
    )
    html = press_client.get(reverse("crew:request", kwargs={"pk": submitted.pk})).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_it_rejects_a_filter_range_that_ends_before_it_starts(press_client):
    response = press_client.get(
        reverse("crew:request_list"), {"date_from": "2026-05-10", "date_to": "2026-05-01"}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


@pytest.mark.django_db
def test_it_ignores_a_garbage_filter_instead_of_failing(press_client):
    response = press_client.get(
        reverse("crew:board"), {"department": "abc", "date_from": "вчора", "page": "x"}
    )
    assert response.status_code == 200
    response = press_client.get(reverse("crew:request_list"), {"page": "999"})
    assert response.status_code == 200
