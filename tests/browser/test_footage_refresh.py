"""The shoot page's footage list keeps itself up to date without a reload.

On a shoot with no footage yet, the operator uploads a clip: it appears in the list at
once (still waiting for its preview), the page then follows its processing and shows it
ready when the worker is done — all without reloading. A second upload adds a second
clip, and the first, already ready, keeps its element (a preview being watched is not
restarted). Processing is held back and run by the test, so the waiting state is seen.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from crew import demo
from media_pipeline import tasks
from media_pipeline.models import MediaAsset
from tests import factories
from tests.browser.common import ARTIFACTS, QUICK_PURPOSE, signed_in_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "footage-pass-1"


def test_it_shows_and_follows_the_first_clip_on_an_empty_shoot_without_a_reload(
    browser, live_server, settings, monkeypatch, tmp_path
):
    settings.KADR_PURPOSES = {
        "footage": QUICK_PURPOSE,
        "review": QUICK_PURPOSE,
        "publish": QUICK_PURPOSE,
    }
    settings.LANGUAGE_CODE = "en"
    # The worker is "busy": queued jobs wait until the test runs them.
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(
        tasks, "enqueue", lambda asset_id, purpose: queued.append((asset_id, purpose))
    )
    demo.ensure_channels()
    demo.ensure_users(password=PASSWORD)
    shoot = factories.request_in_state("scheduled").shoots.get()
    first = factories.generate_clip(tmp_path, "landscape", duration=1, size="320x180")
    second = factories.generate_clip(tmp_path, "tiny", duration=1)

    page, errors = signed_in_phone(browser, live_server.url, "operator", PASSWORD)
    page.goto(live_server.url + reverse("crew:shoot", kwargs={"pk": shoot.pk}))
    assert "No footage yet." in page.locator("#footage").inner_text()
    assert page.locator("#footage .clip").count() == 0
    page.evaluate("window.__sameDocument = true")  # gone if the page were reloaded

    # The first clip appears in the list, waiting for its preview, with no reload.
    page.locator(".kadr-file-input").set_input_files(str(first))
    page.locator(".kadr-upload.is-done").wait_for()
    asset = MediaAsset.objects.get()
    clip = page.locator(f'#footage .clip[data-media-id="{asset.pk}"]')
    clip.wait_for()
    assert clip.get_attribute("data-status") == "uploaded"
    assert "No footage yet." not in page.locator("#footage").inner_text()
    assert queued == [(str(asset.pk), "footage")]

    # The worker makes the preview; the page notices by itself.
    tasks.process_asset.delay(str(asset.pk), "footage")
    page.locator(f'#footage .clip[data-media-id="{asset.pk}"][data-status="ready"]').wait_for()
    assert page.locator(f'#footage [data-media-id="{asset.pk}"] video').count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "footage-refreshed.png"), full_page=True)

    # A second upload joins the list; the ready clip keeps its element.
    page.locator(f'#footage .clip[data-media-id="{asset.pk}"]').evaluate("e => { e.__kept = 1; }")
    page.locator(".kadr-file-input").set_input_files(str(second))
    page.locator("#footage .clip").nth(1).wait_for()
    kept = page.locator(f'#footage .clip[data-media-id="{asset.pk}"]').evaluate("e => e.__kept")
    assert kept == 1, "the ready clip was rebuilt"
    assert page.evaluate("window.__sameDocument") is True
    assert not errors, errors
    page.context.close()
