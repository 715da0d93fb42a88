"""The residents' side, as an anonymous visitor: published videos only, everywhere."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from crew import workflow
from crew.models import Campaign, Channel, ShootRequest
from tests import factories
from tests.crew.publish_outputs import give_outputs

pytestmark = pytest.mark.django_db

MEDIA_NS = "{http://search.yahoo.com/mrss/}"


def publish(title: str = "Відкриття амбулаторії", **fields) -> ShootRequest:
    request = factories.request_in_state("approved", title=title, **fields)
    give_outputs(request)
    workflow.publish(
        request,
        by=factories.user("press"),
        channel=Channel.objects.get(slug="website"),
        url="https://drohobych-rada.gov.ua/news/1",
    )
    request.refresh_from_db()
    return request


def page(request: ShootRequest) -> str:
    return reverse("public:video", kwargs={"slug": request.slug})


def local(url: str) -> str:
    """Absolute media URLs in feeds point at SITE_URL; the test client wants the path."""
    return url.removeprefix(settings.SITE_URL)


@pytest.fixture
def published(users, channels):
    return publish(description="Нова амбулаторія на вул. Франка приймає з понеділка.")


@pytest.fixture
def unpublished(users, channels):
    request = factories.request_in_state("approved", title="Таємний ремонт мосту")
    give_outputs(request)
    return request


def test_it_lists_published_videos_newest_first(client, published):
    newer = publish(title="Новий сквер")
    response = client.get("/videos/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Новий сквер") < html.index("Відкриття амбулаторії")
    assert "Охорона здоров" in html
    assert "poster.jpg" in html
    assert page(newer) in html


def test_it_shows_the_player_page_with_sharing_tags(client, published):
    response = client.get(page(published))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<video" in html and "master.m3u8" in html and "720p.mp4" in html
    assert "Нова амбулаторія на вул. Франка" in html
    for tag in ('property="og:title"', 'property="og:image"', 'property="og:video"'):
        assert tag in html
    assert 'name="twitter:card"' in html
    assert f'content="{settings.SITE_URL}/embed/{published.pk}/"' in html


def test_it_serves_the_published_files_to_anyone(client, published):
    feed = client.get("/videos/feed.json").json()
    attachment = feed["items"][0]["attachments"][0]
    response = client.get(local(attachment["url"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\0" * 2048


def test_it_embeds_a_bare_player_that_may_be_framed(client, published):
    embed = client.get(f"/embed/{published.pk}/")
    assert embed.status_code == 200
    assert "<video" in embed.content.decode()
    assert "X-Frame-Options" not in embed.headers
    assert client.get("/videos/").headers["X-Frame-Options"] == "DENY"
    assert client.get(page(published)).headers["X-Frame-Options"] == "DENY"


def test_it_publishes_a_media_rss_feed(client, published):
    response = client.get("/videos/feed.rss")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed)
    item = root.find("channel/item")
    assert item is not None
    assert item.findtext("title") == "Відкриття амбулаторії"
    enclosure = item.find("enclosure")
    assert enclosure is not None
    assert enclosure.get("type") == "video/mp4" and enclosure.get("length") == "2048"
    assert enclosure.get("url", "").startswith("http")
    contents = item.findall(f"{MEDIA_NS}group/{MEDIA_NS}content")
    assert {c.get("height") for c in contents} == {"1080", "720"}
    default = [c for c in contents if c.get("isDefault") == "true"]
    assert default[0].get("height") == "720" and default[0].get("duration") == "10"
    thumbnail = item.find(f"{MEDIA_NS}thumbnail")
    assert thumbnail is not None and "poster.jpg" in thumbnail.get("url", "")


def test_it_publishes_a_json_feed(client, published):
    response = client.get("/videos/feed.json")
    assert response["Content-Type"].startswith("application/feed+json")
    feed = json.loads(response.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    (item,) = feed["items"]
    assert item["title"] == "Відкриття амбулаторії"
    assert item["url"].endswith(page(published))
    assert "poster.jpg" in item["image"]
    attachment = item["attachments"][0]
    assert attachment["mime_type"] == "video/mp4"
    assert attachment["size_in_bytes"] == 2048
    assert attachment["duration_in_seconds"] == 10.0


def test_it_never_shows_unpublished_media(client, published, unpublished):
    from django.utils.text import slugify

    version = unpublished.versions.get()
    asset_id = version.media_id
    guesses = [
        f"/videos/{slugify(unpublished.title, allow_unicode=True)}/",
        f"/videos/{unpublished.pk}/",
        f"/videos/{asset_id}/",
        f"/embed/{unpublished.pk}/",
        f"/embed/{version.pk}/",
        f"/embed/{asset_id}/",
        f"/media/{asset_id}/original",
        f"/media/{asset_id}/publish/1/720p.mp4",
        f"/m/x/{asset_id}/original",
        "/m/invalid-token/original",
        f"/m/media/{asset_id}/original",
    ]
    for guess in guesses:
        assert client.get(guess).status_code == 404, guess
    for listing in ("/videos/", "/videos/feed.rss", "/videos/feed.json", "/videos/?q=мосту"):
        body = client.get(listing).content.decode()
        assert "Таємний ремонт мосту" not in body, listing
        assert str(asset_id) not in body, listing
        assert "Відкриття амбулаторії" in body or "?q=" in listing


def test_it_hides_a_video_whose_publication_is_only_planned(client, users, channels):
    request = factories.request_in_state("approved", title="Анонс фестивалю")
    give_outputs(request)
    workflow.publish(
        request,
        by=factories.user("press"),
        channel=Channel.objects.get(slug="youtube"),
        planned_at=timezone.now() + timezone.timedelta(days=2),
    )
    request.refresh_from_db()
    assert client.get(page(request)).status_code == 404
    assert "Анонс фестивалю" not in client.get("/videos/feed.json").content.decode()


def test_it_omits_taken_down_videos_from_the_feeds(client, published):
    workflow.take_down(
        published.publications.get(), by=factories.user("press"), reason="Помилка в даті"
    )
    assert "Відкриття амбулаторії" not in client.get("/videos/feed.rss").content.decode()
    assert client.get("/videos/feed.json").json()["items"] == []
    assert client.get(page(published)).status_code == 404


def test_it_searches_and_filters_by_campaign_and_department(client, users, channels):
    campaign = Campaign.objects.create(
        name="Смарт-місто", slug="smart-city", hashtag="#СмартДрогобич"
    )
    in_campaign = publish(title="Як подати заяву онлайн", campaign=campaign)
    other = publish(title="Щеплення в школах", department="education")
    for query in ("онлайн", "Онлайн", "ЗАЯВУ"):
        found = client.get("/videos/", {"q": query}).content.decode()
        assert "Як подати заяву онлайн" in found and "Щеплення в школах" not in found, query
    by_campaign = client.get("/videos/", {"campaign": "smart-city"}).content.decode()
    assert "Як подати заяву онлайн" in by_campaign and "Щеплення в школах" not in by_campaign
    by_department = client.get("/videos/", {"department": other.department_id}).content.decode()
    assert "Щеплення в школах" in by_department and "Як подати заяву онлайн" not in by_department
    campaign_page = client.get("/videos/campaigns/smart-city/")
    assert campaign_page.status_code == 200
    assert "Як подати заяву онлайн" in campaign_page.content.decode()
    assert "Щеплення в школах" not in campaign_page.content.decode()
    assert page(in_campaign) in campaign_page.content.decode()
    assert client.get("/videos/campaigns/no-such/").status_code == 404


def test_it_hides_a_campaign_page_with_nothing_published(client, users, channels):
    campaign = Campaign.objects.create(name="Внутрішня кампанія", slug="internal")
    factories.request_in_state("approved", title="Чернетка", campaign=campaign)
    assert client.get("/videos/campaigns/internal/").status_code == 404


def test_it_pages_the_grid(client, users, channels, monkeypatch):
    from crew.views import public

    monkeypatch.setattr(public, "PAGE_SIZE", 1)
    publish(title="Перший сюжет")
    publish(title="Другий сюжет")
    first = client.get("/videos/").content.decode()
    second = client.get("/videos/", {"page": 2}).content.decode()
    assert "Другий сюжет" in first and "Перший сюжет" not in first
    assert "Перший сюжет" in second
    assert client.get("/videos/", {"page": "zzz"}).status_code == 200


def test_it_escapes_what_people_typed(client, users, channels):
    request = publish(
        title="<script>alert('x')</script> Сквер", description="<img src=x onerror=1>"
    )
    html = client.get(page(request)).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_it_builds_the_feeds_and_the_grid_in_a_fixed_number_of_queries(client, users, channels):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    publish(title="Перший сюжет")
    one = {path: queries(path) for path in ("/videos/", "/videos/feed.rss", "/videos/feed.json")}
    publish(title="Другий сюжет")
    publish(title="Третій сюжет")
    for path, count in one.items():
        assert queries(path) == count, path


def test_it_keeps_the_feed_valid_when_a_title_has_control_characters(client, users, channels):
    publish(title="Сквер\x0b на Франка\x01", description="Опис\x1f")
    response = client.get("/videos/feed.rss")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed)
    assert root.findtext("channel/item/title") == "Сквер на Франка"
