"""ladder.py and thumbnails.py: pure decisions about what to make, no ffmpeg run."""

from __future__ import annotations

import pytest

from media_pipeline import ladder, thumbnails
from media_pipeline.probe import ProbeResult


def video(width: int, height: int, **fields: object) -> ProbeResult:
    values = {"kind": "video", "container": "mov", "duration": 30.0, "frame_rate": 25.0}
    values.update({"has_audio": True, **fields})
    return ProbeResult(width=width, height=height, **values)  # type: ignore[arg-type]


def sizes(rungs: list[ladder.Rung]) -> list[tuple[int, int]]:
    return [(r.width, r.height) for r in rungs]


def test_it_gives_a_1080p_source_the_full_publishing_ladder() -> None:
    rungs = ladder.rungs_for(video(1920, 1080), "publish")
    assert [r.name for r in rungs] == ["1080p", "720p", "480p", "360p"]
    assert sizes(rungs) == [(1920, 1080), (1280, 720), (852, 480), (640, 360)]


def test_it_keeps_a_portrait_video_portrait() -> None:
    rungs = ladder.rungs_for(video(1080, 1920), "review")
    assert sizes(rungs) == [(720, 1280), (360, 640)]


def test_it_never_upscales() -> None:
    rungs = ladder.rungs_for(video(1280, 720), "publish")
    assert [r.name for r in rungs] == ["720p", "480p", "360p"]
    assert all(r.width <= 1280 and r.height <= 720 for r in rungs)


def test_it_gives_a_source_smaller_than_every_rung_one_rung_at_its_own_size() -> None:
    rungs = ladder.rungs_for(video(321, 241), "publish")
    assert sizes(rungs) == [(320, 240)]
    assert rungs[0].name == "240p"


def test_it_makes_every_dimension_even() -> None:
    for width, height in [(1918, 1078), (1440, 1080), (720, 576), (1079, 1921)]:
        for purpose in ("footage", "review", "publish"):
            for rung in ladder.rungs_for(video(width, height), purpose):
                assert rung.width % 2 == 0 and rung.height % 2 == 0
                assert rung.width <= width and rung.height <= height


def test_it_keeps_four_by_three_pictures_four_by_three() -> None:
    assert sizes(ladder.rungs_for(video(1440, 1080), "review")) == [(960, 720), (480, 360)]


def test_each_purpose_gets_its_own_rungs_and_preset() -> None:
    source = video(1920, 1080)
    footage, review, publish = (
        ladder.plan_for(source, p) for p in ("footage", "review", "publish")
    )
    assert [r.name for r in footage.rungs] == ["480p"] and not footage.hls
    assert [r.name for r in review.rungs] == ["720p", "360p"] and review.hls
    assert len(publish.rungs) == 4 and publish.preset == "medium"
    assert footage.thumbnails == 0 and footage.poster and footage.storyboard
    assert review.thumbnails == 5


def test_it_refuses_an_unknown_purpose() -> None:
    with pytest.raises(ladder.UnknownPurpose, match="teaser"):
        ladder.plan_for(video(1920, 1080), "teaser")


def test_it_caps_the_frame_rate_at_60() -> None:
    assert ladder.output_rate(video(1920, 1080, frame_rate=120.0)) == 60
    assert ladder.output_rate(video(1920, 1080, frame_rate=100.0)) == 50
    assert ladder.output_rate(video(1920, 1080, frame_rate=50.0)) is None


def test_it_makes_a_variable_rate_constant() -> None:
    assert ladder.output_rate(video(640, 360, frame_rate=29.97, variable_frame_rate=True)) == 29.97


def test_it_deinterlaces_interlaced_sources_only() -> None:
    assert ladder.plan_for(video(720, 576, interlaced=True), "review").deinterlace
    assert not ladder.plan_for(video(720, 576), "review").deinterlace


def test_it_aligns_the_keyframe_interval_with_the_hls_segment(settings) -> None:
    settings.KADR_HLS_SEGMENT_SECONDS = 6
    plan = ladder.plan_for(video(1920, 1080, frame_rate=30.0), "review")
    assert plan.segment_seconds == 6 and plan.gop == 180


def test_it_encodes_audio_once_per_distinct_bitrate() -> None:
    plan = ladder.plan_for(video(1920, 1080), "publish")
    assert plan.audio_bitrates == [160, 128, 96]
    assert ladder.plan_for(video(1920, 1080, has_audio=False), "publish").audio_bitrates == []


def test_an_audio_only_file_gets_an_audio_rendition_and_no_pictures() -> None:
    source = ProbeResult(kind="audio", container="mov", duration=60.0, has_audio=True)
    plan = ladder.plan_for(source, "footage")
    assert plan.audio_only and plan.rungs == [] and plan.stills is None and plan.storyboard is None


def test_the_storyboard_keeps_the_aspect_and_stays_small() -> None:
    landscape = thumbnails.storyboard_plan(3600, 1920, 1080)
    assert (landscape.tile_width, landscape.tile_height) == (160, 90)
    assert landscape.count <= 100 and landscape.interval >= 36
    portrait = thumbnails.storyboard_plan(10, 1080, 1920)
    assert (portrait.tile_width, portrait.tile_height) == (90, 160)
    assert portrait.count == 10 and portrait.columns == 10 and portrait.rows == 1


def test_the_storyboard_track_points_each_cue_at_its_tile() -> None:
    plan = thumbnails.storyboard_plan(25, 1280, 720)
    vtt = thumbnails.storyboard_vtt(plan, 25)
    assert vtt.startswith("WEBVTT")
    assert "00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90" in vtt
    # The 12th tile is the second one of the second row.
    assert "00:00:11.000 --> 00:00:12.000\nstoryboard.jpg#xywh=160,90,160,90" in vtt
    assert vtt.count("-->") == 25


def test_the_poster_is_never_a_black_frame_when_another_exists(tmp_path) -> None:
    black, busy = tmp_path / "thumb-01.jpg", tmp_path / "thumb-02.jpg"
    black.write_bytes(b"x" * 900)
    busy.write_bytes(b"x" * 25000)
    assert thumbnails.choose_poster([black, busy]) == busy


def test_the_master_playlist_lists_every_variant_with_its_attributes() -> None:
    text = ladder.master_playlist(
        [
            {
                "playlist": "360p.m3u8",
                "width": 640,
                "height": 360,
                "bandwidth": 900000,
                "average": 700000,
                "codecs": "avc1.64001e,mp4a.40.2",
                "frame_rate": 25.0,
            },
            {
                "playlist": "720p.m3u8",
                "width": 1280,
                "height": 720,
                "bandwidth": 3000000,
                "average": 2500000,
                "codecs": "avc1.64001f,mp4a.40.2",
                "frame_rate": 25.0,
            },
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert (
        'BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"'
        in text
    )
    assert lines.index("720p.m3u8") < lines.index("360p.m3u8")


def test_the_codecs_string_follows_the_h264_profile_and_level() -> None:
    assert ladder.codecs_string({"profile": "High", "level": 31}, True) == "avc1.64001f,mp4a.40.2"
    assert ladder.codecs_string({"profile": "High", "level": 40}, False) == "avc1.640028"
