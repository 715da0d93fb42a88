"""The whole story in a real browser (issue 5, item 6), with the demo users.

health submits a request → press accepts and schedules it → operator completes the
shoot → editor uploads a generated clip as cut v1 and waits for it → submits → press
comments at 00:00:01 and requests changes → editor uploads v2 and submits → press
approves → publishes with a URL. Screenshots of the board, the player with comments and
the timeline go to test-artifacts/.

The live server runs Celery eagerly in-process (tests/conftest.py), so a cut is processed
inside its upload request; the clip is tiny and the ladder is cut down to one rung.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from crew import demo
from crew.models import Publication, ShootRequest, Status, Version
from tests import factories
from tests.browser.common import ARTIFACTS, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "journey-pass-1"
SMALL = {
    "rungs": ["360p"],
    "preset": "ultrafast",
    "hls": True,
    "poster": True,
    "thumbnails": 1,
    "storyboard": True,
}


@pytest.fixture
def story(settings, live_server, tmp_path):
    settings.KADR_PURPOSES = {"footage": SMALL, "review": SMALL, "publish": SMALL}
    settings.LANGUAGE_CODE = "en"
    demo.ensure_channels()
    demo.ensure_kit()
    users = demo.ensure_users(password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    clips = {
        n: factories.generate_clip(tmp_path, "landscape", duration=2, size="320x180", rate=25 + n)
        for n in (0, 1)
    }
    return {"users": users, "url": live_server.url, "clips": clips}


class Person:
    """One user's own browser context (their own session cookie)."""

    def __init__(self, browser, base: str, username: str, **device) -> None:
        self.base = base
        options = {"locale": "en-US", "viewport": {"width": 1280, "height": 900}, **device}
        self.context = browser.new_context(accept_downloads=False, **options)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.dialogs: list[str] = []

        def on_dialog(dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.go("/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.submit("main form button[type=submit]")
        assert "/login/" not in self.page.url, f"{username} could not log in"

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def submit(self, target) -> None:
        """Click a form's button and wait for the answer page (the server has committed)."""
        locator = self.page.locator(target) if isinstance(target, str) else target
        with self.page.expect_navigation():
            locator.click()
        self.page.wait_for_load_state()

    def shot(self, name: str) -> None:
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _upload_cut(editor: Person, request_pk: int, clip: Path, number: int) -> Version:
    """Through the uploader widget on the request page, as the editor would."""
    editor.go(f"/requests/{request_pk}/")
    file_input = editor.page.locator("#cuts input[type=file]")
    assert file_input.count() == 1, "the request page offers no uploader for a cut"
    file_input.set_input_files(str(clip))
    # The page reloads itself once the upload is attached and again when it is processed.
    editor.page.wait_for_selector(
        f"#cuts li[data-version='{number}'] li.job-ready[data-purpose=review]",
        timeout=TIMEOUT_MS * 2,
    )
    return Version.objects.get(request_id=request_pk, number=number)


def test_it_takes_a_request_from_the_department_to_publication(browser, story):
    base, users = story["url"], story["users"]

    # health submits a request.
    health = Person(browser, base, "health")
    health.go("/requests/new/")
    health.page.fill("#id_title", "Відкриття амбулаторії на Стрийській")
    health.page.fill("#id_location", "вул. Стрийська, 20")
    health.submit("form.form button[type=submit]")
    health.page.wait_for_url(re.compile(r"/requests/\d+/$"))
    request_pk = int(re.search(r"/requests/(\d+)/", health.page.url).group(1))
    assert ShootRequest.objects.get(pk=request_pk).status == Status.SUBMITTED

    # press accepts and schedules it.
    press = Person(browser, base, "press")
    press.go(f"/requests/{request_pk}/")
    press.submit("form[data-action=accept] button")
    press.go(f"/requests/{request_pk}/shoots/new/")
    start = timezone.localtime(timezone.now() + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    press.page.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    press.page.fill("input[name=ends_at]", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    press.page.select_option(f"select[name=role_{users['operator'].pk}]", "operator")
    press.page.select_option(f"select[name=role_{users['editor'].pk}]", "editor")
    press.submit("form.shoot-form button[type=submit]")
    request_obj = ShootRequest.objects.get(pk=request_pk)
    assert request_obj.status == Status.SCHEDULED
    shoot = request_obj.shoots.get()

    # The board, as the press head sees it.
    press.go("/")
    press.shot("board.png")

    # operator completes the shoot.
    operator = Person(browser, base, "operator")
    operator.go(f"/shoots/{shoot.pk}/")
    operator.page.fill("#complete-form textarea", "Зняли відкриття і три інтерв'ю")
    operator.submit("#complete-form button[type=submit]")
    assert ShootRequest.objects.get(pk=request_pk).status == Status.SHOT

    # editor uploads cut v1, waits until it is processed, and sends it for review.
    editor = Person(browser, base, "editor")
    v1 = _upload_cut(editor, request_pk, story["clips"][0], 1)
    assert ShootRequest.objects.get(pk=request_pk).status == Status.EDITING
    editor.submit(f"#cut-{v1.pk} [data-action=submit]")
    assert ShootRequest.objects.get(pk=request_pk).status == Status.IN_REVIEW

    # press watches it, pins a comment at 00:00:01 with the keyboard, and one with script.
    press.go(f"/cuts/{v1.pk}/")
    player = press.page.locator("[data-player]")
    player.locator(".kp-controls").wait_for(state="visible")
    press.page.wait_for_function("document.querySelector('[data-player] video').readyState >= 1")
    player.focus()
    press.page.keyboard.press("Shift+ArrowRight")  # one second forward
    press.page.wait_for_function("document.querySelector('.kp-time').textContent === '00:00:01:00'")
    press.page.click("[data-pin=here]")
    assert press.page.input_value(".tc-in") == "00:00:01:00"
    press.page.fill("#comment-text", "Тут різко обривається звук")
    press.page.click("[data-action=comment]")
    press.page.wait_for_selector(".comment .comment-text:has-text('обривається')")

    # A time past the end is refused with the reason, and nothing is added.
    press.page.fill(".tc-in", "00:00:09:00")
    press.page.fill("#comment-text", "Запізно")
    press.page.click("[data-action=comment]")
    press.page.wait_for_selector("[data-form-error]:not([hidden])")
    assert "long" in press.page.locator("[data-form-error]").inner_text()
    assert press.page.locator(".comments > li.comment").count() == 1

    script = "<script>window.__kadrXss = 1</script><img src=x onerror=alert(1)>"
    press.page.fill(".tc-in", "00:00:01:12")
    press.page.fill("#comment-text", script)
    press.page.click("[data-action=comment]")
    press.page.wait_for_function("document.querySelectorAll('.comments > li.comment').length === 2")
    for reloaded in (False, True):  # as inserted by the page, then as the server renders it
        if reloaded:
            press.page.reload()
        texts = press.page.locator(".comments .comment-text").all_inner_texts()
        assert script in texts  # shown as the characters typed
        assert press.page.evaluate("window.__kadrXss") is None
        assert press.page.locator(".comments img").count() == 0
    assert press.dialogs == []
    tcs = press.page.locator(".comments > .comment .tc").all_inner_texts()
    assert tcs[:2] == ["00:00:01:00", "00:00:01:12"]  # sorted by time

    # Clicking a comment seeks the player there.
    press.page.evaluate("document.querySelector('[data-player] video').currentTime = 0")
    press.page.locator(".comments .tc", has_text="00:00:01:00").click()
    press.page.wait_for_function(
        "Math.abs(document.querySelector('[data-player] video').currentTime - 1) < 0.05"
    )
    press.shot("player-with-comments.png")

    # The same page on a phone: the player fits the screen and shows its controls.
    phone = Person(
        browser,
        base,
        "press",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    phone.go(f"/cuts/{v1.pk}/")
    phone.page.locator("[data-player] .kp-controls").wait_for(state="visible")
    box = phone.page.locator("[data-player]").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    phone.shot("player-phone.png")
    phone.context.close()

    press.page.fill("#changes-note", "Прибрати обрив звуку на першій секунді")
    press.submit("[data-action=request-changes]")
    assert ShootRequest.objects.get(pk=request_pk).status == Status.CHANGES_REQUESTED

    # editor sees the remark, uploads v2 and submits it.
    editor.go("/notifications/")
    assert editor.page.locator(".notification.kind-changes_requested").count() == 1
    v2 = _upload_cut(editor, request_pk, story["clips"][1], 2)
    editor.go(f"/cuts/{v2.pk}/")
    assert "обривається" in editor.page.locator(".earlier-comments").inner_text()
    editor.submit("[data-action=submit]")
    assert ShootRequest.objects.get(pk=request_pk).status == Status.IN_REVIEW

    # press is told, compares the cuts, approves v2.
    press.go("/")
    assert int(press.page.locator(".bell .count").inner_text()) >= 1
    press.go("/notifications/")
    press.shot("notifications.png")
    press.page.locator(".notification.kind-cut_awaits_review.unread a").first.click()
    press.page.wait_for_url(re.compile(rf"/cuts/{v2.pk}/"))
    press.go(f"/requests/{request_pk}/compare/")
    assert press.page.locator("[data-player]").count() == 2
    press.go(f"/cuts/{v2.pk}/")
    press.submit("[data-action=approve]")
    v2.refresh_from_db()
    assert ShootRequest.objects.get(pk=request_pk).status == Status.APPROVED
    assert v2.approved_sha256 == v2.media.sha256

    # press publishes on the website with a URL.
    url = "https://drohobych-rada.gov.ua/news/ambulatoriia"
    press.go(f"/requests/{request_pk}/publish/")
    form = press.page.locator("#channel-website form")
    form.locator("input[name$=url]").fill(url)
    press.submit(form.locator("button[type=submit]"))
    assert ShootRequest.objects.get(pk=request_pk).status == Status.PUBLISHED
    assert Publication.objects.get(request_id=request_pk).url == url

    # The timeline on the request page tells the whole story.
    press.go(f"/requests/{request_pk}/")
    timeline = press.page.locator(".timeline")
    timeline.scroll_into_view_if_needed()
    press.shot("timeline.png")
    assert timeline.locator("li").count() >= 10

    # health hears that it was scheduled and published.
    health.go("/notifications/")
    assert health.page.locator(".notification.kind-request_scheduled").count() == 1
    assert health.page.locator(".notification.kind-request_published").count() == 1

    for person in (health, press, operator, editor):
        assert person.errors == [], person.errors
