"""manage.py render FILE --out DIR: the pipeline on a local file, no database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.media_pipeline.pipeline_fixtures import small_ladder_fixture, streams  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_it_renders_a_local_file_and_prints_a_summary_without_a_database(
    clips, tmp_path: Path, small_ladder
) -> None:
    # No django_db mark: any database query here would fail the test.
    out = io.StringIO()
    call_command("render", str(clips("landscape")), "--out", str(tmp_path / "out"), stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["purpose"] == "publish" and 1.4 < summary["duration"] < 1.7
    assert [(r["name"], r["width"], r["height"]) for r in summary["renditions"]] == [
        ("r288", 512, 288),
        ("r240", 426, 240),
        ("r180", 320, 180),
        ("r120", 212, 120),
    ]
    for rendition in summary["renditions"]:
        assert rendition["size"] == Path(rendition["path"]).stat().st_size
        assert streams(Path(rendition["path"]), "video")[0]["codec_name"] == "h264"
    assert Path(summary["hls_master"]).name == "master.m3u8"
    for key in ("hls_master", "poster", "storyboard", "storyboard_vtt"):
        assert Path(summary[key]).is_file()
    assert {"probe", "encode"} <= set(summary["timings"])


def _manage(*args: str, var: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KADR_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_refused_file_exits_non_zero_with_a_one_line_reason(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is not a video")
    done = _manage("render", str(fake), "--out", str(tmp_path / "out"), var=tmp_path / "var")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "MP4/MOV, Matroska/WebM" in lines[0]
    assert done.stdout == "" and not (tmp_path / "out").exists()


def test_an_audio_only_file_is_refused_for_publishing(clips, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="audio-only"):
        call_command(
            "render", str(clips("audio_only")), "--out", str(tmp_path), "--purpose", "review"
        )


def test_an_audio_only_file_renders_as_footage(clips, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command(
        "render",
        str(clips("audio_only")),
        "--out",
        str(tmp_path),
        "--purpose",
        "footage",
        stdout=out,
    )
    summary = json.loads(out.getvalue())
    assert summary["kind"] == "audio" and summary["poster"] == "" and summary["storyboard"] == ""
    (audio,) = summary["renditions"]
    assert audio["name"] == "audio"
    (stream,) = streams(Path(audio["path"]), "audio")
    assert stream["codec_name"] == "aac" and stream["channels"] == 2


def test_an_unknown_purpose_is_a_clear_error(clips, tmp_path: Path) -> None:
    with pytest.raises(
        CommandError, match="Unknown purpose “teaser”; choose one of: footage, review, publish"
    ):
        call_command(
            "render", str(clips("landscape")), "--out", str(tmp_path), "--purpose", "teaser"
        )


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        call_command("render", str(tmp_path / "nope.mp4"), "--out", str(tmp_path))


def test_the_users_file_name_never_reaches_ffmpeg(clips, tmp_path: Path, monkeypatch) -> None:
    from media_pipeline import ffmpeg, probe

    named = tmp_path / "Зйомка $(rm -rf) 'v2'.mp4"
    named.write_bytes(clips("landscape").read_bytes())
    seen: list[list[str]] = []
    real_run = probe.subprocess.run

    def spy(argv, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(list(argv))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(probe.subprocess, "run", spy)
    monkeypatch.setattr(ffmpeg.subprocess, "Popen", _spy_popen(ffmpeg.subprocess.Popen, seen))
    call_command(
        "render",
        str(named),
        "--out",
        str(tmp_path / "out"),
        "--purpose",
        "footage",
        stdout=io.StringIO(),
    )
    assert seen and all("Зйомка" not in arg for argv in seen for arg in argv)


def _spy_popen(real, seen):  # type: ignore[no-untyped-def]
    def popen(argv, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(list(argv))
        return real(argv, **kwargs)

    return popen
