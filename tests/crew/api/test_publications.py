"""POST/GET /api/v1/requests/{id}/publications/ and POST /api/v1/publications/{id}/takedown/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crew.models import Publication, ShootRequest, Status, StatusChange

pytestmark = pytest.mark.django_db


def url(request: ShootRequest) -> str:
    return f"/api/v1/requests/{request.pk}/publications/"


def test_it_publishes_an_approved_request_with_an_audit_row(api, make_request):
    request = make_request("approved")
    response = api("press").post(
        url(request),
        {
            "channel": "website",
            "url": "https://drohobych-rada.gov.ua/news/42",
            "caption": "Відкрили амбулаторію",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "website"
    assert body["request_status"] == "published"
    slug = ShootRequest.objects.get(pk=request.pk).slug
    assert body["page_url"].endswith(reverse("public:video", kwargs={"slug": slug}))
    request.refresh_from_db()
    assert request.status == Status.PUBLISHED
    assert request.history.filter(from_status="approved", to_status="published").exists()
    assert request.history.filter(
        subject=StatusChange.Subject.PUBLICATION, to_status="live"
    ).exists()


def test_it_adds_a_second_channel_without_a_status_change(api, make_request):
    request = make_request("published")
    changes = request.history.filter(subject=StatusChange.Subject.REQUEST).count()
    response = api("press").post(
        url(request), {"channel": "telegram", "url": "https://t.me/drohobych/77"}, format="json"
    )
    assert response.status_code == 201, response.content
    listing = api("press").get(url(request)).json()
    assert sorted(p["channel"] for p in listing) == ["telegram", "website"]
    assert request.history.filter(subject=StatusChange.Subject.REQUEST).count() == changes


@pytest.mark.parametrize("state", ["submitted", "in_review", "changes_requested", "cancelled"])
def test_it_refuses_to_publish_what_is_not_approved(api, make_request, state):
    request = make_request(state)
    response = api("press").post(
        url(request), {"channel": "website", "url": "https://example.org/v"}, format="json"
    )
    assert response.status_code == 409
    assert "detail" in response.json()
    assert not Publication.objects.filter(request=request).exists()


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "JavaScript://example.org/%0Aalert(1)",
        "ftp://example.org/video.mp4",
        "mailto:press@example.org",
        "data:text/html,<script>alert(1)</script>",
        "//example.org/no-scheme",
        "https://",
        "https://exa mple.org/",
    ],
)
def test_it_rejects_a_url_that_is_not_http(api, make_request, bad):
    request = make_request("approved")
    response = api("press").post(url(request), {"channel": "website", "url": bad}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_it_rejects_an_unknown_channel(api, make_request):
    request = make_request("approved")
    response = api("press").post(
        url(request), {"channel": "myspace", "url": "https://example.org/v"}, format="json"
    )
    assert response.status_code == 400
    assert "channel" in response.json()


def test_it_lets_only_the_press_head_publish(api, make_request):
    request = make_request("approved")
    body = {"channel": "website", "url": "https://example.org/v"}
    assert api("editor").post(url(request), body, format="json").status_code == 403
    assert api("health").post(url(request), body, format="json").status_code == 403
    assert api("education").post(url(request), body, format="json").status_code == 404
    assert api(None).post(url(request), body, format="json").status_code in (401, 403)


def test_it_makes_a_duplicate_title_a_unique_slug(api, make_request):
    first = make_request("published", title="День міста")
    second = make_request("approved", title="День міста")
    response = api("press").post(
        url(second), {"channel": "website", "url": "https://example.org/2"}, format="json"
    )
    assert response.status_code == 201
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.slug and second.slug and first.slug != second.slug
    assert api(None).get(reverse("public:video", kwargs={"slug": second.slug})).status_code == 200


def test_it_refuses_a_takedown_without_a_reason(api, make_request):
    request = make_request("published")
    publication = request.publications.get()
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = api("press").post(
            f"/api/v1/publications/{publication.pk}/takedown/", body, format="json"
        )
        assert response.status_code == 400
        assert "reason" in response.json()
    publication.refresh_from_db()
    assert publication.taken_down_at is None


def test_it_takes_a_video_off_the_public_pages(api, make_request, client):
    request = make_request("published")
    request.refresh_from_db()
    publication = request.publications.get()
    page = reverse("public:video", kwargs={"slug": request.slug})
    assert client.get(page).status_code == 200
    response = api("press").post(
        f"/api/v1/publications/{publication.pk}/takedown/",
        {"reason": "Застаріла інформація"},
        format="json",
    )
    assert response.status_code == 200, response.content
    taken = response.json()[0]
    assert taken["taken_down_by"] == "press"
    assert taken["takedown_reason"] == "Застаріла інформація"
    assert client.get(page).status_code == 404
    assert client.get(f"/embed/{request.pk}/").status_code == 404
    assert request.title not in client.get("/videos/").content.decode()
    assert request.title not in client.get("/videos/feed.rss").content.decode()
    assert request.title not in client.get("/videos/feed.json").content.decode()
    again = api("press").post(
        f"/api/v1/publications/{publication.pk}/takedown/", {"reason": "ще раз"}, format="json"
    )
    assert again.status_code == 409


def test_it_takes_down_every_channel_at_once_when_asked(api, make_request, client):
    request = make_request("published")
    api("press").post(
        url(request), {"channel": "telegram", "url": "https://t.me/drohobych/77"}, format="json"
    )
    request.refresh_from_db()
    website = request.publications.get(channel__slug="website")
    page = reverse("public:video", kwargs={"slug": request.slug})
    response = api("press").post(
        f"/api/v1/publications/{website.pk}/takedown/",
        {"reason": "Помилка в титрах"},
        format="json",
    )
    assert len(response.json()) == 1
    # Telegram is still live, so the public page stays.
    assert client.get(page).status_code == 200
    telegram = request.publications.get(channel__slug="telegram")
    response = api("press").post(
        f"/api/v1/publications/{telegram.pk}/takedown/",
        {"reason": "Помилка в титрах", "everywhere": True},
        format="json",
    )
    assert response.status_code == 200
    assert client.get(page).status_code == 404
