"""Benchmark of the media pipeline (issue 3 item 8, issue 8 item 3). Prints ratios.

    .venv/bin/python bench/pipeline.py            # 30 s 1080p25 clip, 3 rounds
    .venv/bin/python bench/pipeline.py --quick    # 10 s clip, 2 rounds, 20 s footage

Each round runs, in an order that rotates from round to round:
  (a) pipeline  Kadr's publish job through the production code path (pipeline.process:
                lease, probe, one ffmpeg process, upload to local storage, swap)
  (b) bare      one hand-written ffmpeg command making the same four MP4 rungs
                (one decode, split, same x264/AAC settings): the encoding limit
  (c) per-rung  one ffmpeg process per rung, then a poster run and a sprite run
                (how the best-known Django video CMS does it)
  (r) review    Kadr's review job on the same clip
and prints medians of the per-round ratios, so a machine busy with other work
slows both sides of a ratio alike. Then the footage job on a longer clip gives
CPU seconds per source minute (ffmpeg and Python together).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(var: Path) -> None:
    os.environ["KADR_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_clip(path: Path, seconds: int) -> None:
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "192k", "-ac", "2", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip


def publish_rungs() -> list[tuple[str, int, int, int, int]]:
    from django.conf import settings

    out = []
    for name in settings.KADR_PURPOSES["publish"]["rungs"]:
        rung = settings.KADR_RUNGS[name]
        short = rung["short_side"]
        out.append((name, short * 16 // 9 // 2 * 2, short, rung["video_kbps"], rung["audio_kbps"]))
    return out


def x264_args(kbps: int, preset: str, segment: int) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-crf", "23", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps * 2}k",
        "-g", str(25 * segment), "-keyint_min", str(25 * segment), "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{segment})",
    ]  # fmt: skip


def bare(source: Path, out: Path) -> None:
    """(b) One process, one decode, the four MP4 rungs and nothing else."""
    from django.conf import settings

    rungs = publish_rungs()
    preset = settings.KADR_PURPOSES["publish"]["preset"]
    segment = settings.KADR_HLS_SEGMENT_SECONDS
    lufs = settings.KADR_LOUDNESS_LUFS
    graph = [f"[0:v]split={len(rungs)}" + "".join(f"[v{i}]" for i in range(len(rungs)))]
    graph += [f"[v{i}]scale={w}:{h}[o{i}]" for i, (_n, w, h, _k, _a) in enumerate(rungs)]
    graph += [
        f"[0:a]loudnorm=I={lufs}:TP=-1.5:LRA=11,aresample=48000,asplit={len(rungs)}"
        + "".join(f"[a{i}]" for i in range(len(rungs)))
    ]
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source)]
    argv += ["-filter_complex", ";".join(graph)]
    for i, (name, _w, _h, kbps, akbps) in enumerate(rungs):
        argv += ["-map", f"[o{i}]", "-map", f"[a{i}]", *x264_args(kbps, preset, segment)]
        argv += ["-c:a", "aac", "-b:a", f"{akbps}k", "-ac", "2", "-movflags", "+faststart"]
        argv += [str(out / f"{name}.mp4")]
    subprocess.run(argv, check=True)


def per_rung(source: Path, out: Path, duration: float) -> None:
    """(c) A process per rung (each decodes the source again), then poster and sprite."""
    from django.conf import settings

    preset = settings.KADR_PURPOSES["publish"]["preset"]
    segment = settings.KADR_HLS_SEGMENT_SECONDS
    lufs = settings.KADR_LOUDNESS_LUFS
    for name, w, h, kbps, akbps in publish_rungs():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source),
             "-vf", f"scale={w}:{h}", *x264_args(kbps, preset, segment),
             "-af", f"loudnorm=I={lufs}:TP=-1.5:LRA=11,aresample=48000",
             "-c:a", "aac", "-b:a", f"{akbps}k", "-ac", "2", "-movflags", "+faststart",
             str(out / f"{name}.mp4")],
            check=True,
        )  # fmt: skip
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", str(duration / 3), "-i", str(source),
         "-frames:v", "1", "-q:v", "3", str(out / "poster.jpg")],
        check=True,
    )  # fmt: skip
    tiles = max(1, int(duration))
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source),
         "-vf", f"fps=1,scale=160:90,tile=10x{(tiles + 9) // 10}", "-frames:v", "1",
         "-q:v", "4", str(out / "sprite.jpg")],
        check=True,
    )  # fmt: skip


def new_asset(source: Path, purpose: str) -> str:
    from media_pipeline import storage
    from media_pipeline.models import MediaAsset

    asset = MediaAsset.objects.create(original_name="bench.mp4", purpose=purpose)
    key = f"{asset.prefix}/original"
    MediaAsset.objects.filter(pk=asset.pk).update(original_key=key)
    storage.get_storage().save_file(key, source)
    return str(asset.pk)


def run_pipeline(source: Path, purpose: str) -> Callable[[], None]:
    from media_pipeline import pipeline
    from media_pipeline.models import ProcessingJob

    asset_id = new_asset(source, purpose)  # untimed: the upload happened earlier

    def go() -> None:
        pipeline.process(asset_id, purpose)
        job = ProcessingJob.objects.get(asset_id=asset_id, purpose=purpose)
        if job.status != "ready":
            raise SystemExit(f"{purpose} job ended {job.status}: {job.error}")

    return go


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def cpu_of(fn: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children) for fn."""
    before = os.times()
    wall = timed(fn)
    after = os.times()
    cpu = sum(
        getattr(after, f) - getattr(before, f)
        for f in ("user", "system", "children_user", "children_system")
    )
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10 s clip, 2 rounds, 20 s footage")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=int, help="length of the 1080p25 clip")
    parser.add_argument("--footage-seconds", type=int)
    args = parser.parse_args()
    seconds = args.seconds or (10 if args.quick else 30)
    rounds = args.rounds or (2 if args.quick else 3)
    footage_seconds = args.footage_seconds or (20 if args.quick else 60)

    work = Path(tempfile.mkdtemp(prefix="kadr-bench-"))
    try:
        setup_django(work / "var")
        source = work / "clip.mp4"
        make_clip(source, seconds)
        print(
            f"clip: 1920x1080 25 fps, {seconds} s, with audio; {rounds} rounds; {os.cpu_count()} CPUs"
        )
        runs: dict[str, list[float]] = {"pipeline": [], "bare": [], "per-rung": [], "review": []}
        for index in range(rounds):
            variants: list[tuple[str, Callable[[], None]]] = []
            for name in ("pipeline", "bare", "per-rung", "review"):
                out = work / f"{name}-{index}"
                out.mkdir()
                if name == "pipeline":
                    variants.append((name, run_pipeline(source, "publish")))
                elif name == "review":
                    variants.append((name, run_pipeline(source, "review")))
                elif name == "bare":
                    variants.append((name, lambda out=out: bare(source, out)))
                else:
                    variants.append((name, lambda out=out: per_rung(source, out, seconds)))
            shift = index % len(variants)
            for name, fn in variants[shift:] + variants[:shift]:
                runs[name].append(timed(fn))
                print(f"  round {index + 1} {name:9s} {runs[name][-1]:7.2f} s", flush=True)

        def median_ratio(top: str, bottom: str) -> float:
            return statistics.median(a / b for a, b in zip(runs[top], runs[bottom], strict=True))

        footage = work / "footage.mp4"
        make_clip(footage, footage_seconds)
        wall, cpu = cpu_of(run_pipeline(footage, "footage"))
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print()
        print(f"pipeline/bare: {median_ratio('pipeline', 'bare'):.2f}   (target <= 1.15)")
        print(f"pipeline/per-rung: {median_ratio('pipeline', 'per-rung'):.2f}   (target <= 0.85)")
        print(f"review/publish: {median_ratio('review', 'pipeline'):.2f}   (target <= 0.30)")
        print(f"python peak RSS: {rss_mb:.0f} MB   (target <= 150 MB)")
        per_minute = cpu / footage_seconds * 60
        print(
            f"footage: {per_minute:.1f} CPU s per source minute "
            f"({footage_seconds} s clip: {cpu:.1f} CPU s, {wall:.1f} s wall; "
            f"one hour of footage ≈ {per_minute:.0f} CPU min)   (aim <= 10)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
