"""Renditions by purpose: a quick proxy for footage and review, the full ladder for
publishing made from the original, and reprocessing that swaps a whole set at once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from media_pipeline import ffmpeg, pipeline, services, tasks
from media_pipeline.models import AssetStatus, ProcessingJob
from tests.media_pipeline.pipeline_fixtures import (
    media_root,
    small_ladder_fixture,  # noqa: F401
    stored_asset,
    stored_files,
    streams,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def run(asset, purpose: str) -> ProcessingJob:  # type: ignore[no-untyped-def]
    tasks.process_asset.delay(str(asset.pk), purpose)
    return ProcessingJob.objects.get(asset=asset, purpose=purpose)


def test_footage_gets_only_its_proxy(clips, small_ladder) -> None:
    asset = stored_asset(clips("landscape"), purpose="footage")
    job = run(asset, "footage")
    assert job.status == AssetStatus.READY
    assert [(r.name, r.width, r.height) for r in job.renditions.all()] == [("r180", 320, 180)]
    assert job.hls_key == "" and job.thumbnail_keys == []
    assert job.poster_key and job.storyboard_key and job.storyboard_vtt_key
    assert ProcessingJob.objects.filter(asset=asset).count() == 1
    names = {Path(k).name for k in stored_files(f"{asset.prefix}/footage")}
    assert names == {"r180.mp4", "poster.jpg", "storyboard.jpg", "storyboard.vtt"}


def test_review_gets_two_rungs_hls_and_thumbnail_candidates(clips, small_ladder) -> None:
    asset = stored_asset(clips("landscape"), purpose="review")
    job = run(asset, "review")
    assert [r.name for r in job.renditions.all()] == ["r240", "r120"]
    assert job.hls_key.endswith("/master.m3u8") and len(job.thumbnail_keys) == 3
    video = streams(media_root() / job.renditions.first().key, "video")[0]  # type: ignore[union-attr]
    assert video["height"] == 240


def test_publish_is_encoded_from_the_original_not_the_review_proxy(clips, small_ladder) -> None:
    asset = stored_asset(clips("landscape"), purpose="review")
    review = run(asset, "review")
    review_files = stored_files(review.output_prefix)
    publish = run(asset, "publish")
    rungs = {r.name: (r.width, r.height) for r in publish.renditions.all()}
    # The review proxy stopped at 240 lines; the 288-line rung can only come from the original.
    assert rungs["r288"] == (512, 288)
    top = streams(media_root() / publish.renditions.get(name="r288").key, "video")[0]
    assert (top["width"], top["height"]) == (512, 288)
    assert f"file:{media_root() / asset.original_key}" in publish.ffmpeg_command
    assert "/review/" not in publish.ffmpeg_command
    # Existing outputs of another purpose are kept, not redone.
    assert stored_files(review.output_prefix) == review_files
    asset.refresh_from_db()
    assert asset.status == AssetStatus.READY


def test_a_failed_publish_job_leaves_the_cut_ready_for_review(
    clips, monkeypatch, small_ladder
) -> None:
    asset = stored_asset(clips("landscape"), purpose="review")
    run(asset, "review")

    def reject(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ffmpeg.FfmpegFailed("Conversion failed!", "log")

    monkeypatch.setattr(ffmpeg, "run", reject)
    publish = run(asset, "publish")
    asset.refresh_from_db()
    assert publish.status == AssetStatus.FAILED and "could not be converted" in publish.error
    assert asset.status == AssetStatus.READY
    assert "publishing renditions failed" in services.purpose_not_ready_reason(asset, "publish")


def test_an_audio_only_file_is_accepted_as_footage(clips, small_ladder) -> None:
    asset = stored_asset(clips("audio_only"), purpose="footage")
    job = run(asset, "footage")
    asset.refresh_from_db()
    assert asset.status == AssetStatus.READY and asset.kind == "audio"
    assert [r.name for r in job.renditions.all()] == ["audio"]
    assert job.poster_key == "" and job.storyboard_key == ""
    (stream,) = streams(media_root() / job.renditions.get().key, "audio")
    assert stream["codec_name"] == "aac"


def test_reprocessing_swaps_the_whole_set_at_once(
    clips, monkeypatch, small_ladder, django_capture_on_commit_callbacks
) -> None:
    asset = stored_asset(clips("landscape"), purpose="review")
    first = run(asset, "review")
    old_files = stored_files(first.output_prefix)
    seen_during_upload: dict[str, object] = {}
    real_upload = pipeline._upload

    def upload(rendered, prefix, purpose):  # type: ignore[no-untyped-def]
        keys = real_upload(rendered, prefix, purpose)
        # The new set is complete in storage, not yet swapped in: viewers still get the old one.
        job = ProcessingJob.objects.get(pk=first.pk)
        asset.refresh_from_db()
        seen_during_upload.update(
            generation=job.generation,
            renditions=sorted({r.generation for r in job.renditions.all()}),
            old_readable=all((media_root() / k).is_file() for k in old_files),
            asset_status=asset.status,
        )
        return keys

    monkeypatch.setattr(pipeline, "_upload", upload)
    with django_capture_on_commit_callbacks(execute=True):
        services.reprocess(asset, "review")
    assert seen_during_upload == {
        "generation": 1,
        "renditions": [1],
        "old_readable": True,
        "asset_status": AssetStatus.READY,
    }
    job = ProcessingJob.objects.get(pk=first.pk)
    assert job.generation == 2 and job.output_prefix.endswith("/review/2")
    assert {r.generation for r in job.renditions.all()} == {2}
    assert all((media_root() / r.key).is_file() for r in job.renditions.all())
    assert stored_files(first.output_prefix) == [], "the old generation is deleted after the swap"
    assert stored_files(f"{asset.prefix}/review") == stored_files(job.output_prefix)


def test_the_reprocess_command_reruns_a_purpose(
    clips, small_ladder, django_capture_on_commit_callbacks
) -> None:
    asset = stored_asset(clips("landscape"), purpose="footage")
    run(asset, "footage")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reprocess", "--purpose", "footage", str(asset.pk), stdout=out)
    assert f"{asset.pk} footage: queued" in out.getvalue()
    assert ProcessingJob.objects.get(asset=asset, purpose="footage").generation == 2


def test_the_reprocess_command_explains_an_unknown_purpose_or_asset(clips) -> None:
    asset = stored_asset(clips("landscape"))
    with pytest.raises(CommandError, match="Unknown purpose “teaser”; choose one of"):
        call_command("reprocess", "--purpose", "teaser", str(asset.pk))
    with pytest.raises(CommandError, match="no media asset nope"):
        call_command("reprocess", "--purpose", "review", "nope")
    with pytest.raises(services.UnknownPurpose):
        services.reprocess(asset, "teaser")


def test_the_admin_shows_the_job_and_retries_a_failed_one(
    clips, client, monkeypatch, small_ladder, django_capture_on_commit_callbacks
) -> None:
    admin = User.objects.create_superuser("it", "it@example.com", "pw")
    client.force_login(admin)
    asset = stored_asset(clips("landscape"))
    monkeypatch.setattr(
        ffmpeg, "run", lambda *a, **k: (_ for _ in ()).throw(ffmpeg.FfmpegFailed("boom", "log"))
    )
    run(asset, "review")
    page = client.get(f"/admin/media_pipeline/mediaasset/{asset.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "could not be converted" in html and "-progress pipe:1" in html
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/media_pipeline/mediaasset/",
            {"action": "retry", "_selected_action": [str(asset.pk)]},
        )
    asset.refresh_from_db()
    assert asset.status == AssetStatus.READY
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/media_pipeline/mediaasset/",
            {"action": "reprocess_review", "_selected_action": [str(asset.pk)]},
        )
    assert ProcessingJob.objects.get(asset=asset).generation == 2
