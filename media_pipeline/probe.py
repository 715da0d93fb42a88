"""What is in an uploaded file, asked of ffprobe under a short leash.

ffprobe reads only the `file` protocol and only the demuxers cameras and phones
produce, so an HLS playlist or an ffconcat script dressed up as .mp4 is refused
before it can open another file or a network connection. Anything refused
raises ProbeRefused with a reason a person understands.
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from media_pipeline import ffmpeg

# ffprobe names a demuxer by all its aliases, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
ALLOWED_FORMATS = ("mov", "mp4", "matroska", "webm", "mxf", "mpegts", "avi")
# Longest side we accept regardless of the pixel budget (x264's limit is 16384).
MAX_SIDE = 16384
VFR_PACKETS = 120


class ProbeRefused(Exception):
    """The file is not something Kadr will process; str(exc) is the human reason."""


@dataclass(frozen=True)
class ProbeResult:
    kind: str  # "video" or "audio"
    container: str
    duration: float
    video_codec: str = ""
    audio_codec: str = ""
    width: int = 0  # display size: after the sample aspect ratio and rotation
    height: int = 0
    frame_rate: float = 0.0
    has_audio: bool = False
    rotation: int = 0
    interlaced: bool = False
    high_bit_depth: bool = False
    variable_frame_rate: bool = False
    size: int = 0
    # Which streams to use, by ffmpeg's stream index ("" for none): never cover art.
    video_stream: str = ""
    audio_stream: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_video(self) -> bool:
        return self.kind == "video"

    def model_fields(self) -> dict[str, Any]:
        """The MediaAsset probe fields this result fills."""
        values = asdict(self)
        for internal in ("size", "video_stream", "audio_stream"):
            values.pop(internal)
        values["probe"] = values.pop("raw")
        return values

    def summary(self) -> dict[str, Any]:
        values = asdict(self)
        values.pop("raw")
        return values


def _refuse_unreadable(stderr: str) -> ProbeRefused:
    if "moov atom not found" in stderr:
        return ProbeRefused(
            _(
                "The file is incomplete: its index is missing, as happens when a recording "
                "or a copy is cut off. Upload the complete file."
            )
        )
    return ProbeRefused(
        _(
            "Kadr cannot read this file. It is not a video or audio file in an accepted "
            "format (MP4/MOV, Matroska/WebM, MXF, MPEG-TS, AVI), or it is damaged."
        )
    )


def _run_json(argv: list[str]) -> tuple[dict[str, Any], str]:
    timeout = settings.KADR_PROBE_TIMEOUT
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProbeRefused(
            _("Reading the file took longer than %(seconds)s seconds; it may be damaged.")
            % {"seconds": timeout}
        ) from None
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise _refuse_unreadable(stderr)
    try:
        return json.loads(done.stdout or b"{}"), stderr
    except ValueError:
        raise _refuse_unreadable(stderr) from None


def _rate(value: str | None) -> float:
    try:
        rate = Fraction(value or "0")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(rate) if 0 < rate < 1000 else 0.0


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(round(float(side["rotation"]))) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag and tag.lstrip("-").isdigit() else 0


def _display_size(stream: dict[str, Any], rotation: int) -> tuple[int, int]:
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    try:
        sar = Fraction((stream.get("sample_aspect_ratio") or "1:1").replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        sar = Fraction(1)
    if sar > 0 and sar != 1:
        width = int(round(width * sar))
    if rotation in (90, 270):
        width, height = height, width
    return width, height


def _is_variable(pts: list[float]) -> bool:
    """Frame gaps that differ by more than rounding: a variable frame rate."""
    ordered = sorted(set(pts))
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False) if b > a]
    if len(gaps) < 3:
        return False
    return max(gaps) > 1.5 * min(gaps) and max(gaps) - min(gaps) > 0.004


def parse(
    data: dict[str, Any], packet_pts: list[float] | None = None, *, size: int = 0
) -> ProbeResult:
    """Turn ffprobe's JSON into a ProbeResult, or refuse the file with a reason."""
    fmt = data.get("format") or {}
    names = set(str(fmt.get("format_name", "")).split(","))
    if not names & set(ALLOWED_FORMATS):
        raise _refuse_unreadable("")
    streams = data.get("streams") or []
    count = max(len(streams), int(fmt.get("nb_streams") or 0))
    if count > settings.KADR_MAX_STREAMS:
        raise ProbeRefused(
            _("The file has %(count)s streams; Kadr accepts at most %(max)s.")
            % {"count": count, "max": settings.KADR_MAX_STREAMS}
        )
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video"
        and not (s.get("disposition") or {}).get("attached_pic")
        and s.get("codec_name")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio" and s.get("codec_name")]
    if not videos and not audios:
        raise ProbeRefused(_("The file contains no video or audio Kadr can decode."))
    try:
        duration = float(fmt.get("duration") or 0)
    except ValueError:
        duration = 0.0
    if not math.isfinite(duration) or duration <= 0:
        raise ProbeRefused(
            _("The file's length cannot be determined; it may be cut off or damaged.")
        )
    if duration > settings.KADR_MAX_DURATION_SECONDS:
        raise ProbeRefused(
            _("The recording is longer than the limit of %(hours)s hours.")
            % {"hours": round(settings.KADR_MAX_DURATION_SECONDS / 3600, 1)}
        )
    audio = audios[0] if audios else None
    common: dict[str, Any] = {
        "container": str(fmt.get("format_name", "")),
        "duration": round(duration, 3),
        "audio_codec": audio.get("codec_name", "") if audio else "",
        "has_audio": audio is not None,
        "audio_stream": str(audio.get("index", "a:0")) if audio else "",
        "size": size,
        "raw": data,
    }
    if not videos:
        return ProbeResult(kind="audio", **common)
    video = videos[0]
    rotation = _rotation(video)
    width, height = _display_size(video, rotation)
    if width <= 0 or height <= 0:
        raise ProbeRefused(_("The video's picture size cannot be read; the file may be damaged."))
    if width * height > settings.KADR_MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ProbeRefused(
            _("The picture is %(width)s×%(height)s pixels, larger than Kadr accepts (8K).")
            % {"width": width, "height": height}
        )
    pix_fmt = str(video.get("pix_fmt", ""))
    bits = int(video.get("bits_per_raw_sample") or 0)
    frame_rate = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    return ProbeResult(
        kind="video",
        video_codec=str(video.get("codec_name", "")),
        video_stream=str(video.get("index", "v:0")),
        width=width,
        height=height,
        frame_rate=round(frame_rate, 3),
        rotation=rotation,
        interlaced=str(video.get("field_order", "progressive")) in {"tt", "bb", "tb", "bt"},
        high_bit_depth=bits > 8 or any(tag in pix_fmt for tag in ("10", "12", "16")),
        variable_frame_rate=_is_variable(packet_pts or []),
        **common,
    )


def probe(path: Path) -> ProbeResult:
    """Probe a local file; raises ProbeRefused with a human reason."""
    size = path.stat().st_size
    if size == 0:
        raise ProbeRefused(_("The file is empty."))
    # ffprobe sees a generated name, never the user's (a camera card's, an upload's).
    root = Path(settings.KADR_SCRATCH_DIR)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kadr-probe-", dir=root) as scratch:
        alias = Path(scratch) / "source"
        alias.symlink_to(Path(path).resolve())
        return _probe_alias(alias, size)


def _probe_alias(path: Path, size: int) -> ProbeResult:
    data, _stderr = _run_json(ffmpeg.probe_argv(path))
    has_video = any(s.get("codec_type") == "video" for s in data.get("streams") or [])
    pts: list[float] = []
    if has_video:
        packets, _stderr = _run_json(ffmpeg.packets_argv(path, VFR_PACKETS))
        for packet in packets.get("packets") or []:
            try:
                pts.append(float(packet["pts_time"]))
            except (KeyError, ValueError):
                continue
    return parse(data, pts, size=size)


def read_streams(path: Path) -> dict[str, Any]:
    """ffprobe's format and streams for a file we made ourselves (an output)."""
    data, _stderr = _run_json(ffmpeg.probe_argv(path))
    return data


def refusal_for_purpose(result: ProbeResult, purpose: str) -> str:
    """Why this file cannot be processed for the purpose, or "" when it can."""
    if result.is_video or purpose == "footage":
        return ""
    return _("An audio-only file cannot be a cut; attach it to a shoot as footage instead.")
