"""Hostile and broken files: each ends failed with a reason a person understands,
is tried once, leaves nothing in storage, and reaches nothing beyond itself."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from media_pipeline import tasks
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob
from tests.media_pipeline.pipeline_fixtures import (
    media_root,
    output_files,
    small_ladder_fixture,  # noqa: F401
    stored_asset,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def text_file(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("Minutes of the meeting, not a video.\n" * 50)
    return path


def truncated_mp4(folder: Path) -> Path:
    whole = folder / "whole.mp4"  # no +faststart: the index (moov) is at the end
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:duration=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        str(whole),
    )
    cut = folder / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    return cut


def jpeg(folder: Path) -> Path:
    path = folder / "photo.jpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", str(path))
    return path


def empty(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def absurd_dimensions(folder: Path) -> Path:
    path = folder / "huge.avi"  # 7800×4400: more pixels than 8K, one cheap MJPEG frame
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=7800x4400:d=0.04",
        "-frames:v",
        "1",
        "-c:v",
        "mjpeg",
        "-q:v",
        "31",
        str(path),
    )
    return path


def hundreds_of_streams(folder: Path) -> Path:
    path = folder / "streams.mkv"
    maps = ["-map", "1:a"] * 200
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=s=64x64:d=0.5",
        "-f",
        "lavfi",
        "-i",
        "sine=d=0.5",
        "-map",
        "0:v",
        *maps,
        "-c:v",
        "mjpeg",
        "-c:a",
        "pcm_s16le",
        str(path),
    )
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "text named .mp4": (text_file, "cannot read this file"),
    "MP4 cut off before its index": (truncated_mp4, "incomplete"),
    "JPEG": (jpeg, "cannot read this file"),
    "zero bytes": (empty, "The file is empty."),
    "absurd dimensions": (absurd_dimensions, "7800×4400 pixels, larger than Kadr accepts"),
    "hundreds of streams": (hundreds_of_streams, "201 streams"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_it_refuses_a_bad_file_once_with_a_reason_and_no_outputs(
    case: str, tmp_path: Path, small_ladder
) -> None:
    make, reason = BAD_FILES[case]
    asset = stored_asset(make(tmp_path), purpose="review")
    tasks.process_asset.delay(str(asset.pk), "review")
    asset.refresh_from_db()
    job = ProcessingJob.objects.get(asset=asset)
    assert asset.status == AssetStatus.FAILED and job.status == AssetStatus.FAILED
    assert reason in asset.error and reason in job.error
    assert job.attempts == 1, "a refused file is never retried"
    assert output_files(asset) == []
    assert asset.kind == "unknown"


def test_an_audio_only_file_is_refused_as_a_cut(clips, small_ladder) -> None:
    asset = stored_asset(clips("audio_only"), purpose="review")
    tasks.process_asset.delay(str(asset.pk), "review")
    asset.refresh_from_db()
    assert asset.status == AssetStatus.FAILED and "audio-only" in asset.error
    assert asset.kind == "audio" and output_files(asset) == []


class Sentinels:
    """A file, a FIFO and a TCP port on 127.0.0.1 that a disguised playlist points at.

    The file's access time shows a read; the FIFO shows an open even if nothing is
    read; the listening socket shows a connection attempt.
    """

    def __init__(self, folder: Path) -> None:
        self.file = folder / "secret.ts"
        self.file.write_bytes(b"G" * 188 * 10)
        os.utime(self.file, (1_000_000, 2_000_000))  # atime older than mtime: a read moves it
        self.fifo = folder / "tap.ts"
        os.mkfifo(self.fifo)
        self.fifo_opened_by_someone = False
        self._releasing = threading.Event()
        self._writer = threading.Thread(target=self._wait_for_reader, daemon=True)
        self._writer.start()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.port = self.server.getsockname()[1]

    def _wait_for_reader(self) -> None:
        fd = os.open(self.fifo, os.O_WRONLY)  # blocks until somebody opens it to read
        self.fifo_opened_by_someone = not self._releasing.is_set()
        os.close(fd)

    def finish(self) -> tuple[bool, bool, bool]:
        """(file read, fifo opened, connection made)"""
        read = os.stat(self.file).st_atime != 1_000_000
        self._releasing.set()
        fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self._writer.join(5)
        os.close(fd)
        self.server.settimeout(0.3)
        try:
            conn, _addr = self.server.accept()
            conn.close()
            connected = True
        except TimeoutError:
            connected = False
        self.server.close()
        return read, self.fifo_opened_by_someone, connected


def _store_beside(asset: MediaAsset, *paths: Path) -> None:
    """Put the sentinels in the original's own folder, where relative names resolve."""
    folder = media_root() / asset.prefix
    for path in paths:
        path.rename(folder / path.name)


@pytest.mark.parametrize("disguise", ["hls", "ffconcat"])
def test_a_disguised_playlist_reads_no_other_file_and_opens_no_connection(
    disguise: str, tmp_path: Path, small_ladder
) -> None:
    upload = tmp_path / "upload.mp4"
    upload.write_text("placeholder")
    asset = stored_asset(upload, purpose="review")
    folder = media_root() / asset.prefix
    sentinels = Sentinels(folder)
    # The atime control: on this filesystem a read really does show.
    if disguise == "hls":
        script = (
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
            f"#EXTINF:1,\n{sentinels.file}\n#EXTINF:1,\n{sentinels.fifo}\n"
            f"#EXTINF:1,\nhttp://127.0.0.1:{sentinels.port}/segment.ts\n#EXT-X-ENDLIST\n"
        )
    else:
        script = (
            "ffconcat version 1.0\nfile 'secret.ts'\nfile 'tap.ts'\n"
            f"file 'http://127.0.0.1:{sentinels.port}/segment.ts'\n"
        )
    (media_root() / asset.original_key).write_text(script)
    tasks.process_asset.delay(str(asset.pk), "review")
    asset.refresh_from_db()
    read, opened, connected = sentinels.finish()
    assert asset.status == AssetStatus.FAILED and "cannot read this file" in asset.error
    assert not read, "the sentinel file was read"
    assert not opened, "the sentinel FIFO was opened"
    assert not connected, "a network connection was made"
    assert ProcessingJob.objects.get(asset=asset).attempts == 1


def test_the_sentinels_do_notice_a_reader(tmp_path: Path) -> None:
    """The control: without Kadr's guard, ffprobe follows the playlist and is caught."""
    sentinels = Sentinels(tmp_path)
    playlist = tmp_path / "plain.m3u8"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n{sentinels.file}\n"
        f"#EXTINF:1,\n{sentinels.fifo}\n#EXTINF:1,\nhttp://127.0.0.1:{sentinels.port}/s.ts\n"
        "#EXT-X-ENDLIST\n"
    )
    subprocess.run(
        ["ffprobe", "-v", "quiet", "-show_format", str(playlist)], timeout=60, check=False
    )
    read, _opened, _connected = sentinels.finish()
    assert read


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.mp4",
        "cut \"final\" 'v2'.mp4",
        "line\nbreak.mp4",
        "x" * 300,
        "\u202egnp.mp4",
    ],
)
def test_a_strange_file_name_never_reaches_a_path_or_a_command(
    name: str, clips, small_ladder
) -> None:
    asset = stored_asset(clips("landscape"), purpose="footage", name=name[:500])
    tasks.process_asset.delay(str(asset.pk), "footage")
    asset.refresh_from_db()
    job = ProcessingJob.objects.get(asset=asset)
    assert asset.status == AssetStatus.READY
    assert asset.original_key == f"media/{asset.pk}/original"
    assert name not in job.ffmpeg_command and "passwd" not in job.ffmpeg_command
    assert all(f"media/{asset.pk}/" in r.key for r in job.renditions.all())
