"""The publish package and the press head's publishing pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from crew import publishing, workflow
from crew.exceptions import Conflict
from crew.models import Campaign, Channel, Publication, ShootRequest, Status
from crew.views.publishing import request_section
from media_pipeline import services
from media_pipeline.models import AssetStatus, ProcessingJob
from tests import factories
from tests.crew.publish_outputs import give_outputs

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(
        name="Смарт-місто", slug="smart-city", hashtag="Смарт Дрогобич, #ЦНАПОнлайн"
    )


@pytest.fixture
def approved(users, channels, campaign) -> ShootRequest:
    request = factories.request_in_state(
        "approved",
        title="Як подати заяву онлайн",
        description="ЦНАП пояснює, як отримати довідку, не виходячи з дому.",
        campaign=campaign,
    )
    give_outputs(request)
    request.refresh_from_db()
    return request


def publish_job(request: ShootRequest) -> ProcessingJob:
    return ProcessingJob.objects.get(asset=request.versions.get().media, purpose="publish")


def as_press(client, users):
    client.force_login(users["press"])
    return client


def test_it_drafts_a_caption_per_channel(approved):
    package = publishing.build_package(approved)
    captions = {c.channel.slug: c.text for c in package.captions}
    assert set(captions) == {"website", "youtube", "facebook", "telegram", "instagram"}
    for slug, text in captions.items():
        assert "Як подати заяву онлайн" in text, slug
        assert "Department: Охорона здоров'я" in text, slug
        assert "ЦНАП пояснює" in text, slug
    for slug in ("youtube", "facebook", "telegram", "instagram"):
        assert "#СмартДрогобич #ЦНАПОнлайн" in captions[slug], slug
    assert "Смарт-місто" in captions["website"]


def test_it_keeps_a_telegram_caption_within_its_limit(users, channels, campaign):
    request = factories.request_in_state(
        "approved", title="Бюджет участі", description="Дуже довгий опис. " * 200, campaign=campaign
    )
    give_outputs(request)
    captions = {c.channel.slug: c for c in publishing.build_package(request).captions}
    telegram = captions["telegram"]
    assert len(telegram.text) <= 1024 == telegram.limit
    assert telegram.text.startswith("Бюджет участі")
    assert "…" in telegram.text and "#СмартДрогобич" in telegram.text
    assert len(captions["website"].text) > 1024


def test_it_offers_renditions_original_poster_and_thumbnails(approved):
    package = publishing.build_package(approved)
    labels = [d.label for d in package.downloads]
    assert labels == ["1080p", "720p", "original"]
    assert package.poster_url and len(package.thumbnail_urls) == 3
    assert all(d.url.startswith("/m/") for d in package.downloads)


def test_it_warns_when_a_file_is_over_a_channels_limit(client, users, approved):
    Channel.objects.filter(slug="telegram").update(max_upload_bytes=3000)
    Channel.objects.filter(slug="instagram").update(max_duration_seconds=5)
    captions = {c.channel.slug: c for c in publishing.build_package(approved).captions}
    telegram = " ".join(captions["telegram"].warnings)
    assert "1080p" in telegram and "over Telegram's upload limit" in telegram
    assert "Upload 720p instead" in telegram
    assert "accepts at most" in " ".join(captions["instagram"].warnings)
    assert captions["website"].warnings == []
    html = as_press(client, users).get(reverse("crew:publish", kwargs={"pk": approved.pk}))
    assert "over Telegram&#x27;s upload limit" in html.content.decode()


def test_it_shows_progress_and_refuses_publishing_until_the_outputs_exist(
    api, client, users, approved
):
    ProcessingJob.objects.filter(pk=publish_job(approved).pk).update(
        status=AssetStatus.PROCESSING, progress=40
    )
    response = as_press(client, users).get(reverse("crew:publish", kwargs={"pk": approved.pk}))
    html = response.content.decode()
    assert 'value="40"' in html and "being made (40%)" in html
    assert "Record the publication" not in html
    package = api("press").get(f"/api/v1/requests/{approved.pk}/package/")
    assert package.status_code == 409 and package.json()["progress"] == 40
    post = api("press").post(
        f"/api/v1/requests/{approved.pk}/publications/",
        {"channel": "website", "url": "https://example.org/v"},
        format="json",
    )
    assert post.status_code == 409
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED


def test_it_shows_a_failed_publish_job_with_a_retry(client, users, approved):
    job = publish_job(approved)
    ProcessingJob.objects.filter(pk=job.pk).update(
        status=AssetStatus.FAILED, error="ffmpeg: moov atom not found"
    )
    client = as_press(client, users)
    html = client.get(reverse("crew:publish", kwargs={"pk": approved.pk})).content.decode()
    assert "moov atom not found" in html
    retry = reverse("crew:publish_retry", kwargs={"pk": approved.pk})
    assert f'action="{retry}"' in html
    section = render_to_string(
        "crew/publishing/_request_section.html",
        {"request_obj": approved, **request_section(approved, users["press"])},
    )
    assert "moov atom not found" in section and retry in section
    response = client.post(retry)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status != AssetStatus.FAILED and job.error == ""


def test_it_lets_only_the_press_head_retry(client, users, approved):
    ProcessingJob.objects.filter(pk=publish_job(approved).pk).update(status=AssetStatus.FAILED)
    client.force_login(users["editor"])
    assert client.post(reverse("crew:publish_retry", kwargs={"pk": approved.pk})).status_code == 403
    assert publish_job(approved).status == AssetStatus.FAILED


def test_it_records_a_publication_from_the_page_with_the_drafted_caption(client, users, approved):
    client = as_press(client, users)
    url = reverse("crew:publish", kwargs={"pk": approved.pk})
    html = client.get(url).content.decode()
    assert "#СмартДрогобич #ЦНАПОнлайн" in html
    caption = next(
        c for c in publishing.build_package(approved).captions if c.channel.slug == "telegram"
    )
    bad = client.post(url, {"channel": "telegram", "url": "javascript:alert(1)", "caption": "x"})
    assert bad.status_code == 400
    assert "http://" in bad.content.decode()
    response = client.post(
        url, {"channel": "telegram", "url": "https://t.me/drohobych/5", "caption": caption.text}
    )
    assert response.status_code == 302
    publication = Publication.objects.get(request=approved)
    assert publication.channel.slug == "telegram" and publication.caption == caption.text
    assert publication.created_by == users["press"]
    approved.refresh_from_db()
    assert approved.status == Status.PUBLISHED


def test_it_shows_publications_and_the_embed_code_on_the_request_page(users, approved, settings):
    workflow.publish(
        approved,
        by=users["press"],
        channel=Channel.objects.get(slug="website"),
        url="https://drohobych-rada.gov.ua/news/9",
        caption="Підпис <b>для сайту</b>",
    )
    workflow.publish(
        approved,
        by=users["press"],
        channel=Channel.objects.get(slug="telegram"),
        url="https://t.me/d/1",
    )
    approved.refresh_from_db()
    html = render_to_string(
        "crew/publishing/_request_section.html",
        {"request_obj": approved, **request_section(approved, users["press"])},
    )
    assert "https://drohobych-rada.gov.ua/news/9" in html and "https://t.me/d/1" in html
    assert "Підпис &lt;b&gt;для сайту&lt;/b&gt;" in html
    assert f"{settings.SITE_URL}/embed/{approved.pk}/" in html
    assert "&lt;iframe" in html
    requester_view = render_to_string(
        "crew/publishing/_request_section.html",
        {"request_obj": approved, **request_section(approved, users["health"])},
    )
    assert "https://t.me/d/1" in requester_view and "Take down" not in requester_view


def test_it_reads_the_approved_original_once_for_many_channels_and_sees_a_swap(
    users, approved, monkeypatch
):
    reads: list[str] = []
    hash_original = services.stored_sha256
    monkeypatch.setattr(
        services,
        "stored_sha256",
        lambda asset: reads.append(asset.original_key) or hash_original(asset),
    )
    for slug in ("website", "telegram", "youtube"):
        workflow.publish(approved, by=users["press"], channel=Channel.objects.get(slug=slug))
    assert len(reads) == 1  # hashed once; then the unchanged fingerprint vouches for it

    original = Path(settings.KADR_MEDIA_ROOT) / approved.versions.get().media.original_key
    original.write_bytes(b"x" * original.stat().st_size)  # same size, other bytes
    with pytest.raises(Conflict, match="no longer matches"):
        workflow.publish(approved, by=users["press"], channel=Channel.objects.get(slug="facebook"))
    assert len(reads) == 2


def test_it_keeps_the_package_from_requesters(api, client, users, approved):
    assert api("health").get(f"/api/v1/requests/{approved.pk}/package/").status_code == 404
    client.force_login(users["health"])
    assert client.get(reverse("crew:publish", kwargs={"pk": approved.pk})).status_code == 404


def test_it_takes_down_from_the_page_only_with_a_reason(client, users, approved):
    publication = workflow.publish(
        approved,
        by=users["press"],
        channel=Channel.objects.get(slug="website"),
        url="https://e.org/1",
    )
    client = as_press(client, users)
    url = reverse("crew:takedown", kwargs={"pk": publication.pk})
    assert client.post(url, {"reason": ""}).status_code == 400
    assert (
        client.post(url, {"reason": "Прохання підрозділу", "everywhere": "on"}).status_code == 302
    )
    publication.refresh_from_db()
    assert publication.takedown_reason == "Прохання підрозділу"
    assert publication.taken_down_by == users["press"]


def test_it_lists_a_campaigns_requests_and_states(client, users, approved, campaign):
    factories.request_in_state("submitted", title="Ролик про е-чергу", campaign=campaign)
    client = as_press(client, users)
    listing = client.get(reverse("crew:campaigns")).content.decode()
    assert "Смарт-місто" in listing
    html = client.get(reverse("crew:campaign", kwargs={"pk": campaign.pk})).content.decode()
    assert "Як подати заяву онлайн" in html and "Ролик про е-чергу" in html
    assert "approved" in html and "submitted" in html
