"""Fixtures and helpers shared by the media pipeline's encode tests.

Test clips are 1–2 s and small, so the production ladder (360p and up) would
collapse to one rung; `small_ladder` shrinks the rungs so every purpose's ladder
is exercised for real, without upscaling.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any

import pytest

from media_pipeline import storage
from media_pipeline.models import MediaAsset
from tests.conftest import ffprobe_json

SMALL_RUNGS = {
    "r288": {"short_side": 288, "video_kbps": 900, "audio_kbps": 128},
    "r240": {"short_side": 240, "video_kbps": 700, "audio_kbps": 96},
    "r180": {"short_side": 180, "video_kbps": 500, "audio_kbps": 96},
    "r120": {"short_side": 120, "video_kbps": 300, "audio_kbps": 64},
}
SMALL_PURPOSES = {
    "footage": {
        "rungs": ["r180"],
        "preset": "veryfast",
        "hls": False,
        "poster": True,
        "thumbnails": 0,
        "storyboard": True,
    },
    "review": {
        "rungs": ["r240", "r120"],
        "preset": "veryfast",
        "hls": True,
        "poster": True,
        "thumbnails": 3,
        "storyboard": True,
    },
    "publish": {
        "rungs": ["r288", "r240", "r180", "r120"],
        "preset": "medium",
        "hls": True,
        "poster": True,
        "thumbnails": 3,
        "storyboard": True,
    },
}


@pytest.fixture(name="small_ladder")
def small_ladder_fixture(settings: Any) -> None:
    """Import small_ladder_fixture into a test module, then ask for `small_ladder`."""
    settings.KADR_RUNGS = SMALL_RUNGS
    settings.KADR_PURPOSES = SMALL_PURPOSES
    settings.KADR_HLS_SEGMENT_SECONDS = 1


def stored_asset(source: Path, *, purpose: str = "review", name: str = "clip.mp4") -> MediaAsset:
    """An uploaded asset: the original under its generated key, nothing processed yet."""
    data = source.read_bytes()
    asset = MediaAsset.objects.create(
        original_name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest(), purpose=purpose
    )
    MediaAsset.objects.filter(pk=asset.pk).update(original_key=f"{asset.prefix}/original")
    asset.refresh_from_db()
    storage.get_storage().save_file(asset.original_key, source)
    return asset


def media_root() -> Path:
    from django.conf import settings

    return Path(settings.KADR_MEDIA_ROOT)


def stored_files(prefix: str) -> list[str]:
    """Every stored key under prefix (local storage), sorted."""
    root = media_root()
    folder = root / prefix
    if not folder.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file())


def output_files(asset: MediaAsset) -> list[str]:
    """Stored keys other than the original."""
    return [k for k in stored_files(asset.prefix) if not k.endswith("/original")]


def streams(path: Path, kind: str) -> list[dict[str, Any]]:
    return [s for s in ffprobe_json(path)["streams"] if s["codec_type"] == kind]


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types in file order."""
    boxes = []
    with path.open("rb") as fh:
        while header := fh.read(8):
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                fh.seek(size - 16, 1)
            elif size == 0:
                boxes.append(kind.decode("latin-1"))
                break
            else:
                fh.seek(size - 8, 1)
            boxes.append(kind.decode("latin-1"))
    return boxes


def playlist_entries(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
