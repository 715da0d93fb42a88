"""Runs one purpose's job for one asset (filled in by the media pipeline work)."""

from __future__ import annotations


def process(asset_id: str, purpose: str) -> None:
    raise NotImplementedError
