"""manage.py ingest FOLDER --shoot ID: a camera card's clips become a shoot's footage."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import sha256_of


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr("media_pipeline.tasks.enqueue", lambda a, p: calls.append((a, p)))
    return calls


@pytest.fixture
def card(tmp_path, clips):
    """A camera card: clips in nested folders, a copy of one, sidecar files, a fake video."""
    root = tmp_path / "DCIM"
    (root / "100CANON").mkdir(parents=True)
    (root / "101CANON").mkdir()
    shutil.copy(clips("landscape"), root / "100CANON" / "MVI_0001.MP4")
    shutil.copy(clips("tiny"), root / "101CANON" / "MVI_0002.MOV")
    shutil.copy(clips("landscape"), root / "101CANON" / "MVI_0001_copy.MP4")
    (root / "100CANON" / "MVI_0001.XML").write_text("<clip/>")
    (root / "101CANON" / "notes.mp4").write_text("this is not a video")
    return root


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest", *args, stdout=out)
    return out.getvalue()


def test_it_imports_a_card_skipping_duplicates_and_refusing_non_video(
    make_request, card, queued, clips, django_capture_on_commit_callbacks
):
    shoot = make_request("scheduled").shoots.get()
    with django_capture_on_commit_callbacks(execute=True):
        output = run(str(card), "--shoot", str(shoot.pk), "--user", "operator")

    assert "imported 2, skipped 2, refused 1" in output
    assert "already attached" in output
    assert "notes.mp4" in output and "refused" in output
    names = set(shoot.footage.values_list("media__original_name", flat=True))
    assert names == {"100CANON/MVI_0001.MP4", "101CANON/MVI_0002.MOV"}
    shas = set(shoot.footage.values_list("media__sha256", flat=True))
    assert shas == {sha256_of(clips("landscape")), sha256_of(clips("tiny"))}
    for footage in shoot.footage.select_related("media"):
        assert footage.media.original_key == f"media/{footage.media.pk}/original"
    assert sorted(p for _, p in queued) == ["footage", "footage"]


def test_it_skips_everything_on_a_second_run(make_request, card, queued):
    shoot = make_request("scheduled").shoots.get()
    run(str(card), "--shoot", str(shoot.pk), "--user", "operator")
    output = run(str(card), "--shoot", str(shoot.pk), "--user", "operator")
    assert "imported 0, skipped 4, refused 1" in output
    assert shoot.footage.count() == 2


def test_it_refuses_someone_off_the_crew(make_request, card):
    shoot = make_request("scheduled").shoots.get()
    with pytest.raises(CommandError, match="may not add footage"):
        run(str(card), "--shoot", str(shoot.pk), "--user", "journalist")
    assert shoot.footage.count() == 0


def test_it_never_puts_a_card_file_name_on_a_command_line(
    make_request, queued, clips, tmp_path, monkeypatch
):
    shoot = make_request("scheduled").shoots.get()
    import subprocess as real_subprocess

    from media_pipeline import probe

    seen: list[list[str]] = []
    real_run = real_subprocess.run

    def spy(argv, *args, **kwargs):
        seen.append([str(a) for a in argv])
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(probe.subprocess, "run", spy)
    card = tmp_path / "card"
    card.mkdir()
    evil = card / 'A001 "quoted"\nline.mp4'
    evil.write_bytes(clips("tiny").read_bytes())

    output = run(str(card), "--shoot", str(shoot.pk), "--user", "operator")

    assert "imported 1" in output
    assert seen, "the card's file was probed"
    assert not any("quoted" in arg or str(card) in arg for argv in seen for arg in argv)


def test_it_reports_in_ukrainian_by_default(make_request, card, queued, settings):
    from django.utils import translation

    shoot = make_request("scheduled").shoots.get()
    with translation.override("uk"):
        output = run(str(card), "--shoot", str(shoot.pk), "--user", "operator")
    assert "імпортовано 2, пропущено 2, відхилено 1" in output
