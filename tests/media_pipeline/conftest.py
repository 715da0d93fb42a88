"""Fixtures shared by the media pipeline's tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from media_pipeline import receive


@pytest.fixture
def gate(monkeypatch) -> Iterator[threading.Event]:
    """Upload hashing waits until the test opens the gate (it opens anyway at the end)."""
    opened = threading.Event()
    hash_region = receive._hash_region

    def gated(*args):
        assert opened.wait(30), "the gate was never opened"
        hash_region(*args)

    monkeypatch.setattr(receive, "_hash_region", gated)
    yield opened
    opened.set()
