"""On a phone (390×844) every item of the top bar can be seen and tapped: the main
navigation wraps onto lines of its own instead of running off the right edge, in
English and in the longer Ukrainian labels, for the press head who has every item."""

from __future__ import annotations

import pytest

from crew import demo
from tests.browser.common import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "phone-nav-pass-1"
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 30_000

# For each link and control in the top bar: its box, and whether a tap at its centre
# lands on it (not on something covering it, nor outside a scrolled-away strip).
BOXES = """() => [...document.querySelectorAll('.topbar a, .topbar button')].map((el) => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {
    text: el.textContent.trim() || el.getAttribute('title') || '',
    left: r.left, right: r.right, top: r.top, bottom: r.bottom,
    tappable: !!hit && (hit === el || el.contains(hit)),
  };
})"""


@pytest.mark.parametrize("language", ["en", "uk"])
def test_it_keeps_every_nav_item_on_a_phone_screen(browser, live_server, settings, language):
    settings.LANGUAGE_CODE = language
    users = demo.ensure_users(password=PASSWORD)
    press = users["press"]
    press.is_staff = True  # the Admin link too: the longest bar there is
    press.save(update_fields=["is_staff"])

    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "press")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()
    page.wait_for_selector(".nav .nav-cta")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-nav-{language}.png"))

    boxes = page.evaluate(BOXES)
    texts = [b["text"] for b in boxes]
    assert any(t.startswith("+") for t in texts), texts  # the "+ New request" link
    assert len(page.locator(".nav a").all()) >= 6  # board, requests, my work, ... admin
    for box in boxes:
        assert 0 <= box["left"] and box["right"] <= PHONE["width"], box
        assert 0 <= box["top"] and box["bottom"] <= PHONE["height"], box
        assert box["tappable"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
