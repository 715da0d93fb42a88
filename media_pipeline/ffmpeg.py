"""The one module that builds ffmpeg and ffprobe command lines, and runs ffmpeg.

The argv builders are pure functions (tested without running ffmpeg). The input
is always a generated path, passed as `file:<absolute path>` behind a protocol
and demuxer allow-list; outputs are plain names inside the working folder that
ffmpeg runs in. Never a shell string, never a user's file name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ffmpeg as ffmpeg_python  # ffmpeg-python: used only to build the filter graph argv
from django.conf import settings

from media_pipeline import thumbnails

if TYPE_CHECKING:
    from media_pipeline.ladder import Plan

# The demuxers cameras and phones produce, by ffmpeg's names.
FORMAT_WHITELIST = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mxf,mpegts,avi"
INPUT_GUARD = {"protocol_whitelist": "file", "format_whitelist": FORMAT_WHITELIST}
CRF = 23
LOG_TAIL = 20_000


def _input_url(path: Path) -> str:
    # "file:" stops ffmpeg reading a protocol out of the path itself. No resolve():
    # following a symlink would put the user's file name back on the command line.
    return f"file:{os.path.abspath(path)}"


def _guard_args() -> list[str]:
    return [arg for key, value in INPUT_GUARD.items() for arg in (f"-{key}", value)]


def probe_argv(path: Path) -> list[str]:
    return [
        settings.KADR_FFPROBE_BIN,
        "-v",
        "error",
        *_guard_args(),
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        _input_url(path),
    ]


def demo_clip_argv(out: Path, *, seconds: int = 3, size: str = "640x360") -> list[str]:
    """A generated clip (colour bars and a tone) for demo data; no file is read."""
    lavfi = ["-f", "lavfi", "-i"]
    return [
        settings.KADR_FFMPEG_BIN, "-nostdin", "-v", "error", "-y",
        *lavfi, f"testsrc2=size={size}:rate=25:duration={seconds}",
        *lavfi, f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", str(out),
    ]  # fmt: skip


def packets_argv(path: Path, count: int) -> list[str]:
    """The first `count` video packets' timestamps, to tell a variable frame rate."""
    return [
        settings.KADR_FFPROBE_BIN,
        "-v",
        "error",
        *_guard_args(),
        "-select_streams",
        "v:0",
        "-read_intervals",
        f"%+#{count}",
        "-show_entries",
        "packet=pts_time",
        "-print_format",
        "json",
        _input_url(path),
    ]


def _tee_slave(options: dict[str, str], target: str) -> str:
    spec = ":".join(f"{key}={value}" for key, value in options.items())
    return f"[{spec}]{target}"


def tee_spec(plan: Plan) -> str:
    """Each rung's encode written twice without re-encoding: as an MP4 and as HLS."""
    slaves = []
    bitrates = plan.audio_bitrates
    for index, rung in enumerate(plan.rungs):
        streams = f"v:{index}"
        if plan.has_audio:
            streams += f",a:{bitrates.index(rung.audio_kbps)}"
        select = f"\\'{streams}\\'"
        slaves.append(
            _tee_slave({"select": select, "f": "mp4", "movflags": "+faststart"}, rung.mp4)
        )
        if plan.hls:
            hls = {
                "select": select,
                "f": "hls",
                "hls_time": str(plan.segment_seconds),
                "hls_playlist_type": "vod",
                "hls_segment_type": "fmp4",
                "hls_flags": "independent_segments",
                "hls_fmp4_init_filename": rung.init_segment,
                "hls_segment_filename": rung.segment_pattern,
            }
            slaves.append(_tee_slave(hls, rung.playlist))
    return "|".join(slaves)


def _audio_chain(source: Any, plan: Plan) -> Any:
    audio = source.filter("aresample", **{"async": 1})
    if plan.loudness is not None:
        audio = audio.filter("loudnorm", I=plan.loudness, TP=-1.5, LRA=11)
    return audio.filter("aresample", 48000).filter(
        "aformat", sample_fmts="fltp", channel_layouts="stereo"
    )


def _base_args() -> list[str]:
    args = ["-nostdin", "-hide_banner", "-y", "-loglevel", "warning"]
    args += ["-progress", "pipe:1", "-nostats", "-max_error_rate", "0.5"]
    if settings.KADR_FFMPEG_THREADS:
        args += ["-filter_complex_threads", str(settings.KADR_FFMPEG_THREADS)]
    return args


def transcode_argv(source: Path, plan: Plan) -> list[str]:
    """One ffmpeg process: one decode feeds every rung, HLS, stills and storyboard.

    Run it with the output folder as the working directory.
    """
    stream = ffmpeg_python.input(_input_url(source), **INPUT_GUARD)
    outputs = []
    audio = _audio_chain(stream[plan.audio_stream], plan) if plan.has_audio else None
    if plan.audio_only:
        assert audio is not None
        outputs.append(
            ffmpeg_python.output(
                audio,
                "audio.m4a",
                acodec="aac",
                audio_bitrate=f"{plan.audio_bitrates[0]}k",
                ac=2,
                ar=48000,
                movflags="+faststart",
            )
        )
        return _compile(outputs)

    video = stream[plan.video_stream]
    if plan.deinterlace:
        video = video.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
    if plan.fps:
        video = video.filter("fps", fps=f"{plan.fps:.3f}")
    branches = len(plan.rungs) + bool(plan.stills) + bool(plan.storyboard)
    split = video.filter_multi_output("split", branches)
    encoded = []
    for index, rung in enumerate(plan.rungs):
        encoded.append(
            split[index]
            .filter("scale", rung.width, rung.height, flags=plan.scaler)
            .filter("setsar", 1)
            .filter("format", "yuv420p")
        )
    bitrates = plan.audio_bitrates
    if audio is not None:
        if len(bitrates) > 1:
            shared = audio.filter_multi_output("asplit", len(bitrates))
            encoded += [shared[i] for i in range(len(bitrates))]
        else:
            encoded.append(audio)
    options: dict[str, Any] = {
        "c:v": "libx264",
        "preset": plan.preset,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "crf": CRF,
        "g": plan.gop,
        "keyint_min": plan.gop,
        "sc_threshold": 0,
        # Keyframes at the same instants in every rung: players switch cleanly.
        "force_key_frames:v": f"expr:gte(t,n_forced*{plan.segment_seconds})",
        "flags:v": "+global_header",
        "fps_mode:v": "passthrough",
        "max_muxing_queue_size": 4096,
    }
    for index, rung in enumerate(plan.rungs):
        options[f"maxrate:v:{index}"] = f"{rung.video_kbps}k"
        options[f"bufsize:v:{index}"] = f"{rung.video_kbps * 2}k"
    if audio is not None:
        options.update({"c:a": "aac", "ac": 2, "ar": 48000})
        for index, kbps in enumerate(bitrates):
            options[f"b:a:{index}"] = f"{kbps}k"
    if settings.KADR_FFMPEG_THREADS:
        options["threads"] = settings.KADR_FFMPEG_THREADS
    outputs.append(ffmpeg_python.output(*encoded, tee_spec(plan), format="tee", **options))

    branch = len(plan.rungs)
    still_options = {"fps_mode:v": "passthrough", "q:v": 3, "pix_fmt": "yuvj420p"}
    if plan.stills:
        s = plan.stills
        picked = (
            split[branch]
            .filter("fps", fps=s.rate)
            .filter("scale", s.width, s.height, flags=plan.scaler)
            .filter("thumbnail", n=s.batch)
        )
        outputs.append(
            ffmpeg_python.output(
                picked, thumbnails.CANDIDATE_PATTERN, **{"frames:v": s.count}, **still_options
            )
        )
        branch += 1
    if plan.storyboard:
        b = plan.storyboard
        sprite = (
            split[branch]
            .filter("fps", fps=b.rate)
            .filter("scale", b.tile_width, b.tile_height)
            .filter("tile", f"{b.columns}x{b.rows}")
        )
        outputs.append(
            ffmpeg_python.output(
                sprite, thumbnails.SPRITE, update=1, **{"frames:v": 1}, **still_options
            )
        )
    return _compile(outputs)


def _compile(outputs: list[Any]) -> list[str]:
    argv = ffmpeg_python.merge_outputs(*outputs).compile(cmd=settings.KADR_FFMPEG_BIN)
    return [argv[0], *_base_args(), *argv[1:]]


def command_line(argv: list[str]) -> str:
    """The argv as one readable line for the admin (display only, never executed)."""
    import shlex

    return shlex.join(argv)


# --- running ------------------------------------------------------------------------------


class FfmpegFailed(Exception):
    """ffmpeg rejected the file or ran past its time limit; str(exc) is the reason."""

    def __init__(self, reason: str, log: str = "", timed_out: bool = False) -> None:
        super().__init__(reason)
        self.log = log
        self.timed_out = timed_out


@dataclass
class RunResult:
    seconds: float
    log: str
    cpu_seconds: float


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run(
    argv: list[str],
    *,
    cwd: Path,
    timeout: float,
    on_progress: Callable[[float], None] | None = None,
    stall: float | None = None,
) -> RunResult:
    """Run ffmpeg in its own process group; `on_progress(seconds_done)` from -progress.

    Past `timeout`, or when ffmpeg reports no progress for `stall` seconds (a hung
    decode), or when the caller is interrupted (a revoke), the whole group is
    killed, so nothing is left behind.
    """
    log_path = cwd / ".ffmpeg.log"
    started = time.monotonic()
    before = os.times()
    stall = stall or float(getattr(settings, "KADR_FFMPEG_STALL_SECONDS", 300))
    timed_out = threading.Event()
    finished = threading.Event()
    last_report = [started]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_file,
            start_new_session=True,
        )

        def watch() -> None:
            while not finished.wait(min(1.0, stall / 4)):
                now = time.monotonic()
                if now - started > timeout or now - last_report[0] > stall:
                    timed_out.set()
                    _kill_group(process)
                    return

        watchdog = threading.Thread(target=watch, daemon=True)
        watchdog.start()
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                last_report[0] = time.monotonic()
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and on_progress and value.isdigit():
                    on_progress(int(value) / 1_000_000)
            code = process.wait()
        except BaseException:
            _kill_group(process)
            process.wait()
            raise
        finally:
            finished.set()
            watchdog.join()
    log = log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL:]
    log_path.unlink(missing_ok=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if timed_out.is_set():
        raise FfmpegFailed("timeout", log, timed_out=True)
    if code != 0:
        raise FfmpegFailed(_last_error(log) or f"exit status {code}", log)
    return RunResult(seconds=time.monotonic() - started, log=log, cpu_seconds=cpu)


def _last_error(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
