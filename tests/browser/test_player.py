"""The review player in a real browser: HLS with a quality menu, storyboard thumbnails on
the scrub bar, the HH:MM:SS:FF timecode, keyboard control, and the compare page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crew import demo, workflow
from crew.models import Status
from media_pipeline import uploads
from tests import factories
from tests.browser.common import ARTIFACTS, TIMEOUT_MS
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_journey import PASSWORD, SMALL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TWO_RUNGS = {**SMALL, "rungs": ["360p", "240p"]}
RUNGS = {
    "360p": {"short_side": 360, "video_kbps": 800, "audio_kbps": 96},
    "240p": {"short_side": 240, "video_kbps": 400, "audio_kbps": 64},
}


@pytest.fixture
def page(monkeypatch, settings, live_server, tmp_path) -> Iterator:
    from playwright import sync_api as playwright_api

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.KADR_RUNGS = RUNGS
    settings.KADR_PURPOSES = {"footage": SMALL, "review": TWO_RUNGS, "publish": SMALL}
    demo.ensure_channels()
    users = demo.ensure_users(password=PASSWORD)
    request = factories.request_in_state(Status.SHOT)
    versions = []
    for n in (0, 1):
        clip = factories.generate_clip(
            tmp_path, "landscape", duration=2, size="640x360", rate=25, n=n
        )
        asset = uploads.create_asset_from_file(
            clip, user=users["editor"], original_name=f"cut{n}.mp4", purpose="review", process=False
        )
        versions.append(workflow.add_version(request, by=users["editor"], asset=asset))
    for v in versions:
        v.media.refresh_from_db()
        assert v.media.status == "ready", v.media.error
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(live_server.url + "/login/")
        tab.fill("input[name=username]", "press")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("main form button[type=submit]")
        tab.wait_for_load_state()
        tab.kadr = {"base": live_server.url, "request": request, "versions": versions}
        yield tab
        assert errors == [], errors
        browser.close()


def _time(page) -> str:
    return page.locator("[data-player] .kp-time").inner_text()


def _video(page, expression: str):
    return page.evaluate(
        f"(() => {{ const v = document.querySelector('[data-player] video'); return {expression}; }})()"
    )


def test_it_plays_hls_with_a_quality_menu_and_storyboard_scrubbing(page):
    version = page.kadr["versions"][-1]
    page.goto(f"{page.kadr['base']}/cuts/{version.pk}/")
    page.wait_for_function("document.querySelector('[data-player] video').readyState >= 1")

    # hls.js (or the browser's own HLS) plays the master playlist; the menu lists its rungs.
    uses_hls = page.evaluate(
        "(() => { const p = document.querySelector('[data-player]').kadrPlayer;"
        " return !!p.hls || p.video.currentSrc.includes('.m3u8'); })()"
    )
    assert uses_hls
    page.wait_for_function("document.querySelectorAll('.kp-quality option').length >= 3")
    options = page.locator(".kp-quality option").all_inner_texts()
    assert options[0] == "Auto"
    assert {"360p", "240p"} <= set(options)

    # Hovering the scrub bar shows the storyboard tile for that moment.
    page.wait_for_function("document.querySelector('[data-player]').kadrPlayer.cues.length > 0")
    bar = page.locator(".kp-scrub").bounding_box()
    page.mouse.move(bar["x"] + bar["width"] * 0.75, bar["y"] + bar["height"] / 2)
    preview = page.locator(".kp-preview")
    assert preview.is_visible()
    assert "url(" in page.locator(".kp-thumb").evaluate("e => e.style.backgroundImage")
    assert preview.locator(".kp-preview-time").inner_text().startswith("00:00:01:")


def test_it_steps_frames_and_answers_j_k_l_and_space(page):
    version = page.kadr["versions"][-1]
    page.goto(f"{page.kadr['base']}/cuts/{version.pk}/")
    page.wait_for_function("document.querySelector('[data-player] video').readyState >= 2")
    page.locator("[data-player]").focus()

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('.kp-time').textContent === '00:00:00:02'")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("document.querySelector('.kp-time').textContent === '00:00:00:01'")

    page.keyboard.press("l")
    page.wait_for_function("!document.querySelector('[data-player] video').paused")
    page.keyboard.press("l")
    assert _video(page, "v.playbackRate") == 2
    page.keyboard.press("k")
    assert _video(page, "v.paused") is True
    assert _video(page, "v.playbackRate") == 1

    page.keyboard.press(" ")
    page.wait_for_function("!document.querySelector('[data-player] video').paused")
    page.keyboard.press(" ")
    assert _video(page, "v.paused") is True

    page.keyboard.press("End")
    page.keyboard.press("j")
    page.wait_for_function(
        "document.querySelector('[data-player] video').currentTime < "
        "document.querySelector('[data-player] video').duration - 0.3"
    )
    page.keyboard.press("k")


def test_it_keeps_two_cuts_in_step_on_the_compare_page(page):
    request = page.kadr["request"]
    page.goto(f"{page.kadr['base']}/requests/{request.pk}/compare/")
    page.wait_for_function(
        "[...document.querySelectorAll('[data-player] video')].every(v => v.readyState >= 1)"
    )
    page.evaluate("document.querySelectorAll('[data-player] video')[0].currentTime = 1.2")
    page.wait_for_function(
        "Math.abs(document.querySelectorAll('[data-player] video')[1].currentTime - 1.2) < 0.05"
    )
    page.click("[data-sync=play]")
    page.wait_for_function(
        "[...document.querySelectorAll('[data-player] video')].every(v => !v.paused)"
    )
    page.click("[data-sync=pause]")
    assert page.evaluate(
        "[...document.querySelectorAll('[data-player] video')].every(v => v.paused)"
    )
    page.wait_for_function(
        "(() => { const t = [...document.querySelectorAll('.kp-time')].map(e => e.textContent);"
        " return t[0] === t[1]; })()"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
