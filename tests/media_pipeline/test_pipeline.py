"""Real encodes of generated clips, checked by probing what came out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from media_pipeline import ffmpeg, pipeline, tasks
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob
from tests.media_pipeline.pipeline_fixtures import (
    playlist_entries,
    small_ladder_fixture,  # noqa: F401
    stored_asset,
    stored_files,
    streams,
    top_level_boxes,
)

pytestmark = pytest.mark.slow

# kind: the display size the source has (after rotation)
KINDS = {
    "landscape": (640, 360),
    "portrait_rotated": (360, 640),
    "four_three": (480, 360),
    "ten_bit": (640, 360),
    "interlaced": (720, 576),
    "no_audio": (640, 360),
    "vfr": (640, 360),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_it_makes_playable_renditions_and_hls_of_every_kind_of_clip(
    kind: str, clips, tmp_path: Path, small_ladder
) -> None:
    out = tmp_path / "out"
    summary = pipeline.render_file(clips(kind), out, "review")
    src_w, src_h = KINDS[kind]
    assert [r["name"] for r in summary["renditions"]] == ["r240", "r120"]
    master = playlist_entries(out / "master.m3u8")
    assert sorted(master) == ["r120.m3u8", "r240.m3u8"]
    for rendition in summary["renditions"]:
        path = Path(rendition["path"])
        video = streams(path, "video")[0]
        assert video["codec_name"] == "h264" and video["profile"] == "High"
        assert video["pix_fmt"] == "yuv420p"
        assert video.get("field_order", "progressive") == "progressive"
        assert not video.get("side_data_list"), "no rotation left for players to apply twice"
        width, height = video["width"], video["height"]
        assert width % 2 == 0 and height % 2 == 0
        assert width <= src_w and height <= src_h
        assert (width > height) == (src_w > src_h), "orientation kept"
        assert (width, height) == (rendition["width"], rendition["height"])
        boxes = top_level_boxes(path)
        assert boxes.index("moov") < boxes.index("mdat"), "+faststart"
        audio = streams(path, "audio")
        if kind == "no_audio":
            assert audio == []
        else:
            assert audio[0]["codec_name"] == "aac" and audio[0]["profile"] == "LC"
            assert audio[0]["channels"] == 2 and audio[0]["sample_rate"] == "48000"
        variant = out / f"{rendition['name']}.m3u8"
        segments = playlist_entries(variant)
        assert segments and all((out / s).is_file() for s in segments)
        assert f'#EXT-X-MAP:URI="{rendition["name"]}_init.mp4"' in variant.read_text()
        assert (out / f"{rendition['name']}_init.mp4").is_file()
    assert Path(summary["poster"]).is_file() and len(summary["thumbnails"]) == 3
    assert Path(summary["storyboard"]).is_file()
    assert Path(summary["storyboard_vtt"]).read_text().startswith("WEBVTT")


def test_the_master_playlist_describes_each_variant(clips, tmp_path: Path, small_ladder) -> None:
    pipeline.render_file(clips("landscape"), tmp_path, "review")
    text = (tmp_path / "master.m3u8").read_text()
    assert "RESOLUTION=426x240" in text and "RESOLUTION=212x120" in text
    assert text.count('CODECS="avc1.64') == 2 and "mp4a.40.2" in text
    assert text.count("BANDWIDTH=") == 4  # BANDWIDTH and AVERAGE-BANDWIDTH per variant


def test_keyframes_are_aligned_across_rungs(clips, tmp_path: Path, small_ladder) -> None:
    pipeline.render_file(clips("landscape", duration=2.5), tmp_path, "review")

    def keyframes(name: str) -> list[str]:
        import subprocess

        out = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-skip_frame",
                "nokey",
                "-show_entries",
                "frame=pts_time",
                "-of",
                "csv=p=0",
                str(tmp_path / name),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return [f"{float(t.split(',')[0]):.2f}" for t in out]

    assert keyframes("r240.mp4") == keyframes("r120.mp4") == ["0.00", "1.00", "2.00"]


def test_a_tiny_source_gets_one_rendition_at_its_own_size(clips, tmp_path: Path, settings) -> None:
    summary = pipeline.render_file(clips("tiny"), tmp_path, "publish")
    assert [(r["width"], r["height"]) for r in summary["renditions"]] == [(160, 120)]


@pytest.mark.django_db
def test_a_processed_asset_is_ready_with_its_outputs_in_storage(clips, small_ladder) -> None:
    asset = stored_asset(clips("portrait_rotated"), purpose="review")
    tasks.process_asset.delay(str(asset.pk), "review")
    asset.refresh_from_db()
    job = ProcessingJob.objects.get(asset=asset, purpose="review")
    assert (asset.status, asset.progress, asset.error) == (AssetStatus.READY, 100, "")
    assert (job.status, job.generation, job.attempts) == (AssetStatus.READY, 1, 1)
    assert (asset.kind, asset.width, asset.height, asset.rotation) == ("video", 360, 640, 90)
    assert asset.has_audio and asset.video_codec == "h264" and 1.4 < asset.duration < 1.7
    prefix = f"media/{asset.pk}/review/1"
    assert job.output_prefix == prefix and job.hls_key == f"{prefix}/master.m3u8"
    stored = set(stored_files(prefix))
    assert {job.hls_key, job.poster_key, job.storyboard_key, job.storyboard_vtt_key} <= stored
    assert set(job.thumbnail_keys) <= stored and len(job.thumbnail_keys) == 3
    renditions = list(job.renditions.order_by("-height"))
    assert [(r.name, r.width, r.height) for r in renditions] == [
        ("r240", 240, 426),
        ("r120", 120, 212),
    ]
    assert all(r.key in stored and r.size > 0 for r in renditions)
    assert "-progress pipe:1" in job.ffmpeg_command and job.timings["encode"] > 0


@pytest.mark.django_db
def test_the_scratch_folder_is_always_removed(clips, settings, small_ladder) -> None:
    good = stored_asset(clips("landscape"))
    bad = stored_asset(clips("landscape"))
    Path(settings.KADR_MEDIA_ROOT, bad.original_key).write_bytes(b"not a video")
    for asset in (good, bad):
        tasks.process_asset.delay(str(asset.pk), "review")
    assert MediaAsset.objects.get(pk=good.pk).status == AssetStatus.READY
    assert MediaAsset.objects.get(pk=bad.pk).status == AssetStatus.FAILED
    assert list(Path(settings.KADR_SCRATCH_DIR).iterdir()) == []


@pytest.mark.django_db
def test_a_task_run_twice_leaves_one_set_of_outputs(clips, small_ladder) -> None:
    asset = stored_asset(clips("landscape"))
    tasks.process_asset.delay(str(asset.pk), "review")
    first = stored_files(asset.prefix)
    tasks.process_asset.delay(str(asset.pk), "review")  # a redelivered message
    assert stored_files(asset.prefix) == first
    job = ProcessingJob.objects.get(asset=asset, purpose="review")
    assert job.attempts == 1 and job.renditions.count() == 2


def test_progress_is_saved_at_most_every_two_seconds(monkeypatch) -> None:
    saved: list[int] = []
    monkeypatch.setattr(pipeline, "_save", lambda job, **fields: saved.append(fields["progress"]))
    clock = iter([100.0, 100.5, 101.0, 102.1, 102.2, 104.3])
    monkeypatch.setattr(pipeline.time, "monotonic", lambda: next(clock))
    report = pipeline._Progress(job=None, duration=10.0)  # type: ignore[arg-type]
    for seconds in (1, 2, 3, 4, 5, 10):
        report(seconds)
    assert saved == [9, 38, 95]


def test_ffmpeg_runs_in_its_own_process_group_and_a_timeout_kills_all_of_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(ffmpeg.FfmpegFailed) as failure:
        ffmpeg.run(
            ["sh", "-c", f"echo $$ > {pidfile}; sleep 60 & sleep 60; wait"],
            cwd=tmp_path,
            timeout=5,
        )
    assert failure.value.timed_out
    group = int(pidfile.read_text())
    assert group != os.getpgid(0)
    assert _living_members(group) == []


def test_ffmpeg_that_stops_reporting_progress_is_killed(tmp_path: Path) -> None:
    with pytest.raises(ffmpeg.FfmpegFailed) as failure:
        ffmpeg.run(
            ["sh", "-c", "echo out_time_us=1000000; exec sleep 600"],
            cwd=tmp_path,
            timeout=3600,
            stall=2,
        )
    assert failure.value.timed_out


def _living_members(group: int) -> list[int]:
    """Processes of the group still running (killed ones may linger as zombies)."""
    living = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            living.append(int(stat.parent.name))
    return living


@pytest.mark.django_db
def test_an_original_without_a_local_path_is_downloaded_to_scratch_first(
    clips, monkeypatch, small_ladder
) -> None:
    from media_pipeline.storage import LocalStorage

    asset = stored_asset(clips("landscape"), purpose="footage")
    downloads = []
    real_download = LocalStorage.download_to

    def download_to(self, key, path):  # type: ignore[no-untyped-def]
        downloads.append((key, path))
        return real_download(self, key, path)

    # As with S3: no path ffmpeg could read directly.
    monkeypatch.setattr(LocalStorage, "local_path", lambda self, key: None)
    monkeypatch.setattr(LocalStorage, "download_to", download_to)
    tasks.process_asset.delay(str(asset.pk), "footage")
    job = ProcessingJob.objects.get(asset=asset)
    assert job.status == AssetStatus.READY
    assert downloads and downloads[0][0] == asset.original_key
    assert f"file:{downloads[0][1]}" in job.ffmpeg_command
    assert not downloads[0][1].exists(), "the scratch copy is removed"


def _mean_luma(image: Path) -> float:
    import subprocess

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-f", "lavfi", f"movie={image},signalstats",
         "-show_entries", "frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(out.split()[0])


def test_the_poster_is_not_the_black_opening(tmp_path: Path, small_ladder) -> None:
    import subprocess

    clip = tmp_path / "fade-in.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", "color=black:size=320x180:rate=25:duration=1.2", "-f", "lavfi",
         "-i", "testsrc2=size=320x180:rate=25:duration=0.8",
         "-filter_complex", "[0][1]concat=n=2:v=1", "-c:v", "libx264", "-preset", "ultrafast",
         str(clip)],
        check=True,
    )  # fmt: skip
    summary = pipeline.render_file(clip, tmp_path / "out", "footage")
    assert _mean_luma(Path(summary["poster"])) > 40
