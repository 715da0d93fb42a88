"""Issue 6's "done when", in Chromium: the press head publishes a freshly encoded cut to
the website and Telegram from the package, it shows on /videos/, in both feeds and in an
embed on a plain HTML page; after a takedown it is gone from all of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crew import workflow
from crew.models import ShootRequest, Status, Version
from media_pipeline.models import AssetStatus, ProcessingJob
from media_pipeline.uploads import create_asset_from_file
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def approved_with_real_media(clip: Path) -> ShootRequest:
    request = factories.request_in_state(
        "shot",
        title="Смарт-парковки в центрі",
        description="Як оплатити паркування через застосунок «Мій Дрогобич».",
    )
    editor, press = factories.user("editor"), factories.user("press")
    asset = create_asset_from_file(
        clip, user=editor, original_name="cut.mp4", purpose="review", process=False
    )
    version = workflow.add_version(request, by=editor, asset=asset)  # review runs (eager)
    version = Version.objects.select_related("media").get(pk=version.pk)
    workflow.submit_version(version, by=editor)
    workflow.approve(version, by=press)  # publish runs at once, in the background (eager)
    job = ProcessingJob.objects.get(asset=asset, purpose="publish")
    assert job.status == AssetStatus.READY, job.error
    request.refresh_from_db()
    return request


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls made
    # between browser steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_it_publishes_embeds_and_takes_down(
    live_server, settings, users, channels, clips, browser, tmp_path
):
    settings.SITE_URL = live_server.url
    request = approved_with_real_media(clips("landscape"))
    page = browser.new_page(locale="en-US")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "press")
    page.fill("input[name=password]", "press")
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/requests/{request.pk}/")
    page.click(f"#publishing a[href='/requests/{request.pk}/publish/']")

    # The package: files to download and a drafted caption per channel.
    assert page.locator("a[download]").count() >= 2
    for channel, url in (
        ("website", "https://drohobych-rada.gov.ua/news/smart-parking"),
        ("telegram", "https://t.me/drohobych_rada/1234"),
    ):
        form = page.locator(f"#channel-{channel} form")
        caption = form.locator("textarea[name=caption]").input_value()
        assert caption.startswith("Смарт-парковки в центрі")
        form.locator("input[name=url]").fill(url)
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
    request.refresh_from_db()
    assert request.status == Status.PUBLISHED
    assert request.publications.count() == 2

    page.goto(f"{live_server.url}/requests/{request.pk}/")
    section = page.locator("#publishing")
    assert "https://drohobych-rada.gov.ua/news/smart-parking" in section.inner_text()
    assert "https://t.me/drohobych_rada/1234" in section.inner_text()
    embed_code = section.locator("textarea.embed-code").input_value()
    assert f"{live_server.url}/embed/{request.pk}/" in embed_code

    visitor = browser.new_page(locale="uk-UA")
    visitor.goto(f"{live_server.url}/videos/")
    assert "Смарт-парковки в центрі" in visitor.content()
    assert "Смарт-парковки в центрі" in visitor.goto(f"{live_server.url}/videos/feed.rss").text()
    feed = json.loads(visitor.goto(f"{live_server.url}/videos/feed.json").text())
    assert [i["title"] for i in feed["items"]] == ["Смарт-парковки в центрі"]

    # The embed code pasted into a plain page of another site plays the video.
    plain = tmp_path / "city-site.html"
    plain.write_text(
        f"<!doctype html><meta charset=utf-8><h1>Новини</h1>{embed_code}", encoding="utf-8"
    )
    visitor.goto(plain.as_uri())
    frame = visitor.frame_locator("iframe")
    video = frame.locator("video")
    video.wait_for()
    embedded = next(f for f in visitor.frames if "/embed/" in f.url)
    embedded.wait_for_function(
        "() => { const v = document.querySelector('video'); return v.readyState >= 1 && v.duration > 1 }",
        timeout=20000,
    )

    # A takedown (every channel, as the form proposes) removes it everywhere.
    page.goto(f"{live_server.url}/requests/{request.pk}/")
    page.locator("#publishing a[href*='/takedown/']").first.click()
    page.fill("textarea[name=reason]", "Змінилися тарифи")
    page.click("form:has(textarea[name=reason]) button[type=submit]")
    page.wait_for_url(f"{live_server.url}/requests/{request.pk}/")
    assert request.publications.filter(taken_down_at__isnull=True).count() == 0
    assert "Смарт-парковки" not in visitor.goto(f"{live_server.url}/videos/").text()
    assert "Смарт-парковки" not in visitor.goto(f"{live_server.url}/videos/feed.rss").text()
    assert json.loads(visitor.goto(f"{live_server.url}/videos/feed.json").text())["items"] == []
    response = visitor.goto(f"{live_server.url}/embed/{request.pk}/")
    assert response is not None and response.status == 404
