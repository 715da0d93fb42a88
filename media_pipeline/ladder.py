"""Rendition profiles: which rungs a source gets for a purpose, and the HLS master.

Rungs are defined by the short side of the picture (settings.KADR_RUNGS), so a
portrait phone video gets 720×1280, not 1280×720. A source is never upscaled.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from media_pipeline import thumbnails
from media_pipeline.probe import ProbeResult

MAX_FPS = 60.0
# Quick proxies scale with the area filter: about a third of bicubic's cost when
# shrinking 1080p, and no sharper picture is wanted from a veryfast encode anyway.
FAST_PRESETS = {"ultrafast", "superfast", "veryfast", "faster", "fast"}
AUDIO_ONLY_KBPS = 128


class UnknownPurpose(ValueError):
    pass


@dataclass(frozen=True)
class Rung:
    name: str
    width: int
    height: int
    video_kbps: int
    audio_kbps: int

    @property
    def mp4(self) -> str:
        return f"{self.name}.mp4"

    @property
    def playlist(self) -> str:
        return f"{self.name}.m3u8"

    @property
    def init_segment(self) -> str:
        return f"{self.name}_init.mp4"

    @property
    def segment_pattern(self) -> str:
        return f"{self.name}_%05d.m4s"


@dataclass(frozen=True)
class Plan:
    """Everything one ffmpeg process makes for one purpose."""

    purpose: str
    duration: float
    rungs: list[Rung]
    preset: str
    hls: bool
    has_audio: bool
    audio_only: bool = False
    deinterlace: bool = False
    fps: float | None = None  # set when the rate must be made constant or capped
    segment_seconds: int = 4
    gop: int = 100
    loudness: float | None = -16.0  # LUFS; None keeps the source's levels
    stills: thumbnails.StillsPlan | None = None
    storyboard: thumbnails.StoryboardPlan | None = None
    poster: bool = False
    thumbnails: int = 0
    scaler: str = "bicubic"
    video_stream: str = "v:0"  # ffmpeg's stream specifier within the input
    audio_stream: str = "a:0"

    @property
    def audio_bitrates(self) -> list[int]:
        """One AAC encode per distinct bitrate, shared by the rungs that use it."""
        if not self.has_audio:
            return []
        if self.audio_only:
            return [AUDIO_ONLY_KBPS]
        return sorted({r.audio_kbps for r in self.rungs}, reverse=True)


def purpose_settings(purpose: str) -> dict[str, Any]:
    try:
        return dict(settings.KADR_PURPOSES[purpose])
    except KeyError:
        raise UnknownPurpose(
            _("Unknown purpose “%(purpose)s”; choose one of: %(choices)s.")
            % {"purpose": purpose, "choices": ", ".join(settings.KADR_PURPOSES)}
        ) from None


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _size_for(short_side: int, width: int, height: int) -> tuple[int, int]:
    """Scale so the short side is short_side, keeping the aspect, both even."""
    if width >= height:
        return _even(round(width * short_side / height)), _even(short_side)
    return _even(short_side), _even(round(height * short_side / width))


def rungs_for(probe: ProbeResult, purpose: str) -> list[Rung]:
    """The purpose's rungs the source can fill, largest first; never an upscale."""
    names = purpose_settings(purpose)["rungs"]
    profiles = sorted(
        ((name, settings.KADR_RUNGS[name]) for name in names),
        key=lambda item: item[1]["short_side"],
        reverse=True,
    )
    short = min(probe.width, probe.height)
    rungs = []
    for name, profile in profiles:
        if profile["short_side"] <= short:
            width, height = _size_for(profile["short_side"], probe.width, probe.height)
            rungs.append(Rung(name, width, height, profile["video_kbps"], profile["audio_kbps"]))
    if not rungs:
        # Smaller than the smallest rung: one rung at the source's own size.
        name, profile = profiles[-1]
        width, height = _even(probe.width), _even(probe.height)
        rungs.append(
            Rung(
                f"{min(width, height)}p",
                width,
                height,
                profile["video_kbps"],
                profile["audio_kbps"],
            )
        )
    return rungs


def output_rate(probe: ProbeResult) -> float | None:
    """The constant rate to convert to, or None to keep the source's timestamps."""
    rate = probe.frame_rate or 25.0
    if rate > MAX_FPS:
        return rate / math.ceil(rate / MAX_FPS)
    if probe.variable_frame_rate:
        return min(round(rate, 3), MAX_FPS)
    return None


def plan_for(probe: ProbeResult, purpose: str) -> Plan:
    """What to make of this source for the purpose (raises UnknownPurpose)."""
    config = purpose_settings(purpose)
    segment = int(settings.KADR_HLS_SEGMENT_SECONDS)
    common: dict[str, Any] = {
        "purpose": purpose,
        "duration": probe.duration,
        "preset": str(config.get("preset", "veryfast")),
        "has_audio": probe.has_audio,
        "segment_seconds": segment,
        "loudness": float(settings.KADR_LOUDNESS_LUFS) if config.get("loudnorm", True) else None,
        "audio_stream": probe.audio_stream or "a:0",
    }
    if not probe.is_video:
        return Plan(rungs=[], hls=False, audio_only=True, **common)
    rungs = rungs_for(probe, purpose)
    fps = output_rate(probe)
    rate = fps or probe.frame_rate or 25.0
    poster = bool(config.get("poster"))
    count = int(config.get("thumbnails") or 0)
    top = rungs[0]
    return Plan(
        rungs=rungs,
        hls=bool(config.get("hls")),
        deinterlace=probe.interlaced,
        fps=fps,
        gop=max(1, round(rate * segment)),
        poster=poster,
        thumbnails=count,
        video_stream=probe.video_stream or "v:0",
        scaler=str(
            config.get("scaler") or ("area" if common["preset"] in FAST_PRESETS else "bicubic")
        ),
        stills=thumbnails.stills_plan(probe.duration, rate, count, poster, top.width, top.height),
        storyboard=(
            thumbnails.storyboard_plan(probe.duration, probe.width, probe.height)
            if config.get("storyboard")
            else None
        ),
        **common,
    )


# --- HLS master playlist ------------------------------------------------------------------

_EXTINF = re.compile(r"#EXTINF:([0-9.]+)")


def _segments(playlist: Path) -> list[tuple[float, str]]:
    found, duration = [], None
    for line in playlist.read_text(encoding="utf-8").splitlines():
        match = _EXTINF.match(line)
        if match:
            duration = float(match.group(1))
        elif line and not line.startswith("#") and duration is not None:
            found.append((duration, line.strip()))
            duration = None
    return found


def variant_bandwidth(playlist: Path) -> tuple[int, int]:
    """Peak and average bits per second over the variant's segments."""
    folder = playlist.parent
    peak = total_bits = 0.0
    total_time = 0.0
    for seconds, name in _segments(playlist):
        bits = (folder / name).stat().st_size * 8
        total_bits += bits
        total_time += seconds
        peak = max(peak, bits / max(seconds, 0.1))
    average = total_bits / total_time if total_time else 0
    return int(math.ceil(peak)), int(math.ceil(average))


def codecs_string(video: dict[str, Any], has_audio: bool) -> str:
    """RFC 6381 codecs for an H.264 High stream (and AAC-LC), from ffprobe's answer."""
    profiles = {"High": 0x64, "Main": 0x4D, "Baseline": 0x42, "Constrained Baseline": 0x42}
    profile = profiles.get(str(video.get("profile")), 0x64)
    constraints = 0x40 if video.get("profile") == "Constrained Baseline" else 0
    level = int(video.get("level") or 40)
    codecs = f"avc1.{profile:02x}{constraints:02x}{level:02x}"
    return codecs + (",mp4a.40.2" if has_audio else "")


def master_playlist(variants: list[dict[str, Any]]) -> str:
    """variants: playlist, width, height, bandwidth, average, codecs, frame_rate."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for v in sorted(variants, key=lambda item: item["bandwidth"], reverse=True):
        attrs = [
            f"BANDWIDTH={v['bandwidth']}",
            f"AVERAGE-BANDWIDTH={v['average']}",
            f"RESOLUTION={v['width']}x{v['height']}",
            f'CODECS="{v["codecs"]}"',
        ]
        if v.get("frame_rate"):
            attrs.append(f"FRAME-RATE={v['frame_rate']:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), v["playlist"]]
    return "\n".join(lines) + "\n"
