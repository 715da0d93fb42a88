"""Stills made in the same ffmpeg process as the renditions: thumbnail candidates,
the poster chosen among them, and a storyboard sprite with its WebVTT track.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

# The thumbnail filter holds one batch of frames in memory, and every sampled frame
# is scaled: a dozen frames per candidate is plenty to find a typical one.
MAX_BATCH = 12
POSTER_CANDIDATES = 3
STILL_SHORT_SIDE = 720
TILE_LONG_SIDE = 160
MAX_TILES = 100
COLUMNS = 10
CANDIDATE_PATTERN = "thumb-%02d.jpg"
SPRITE = "storyboard.jpg"
SPRITE_VTT = "storyboard.vtt"
POSTER = "poster.jpg"


@dataclass(frozen=True)
class StillsPlan:
    """Candidates: sample the video at `rate`, pick the most typical frame of every
    `batch` sampled frames (ffmpeg's thumbnail filter), `count` of them."""

    count: int
    rate: str  # a rational ffmpeg understands, e.g. "25/1"
    batch: int
    width: int
    height: int


@dataclass(frozen=True)
class StoryboardPlan:
    interval: float  # seconds between tiles
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int

    @property
    def rate(self) -> str:
        frac = Fraction(1) / Fraction(self.interval).limit_denominator(1000)
        return f"{frac.numerator}/{frac.denominator}"


def _even(value: float) -> int:
    return max(2, int(round(value)) // 2 * 2)


def stills_plan(
    duration: float, frame_rate: float, count: int, poster: bool, width: int, height: int
) -> StillsPlan | None:
    wanted = count or (POSTER_CANDIDATES if poster else 0)
    if wanted <= 0:
        return None
    sample = min(frame_rate or 25.0, MAX_BATCH * wanted / max(duration, 0.1))
    frames = max(1, int(sample * duration))
    batch = max(1, frames // wanted)
    scale = min(1.0, STILL_SHORT_SIDE / min(width, height))
    rate = Fraction(sample).limit_denominator(1000)
    return StillsPlan(
        count=wanted,
        rate=f"{rate.numerator}/{rate.denominator}",
        batch=batch,
        width=_even(width * scale),
        height=_even(height * scale),
    )


def storyboard_plan(duration: float, width: int, height: int) -> StoryboardPlan:
    """At most MAX_TILES tiles, at least a second apart, the tile keeping the aspect."""
    interval = max(1.0, duration / MAX_TILES)
    interval = math.ceil(interval * 10) / 10  # a tidy interval: cue times stay readable
    count = max(1, min(MAX_TILES, math.ceil(duration / interval)))
    if width >= height:
        tile_w, tile_h = TILE_LONG_SIDE, _even(TILE_LONG_SIDE * height / width)
    else:
        tile_w, tile_h = _even(TILE_LONG_SIDE * width / height), TILE_LONG_SIDE
    columns = min(COLUMNS, count)
    return StoryboardPlan(
        interval=interval,
        count=count,
        columns=columns,
        rows=math.ceil(count / columns),
        tile_width=tile_w,
        tile_height=tile_h,
    )


def _timestamp(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def storyboard_vtt(plan: StoryboardPlan, duration: float, sprite: str = SPRITE) -> str:
    """A WebVTT thumbnails track: each cue points at its tile with #xywh."""
    lines = ["WEBVTT", ""]
    for index in range(plan.count):
        start = index * plan.interval
        if start >= duration:
            break
        end = min(duration, start + plan.interval)
        x = (index % plan.columns) * plan.tile_width
        y = (index // plan.columns) * plan.tile_height
        lines += [
            f"{_timestamp(start)} --> {_timestamp(end)}",
            f"{sprite}#xywh={x},{y},{plan.tile_width},{plan.tile_height}",
            "",
        ]
    return "\n".join(lines)


def candidates(folder: Path) -> list[Path]:
    return sorted(folder.glob("thumb-*.jpg"))


def choose_poster(paths: list[Path]) -> Path | None:
    """The candidate with the most picture in it.

    A black or flat frame compresses to almost nothing in JPEG, so the largest
    file is the frame with the most detail: never a black one while any other exists.
    """
    existing = [p for p in paths if p.is_file() and p.stat().st_size > 0]
    if not existing:
        return None
    return max(existing, key=lambda p: p.stat().st_size)
