"""One purpose's encode of a local file: probe, one ffmpeg process, and a description
of what it made (renditions, HLS master, poster, thumbnails, storyboard).

No database and no storage here: `render_file` is the `render` command, and
pipeline.process wraps `encode` in the job's life.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from media_pipeline import ffmpeg, ladder, probe, thumbnails

MASTER = "master.m3u8"


class PurposeRefused(Exception):
    """The file is fine, but not for this purpose (an audio-only cut)."""


@dataclass
class Rendered:
    """What one encode left in its folder, described for storage and for people."""

    folder: Path
    probe: probe.ProbeResult
    plan: ladder.Plan
    argv: list[str]
    log: str = ""
    renditions: list[dict[str, Any]] = field(default_factory=list)
    hls: str = ""
    poster: str = ""
    thumbnails: list[str] = field(default_factory=list)
    storyboard: str = ""
    storyboard_vtt: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self, base: Path | None = None) -> dict[str, Any]:
        def where(name: str) -> str:
            return str((base or self.folder) / name) if name else ""

        return {
            "purpose": self.plan.purpose,
            "kind": self.probe.kind,
            "duration": self.probe.duration,
            "width": self.probe.width,
            "height": self.probe.height,
            "renditions": [
                {**{k: v for k, v in r.items() if k != "file"}, "path": where(r["file"])}
                for r in self.renditions
            ],
            "hls_master": where(self.hls),
            "poster": where(self.poster),
            "thumbnails": [where(n) for n in self.thumbnails],
            "storyboard": where(self.storyboard),
            "storyboard_vtt": where(self.storyboard_vtt),
            "timings": self.timings,
            "command": self.argv,
        }


def timeout_for(plan: ladder.Plan) -> float:
    """Generous, but bounded: scaled by the duration and the work per second."""
    factor = float(getattr(settings, "KADR_FFMPEG_TIMEOUT_FACTOR", 20))
    return 120 + plan.duration * factor * max(1, len(plan.rungs)) / 2


def _describe_outputs(rendered: Rendered) -> None:
    plan, folder = rendered.plan, rendered.folder
    if plan.audio_only:
        path = folder / "audio.m4a"
        rendered.renditions.append(
            {
                "name": "audio",
                "width": 0,
                "height": 0,
                "video_bitrate": 0,
                "audio_bitrate": plan.audio_bitrates[0] * 1000,
                "size": path.stat().st_size,
                "file": path.name,
            }
        )
        return
    variants = []
    for rung in plan.rungs:
        path = folder / rung.mp4
        data = probe.read_streams(path)
        video = next(s for s in data["streams"] if s.get("codec_type") == "video")
        audio = next((s for s in data["streams"] if s.get("codec_type") == "audio"), None)
        rendered.renditions.append(
            {
                "name": rung.name,
                "width": int(video["width"]),
                "height": int(video["height"]),
                "video_bitrate": int(video.get("bit_rate") or 0),
                "audio_bitrate": int(audio.get("bit_rate") or 0) if audio else 0,
                "size": path.stat().st_size,
                "file": path.name,
            }
        )
        if plan.hls:
            peak, average = ladder.variant_bandwidth(folder / rung.playlist)
            variants.append(
                {
                    "playlist": rung.playlist,
                    "width": int(video["width"]),
                    "height": int(video["height"]),
                    "bandwidth": peak,
                    "average": average,
                    "codecs": ladder.codecs_string(video, audio is not None),
                    "frame_rate": probe._rate(video.get("avg_frame_rate")),
                }
            )
    if variants:
        (folder / MASTER).write_text(ladder.master_playlist(variants), encoding="utf-8")
        rendered.hls = MASTER
    found = thumbnails.candidates(folder)
    if plan.poster:
        best = thumbnails.choose_poster(found)
        if best is not None:
            shutil.copyfile(best, folder / thumbnails.POSTER)
            rendered.poster = thumbnails.POSTER
    if plan.thumbnails:
        rendered.thumbnails = [p.name for p in found]
    else:
        for path in found:
            path.unlink()
    if plan.storyboard and (folder / thumbnails.SPRITE).is_file():
        vtt = thumbnails.storyboard_vtt(plan.storyboard, plan.duration)
        (folder / thumbnails.SPRITE_VTT).write_text(vtt, encoding="utf-8")
        rendered.storyboard = thumbnails.SPRITE
        rendered.storyboard_vtt = thumbnails.SPRITE_VTT


def encode(
    source: Path,
    folder: Path,
    purpose: str,
    *,
    probed: probe.ProbeResult | None = None,
    on_progress: Any = None,
    on_command: Any = None,
) -> Rendered:
    """Probe (unless given) and encode `source` for `purpose` into the empty `folder`."""
    started = time.monotonic()
    result = probed or probe.probe(source)
    reason = probe.refusal_for_purpose(result, purpose)
    if reason:
        raise PurposeRefused(reason)
    plan = ladder.plan_for(result, purpose)
    argv = ffmpeg.transcode_argv(source, plan)
    if on_command:
        on_command(argv)
    probed_at = time.monotonic()
    run = ffmpeg.run(argv, cwd=folder, timeout=timeout_for(plan), on_progress=on_progress)
    rendered = Rendered(folder=folder, probe=result, plan=plan, argv=argv, log=run.log)
    _describe_outputs(rendered)
    rendered.timings = {
        "probe": round(probed_at - started, 3),
        "encode": round(run.seconds, 3),
        "finish": round(time.monotonic() - probed_at - run.seconds, 3),
        "cpu_seconds": round(run.cpu_seconds, 3),
    }
    return rendered


def scratch_dir() -> Path:
    root = Path(settings.KADR_SCRATCH_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="kadr-", dir=root))


def render_file(path: Path, out_dir: Path, purpose: str) -> dict[str, Any]:
    """The whole pipeline on a local file, no database; returns a JSON-able summary.

    Raises ProbeRefused / PurposeRefused / FfmpegFailed with a human reason; nothing
    is written to out_dir unless the encode succeeded.
    """
    ladder.purpose_settings(purpose)
    scratch = scratch_dir()
    try:
        # ffmpeg sees a generated name, never the user's.
        source = scratch / "source"
        source.symlink_to(Path(path).resolve())
        work = scratch / "out"
        work.mkdir()
        rendered = encode(source, work, purpose)
        out_dir.mkdir(parents=True, exist_ok=True)
        for item in work.iterdir():
            shutil.move(str(item), out_dir / item.name)
        return rendered.summary(base=out_dir.resolve())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
