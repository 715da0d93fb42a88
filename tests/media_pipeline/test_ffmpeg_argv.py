"""ffmpeg.py: the command lines, built without running ffmpeg."""

from __future__ import annotations

from pathlib import Path

from media_pipeline import ffmpeg, ladder
from media_pipeline.probe import ProbeResult

SOURCE = Path("/srv/scratch/kadr-1/source")


def plan(purpose: str = "publish", **fields: object) -> ladder.Plan:
    values = {
        "kind": "video",
        "container": "mov",
        "duration": 30.0,
        "frame_rate": 25.0,
        "width": 1920,
        "height": 1080,
        "has_audio": True,
    }
    values.update(fields)
    return ladder.plan_for(ProbeResult(**values), purpose)  # type: ignore[arg-type]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def filter_graph(argv: list[str]) -> str:
    return option(argv, "-filter_complex")


def test_it_restricts_the_input_to_local_files_in_camera_containers() -> None:
    for argv in (
        ffmpeg.probe_argv(SOURCE),
        ffmpeg.packets_argv(SOURCE, 10),
        ffmpeg.transcode_argv(SOURCE, plan()),
    ):
        guard = argv.index("-protocol_whitelist")
        assert argv[guard + 1] == "file"
        formats = option(argv, "-format_whitelist").split(",")
        assert {"mov", "mp4", "matroska", "webm", "mxf", "mpegts", "avi"} <= set(formats)
        assert not {"hls", "concat", "image2", "jpeg_pipe"} & set(formats)
        # The guard applies to the input: it comes before -i / the input URL.
        assert guard < argv.index(f"file:{SOURCE}")


def test_it_names_the_input_by_its_generated_path_only() -> None:
    argv = ffmpeg.transcode_argv(SOURCE, plan())
    assert all(isinstance(arg, str) for arg in argv)
    assert [a for a in argv if "source" in a] == [f"file:{SOURCE}"]
    # Outputs are bare names in the working folder, never a path from elsewhere.
    assert not [a for a in argv if a.endswith((".mp4", ".jpg")) and "/" in a]


def test_it_runs_one_process_with_one_decode_for_every_rung() -> None:
    argv = ffmpeg.transcode_argv(SOURCE, plan())
    assert argv.count("-i") == 1
    graph = filter_graph(argv)
    # four rungs, the thumbnail candidates and the storyboard from one split
    assert graph.count("split=6") == 1
    for size in ("1920:1080", "1280:720", "852:480", "640:360"):
        assert f"scale={size}" in graph


def test_it_writes_each_encode_as_mp4_and_hls_without_encoding_twice() -> None:
    argv = ffmpeg.transcode_argv(SOURCE, plan())
    assert option(argv, "-f") == "tee"
    tee = next(a for a in argv if "f=hls" in a)
    slaves = tee.split("|")
    assert len(slaves) == 8
    assert "[select=\\'v:0,a:0\\':f=mp4:movflags=+faststart]1080p.mp4" in slaves
    assert any(
        s.startswith("[select=\\'v:3,a:2\\':f=hls") and s.endswith("]360p.m3u8") for s in slaves
    )
    assert "hls_segment_type=fmp4" in tee and "hls_playlist_type=vod" in tee
    # Four video encodes and one per distinct audio bitrate, no more.
    assert argv.count("-map") == 4 + 3 + 2


def test_it_encodes_h264_high_yuv420p_with_keyframes_on_segment_boundaries(settings) -> None:
    settings.KADR_HLS_SEGMENT_SECONDS = 4
    argv = ffmpeg.transcode_argv(SOURCE, plan())
    assert option(argv, "-c:v") == "libx264" and option(argv, "-profile:v") == "high"
    assert option(argv, "-pix_fmt") == "yuv420p"
    assert option(argv, "-force_key_frames:v") == "expr:gte(t,n_forced*4)"
    assert option(argv, "-sc_threshold") == "0"
    assert option(argv, "-maxrate:v:0") == "5000k" and option(argv, "-maxrate:v:3") == "800k"
    assert option(argv, "-preset") == "medium"
    assert (
        option(argv, "-c:a") == "aac"
        and option(argv, "-ac") == "2"
        and option(argv, "-ar") == "48000"
    )


def test_it_normalises_loudness_to_the_configured_target(settings) -> None:
    settings.KADR_LOUDNESS_LUFS = -23.0
    assert "loudnorm=I=-23.0" in filter_graph(ffmpeg.transcode_argv(SOURCE, plan()))


def test_footage_previews_keep_the_cameras_levels() -> None:
    footage = filter_graph(ffmpeg.transcode_argv(SOURCE, plan("footage")))
    assert "loudnorm" not in footage and "aresample=48000" in footage
    assert "loudnorm" in filter_graph(ffmpeg.transcode_argv(SOURCE, plan("review")))


def test_a_silent_source_gets_renditions_without_audio() -> None:
    argv = ffmpeg.transcode_argv(SOURCE, plan(has_audio=False))
    assert "-c:a" not in argv and "loudnorm" not in filter_graph(argv)
    assert "select=\\'v:0\\'" in next(a for a in argv if "f=mp4" in a)


def test_it_deinterlaces_and_caps_the_rate_only_when_needed() -> None:
    plain = filter_graph(ffmpeg.transcode_argv(SOURCE, plan()))
    assert "bwdif" not in plain and "fps=fps=" not in plain.split("split")[0]
    fixed = filter_graph(ffmpeg.transcode_argv(SOURCE, plan(interlaced=True, frame_rate=120.0)))
    before_split = fixed.split("split")[0]
    assert "bwdif" in before_split and "fps=fps=60.000" in before_split


def test_it_reports_progress_on_stdout_and_never_reads_stdin() -> None:
    argv = ffmpeg.transcode_argv(SOURCE, plan())
    assert option(argv, "-progress") == "pipe:1"
    assert "-nostdin" in argv


def test_it_makes_stills_and_a_storyboard_in_the_same_process() -> None:
    argv = ffmpeg.transcode_argv(SOURCE, plan("review"))
    graph = filter_graph(argv)
    assert "thumbnail=n=" in graph and "tile=10x" in graph
    assert "thumb-%02d.jpg" in argv and "storyboard.jpg" in argv


def test_footage_makes_one_proxy_without_hls() -> None:
    argv = ffmpeg.transcode_argv(SOURCE, plan("footage"))
    tee = next(a for a in argv if "f=mp4" in a)
    assert tee == "[select=\\'v:0,a:0\\':f=mp4:movflags=+faststart]480p.mp4"
    assert option(argv, "-preset") == "veryfast"


def test_an_audio_only_source_gets_one_audio_file() -> None:
    source = ProbeResult(kind="audio", container="mov", duration=60.0, has_audio=True)
    argv = ffmpeg.transcode_argv(SOURCE, ladder.plan_for(source, "footage"))
    assert argv[-1] == "audio.m4a" and "-vcodec" not in argv and "tee" not in argv


def test_the_admin_sees_a_readable_copy_of_the_command() -> None:
    line = ffmpeg.command_line(["ffmpeg", "-i", "file:/a b", "-filter_complex", "[0]x[s]"])
    assert line == "ffmpeg -i 'file:/a b' -filter_complex '[0]x[s]'"


def test_it_uses_the_streams_the_probe_chose_never_cover_art() -> None:
    graph = filter_graph(ffmpeg.transcode_argv(SOURCE, plan(video_stream="2", audio_stream="0")))
    assert "[0:2]" in graph and "[0:0]" in graph and "[0:v:0]" not in graph


def test_quick_proxies_use_the_cheaper_area_scaler_and_publishing_bicubic() -> None:
    assert "scale=852:480:flags=area" in filter_graph(
        ffmpeg.transcode_argv(SOURCE, plan("footage"))
    )
    assert "scale=852:480:flags=bicubic" in filter_graph(ffmpeg.transcode_argv(SOURCE, plan()))
