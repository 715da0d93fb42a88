"""A clip uploaded on the shoot page survives a dropped connection and a page reload.

The operator chooses a generated clip; after two chunks the connection drops (the
test fails every further chunk request), the operator reloads the page, chooses the
same file again, and the upload continues from the server's offset — not from zero —
to completion; the clip's poster then shows on the shoot page.
"""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from crew import demo
from media_pipeline.models import MediaAsset, Upload
from tests import factories
from tests.browser.common import ARTIFACTS, QUICK_PURPOSE, signed_in_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "upload-pass-1"
CHUNK = 32 * 1024


def test_it_resumes_an_upload_after_a_reload_and_shows_the_poster(
    browser, live_server, settings, tmp_path
):
    settings.KADR_PURPOSES = {
        "footage": QUICK_PURPOSE,
        "review": QUICK_PURPOSE,
        "publish": QUICK_PURPOSE,
    }
    settings.KADR_UPLOAD_CHUNK_SIZE = CHUNK
    demo.ensure_channels()
    demo.ensure_users(password=PASSWORD)
    shoot = factories.request_in_state("scheduled").shoots.get()
    clip = factories.generate_clip(tmp_path, "landscape", duration=2, size="640x360")
    assert clip.stat().st_size > 4 * CHUNK, "the clip must take several chunks"

    page, errors = signed_in_phone(browser, live_server.url, "operator", PASSWORD)
    shoot_url = live_server.url + reverse("crew:shoot", kwargs={"pk": shoot.pk})
    page.goto(shoot_url)

    # The connection drops after two chunks: every later chunk request fails.
    sent_offsets: list[int] = []

    def flaky(route, request) -> None:
        if request.method == "PATCH":
            sent_offsets.append(int(request.headers["upload-offset"]))
            if len(sent_offsets) > 2:
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/v1/media/uploads/**", flaky)
    page.locator(".kadr-file-input").set_input_files(str(clip))
    page.wait_for_function("document.querySelector('.kadr-upload')?.dataset.state === 'offline'")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "upload-offline.png"), full_page=True)
    upload = Upload.objects.get()
    assert upload.offset == 2 * CHUNK
    assert not MediaAsset.objects.exists()

    # A reload: the page remembers the interrupted upload and asks for the file again.
    page.unroute("**/api/v1/media/uploads/**")
    page.reload()
    interrupted = page.locator(".kadr-upload.is-interrupted")
    interrupted.wait_for()
    assert clip.name in interrupted.inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload-interrupted.png"), full_page=True)
    resumed_from: list[int] = []
    page.on(
        "request",
        lambda r: (
            resumed_from.append(int(r.headers["upload-offset"])) if r.method == "PATCH" else None
        ),
    )
    page.locator(".kadr-file-input").set_input_files(str(clip))
    page.locator(".kadr-upload.is-done").wait_for()

    assert resumed_from and resumed_from[0] == 2 * CHUNK  # resumed, not restarted
    asset = MediaAsset.objects.get()
    assert asset.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert shoot.footage.filter(media=asset).exists()

    # The clip's poster shows on the shoot page once its preview is made.
    for _ in range(30):
        page.goto(shoot_url)
        poster = page.locator(
            f'#footage [data-media-id="{asset.pk}"] img, '
            f'#footage [data-media-id="{asset.pk}"] video[poster]'
        )
        if poster.count():
            break
        page.wait_for_timeout(1000)
    assert poster.count(), "no poster on the shoot page"
    src = (
        poster.first.get_attribute("src")
        if poster.first.evaluate("e => e.tagName") == "IMG"
        else poster.first.get_attribute("poster")
    )
    image = page.request.get(live_server.url + src if src.startswith("/") else src)
    assert image.ok and image.headers["content-type"].startswith("image/")
    page.screenshot(path=str(ARTIFACTS / "upload-done.png"), full_page=True)
    assert not errors, errors
    page.context.close()
