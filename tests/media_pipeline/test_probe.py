"""probe.py: what a file is, and the limits it must stay within."""

from __future__ import annotations

import pytest

from media_pipeline import probe


def test_it_reports_a_landscape_clip_as_it_is(clips) -> None:
    result = probe.probe(clips("landscape"))
    assert (result.kind, result.width, result.height) == ("video", 640, 360)
    assert result.video_codec == "h264" and result.audio_codec == "aac" and result.has_audio
    assert result.frame_rate == 25
    assert not (result.interlaced or result.high_bit_depth or result.variable_frame_rate)
    assert result.rotation == 0 and 1.4 < result.duration < 1.7


def test_it_turns_the_display_size_of_a_phone_held_upright(clips) -> None:
    result = probe.probe(clips("portrait_rotated"))
    assert result.rotation in (90, 270)
    assert (result.width, result.height) == (360, 640)


def test_it_detects_ten_bit_video(clips) -> None:
    assert probe.probe(clips("ten_bit")).high_bit_depth


def test_it_detects_interlaced_video(clips) -> None:
    result = probe.probe(clips("interlaced"))
    assert result.interlaced and result.container == "mpegts"


def test_it_detects_a_variable_frame_rate(clips) -> None:
    assert probe.probe(clips("vfr")).variable_frame_rate


def test_it_reports_a_silent_video_without_audio(clips) -> None:
    result = probe.probe(clips("no_audio"))
    assert result.kind == "video" and not result.has_audio and result.audio_codec == ""


def test_it_accepts_audio_only_as_footage_but_not_as_a_cut(clips) -> None:
    result = probe.probe(clips("audio_only"))
    assert result.kind == "audio" and result.has_audio and result.width == 0
    assert probe.refusal_for_purpose(result, "footage") == ""
    assert "audio-only" in probe.refusal_for_purpose(result, "review")
    assert probe.refusal_for_purpose(result, "publish")


def _data(**stream: object) -> dict:
    video = {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080}
    video.update(stream)
    return {
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "10"},
        "streams": [video],
    }


def test_it_refuses_a_container_outside_the_allow_list() -> None:
    data = _data()
    data["format"]["format_name"] = "hls"
    with pytest.raises(probe.ProbeRefused, match="cannot read"):
        probe.parse(data)


def test_it_refuses_more_pixels_than_8k(settings) -> None:
    with pytest.raises(probe.ProbeRefused, match="9000×5000"):
        probe.parse(_data(width=9000, height=5000))


def test_it_refuses_a_recording_longer_than_the_limit(settings) -> None:
    settings.KADR_MAX_DURATION_SECONDS = 5
    with pytest.raises(probe.ProbeRefused, match="longer than the limit"):
        probe.parse(_data())


def test_it_refuses_too_many_streams(settings) -> None:
    data = _data()
    data["streams"] = data["streams"] * 40
    with pytest.raises(probe.ProbeRefused, match="40 streams"):
        probe.parse(data)


def test_it_refuses_a_file_whose_length_is_unknown() -> None:
    data = _data()
    data["format"]["duration"] = "N/A"
    with pytest.raises(probe.ProbeRefused, match="length"):
        probe.parse(data)


def test_it_does_not_take_cover_art_for_video() -> None:
    data = _data(disposition={"attached_pic": 1})
    data["streams"].append({"codec_type": "audio", "codec_name": "aac"})
    assert probe.parse(data).kind == "audio"


def test_it_accounts_for_non_square_pixels() -> None:
    result = probe.parse(_data(width=720, height=576, sample_aspect_ratio="64:45"))
    assert (result.width, result.height) == (1024, 576)


def test_it_tells_even_gaps_from_uneven_ones() -> None:
    even = [i / 25 for i in range(50)]
    uneven = [t for i, t in enumerate(even) if i % 7 != 3]
    assert not probe.parse(_data(), even).variable_frame_rate
    assert probe.parse(_data(), uneven).variable_frame_rate
