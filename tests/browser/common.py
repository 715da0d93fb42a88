"""What the browser tests share: where screenshots go, how long to wait, and a purpose
setting that encodes a generated clip in a second or two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 60_000

# One small rendition and a poster, nothing else: enough to see a clip become ready.
QUICK_PURPOSE: dict[str, Any] = {
    "rungs": ["360p"],
    "preset": "ultrafast",
    "hls": False,
    "poster": True,
    "thumbnails": 0,
    "storyboard": False,
}


def signed_in_phone(
    browser: Any, base_url: str, username: str, password: str
) -> tuple[Any, list[str]]:
    """A phone-sized page signed in as `username`, and the list its script errors go to."""
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()
    return page, errors
