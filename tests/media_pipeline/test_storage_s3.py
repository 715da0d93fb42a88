# ruff: noqa: F811  (pytest fixtures imported from tests/s3server.py)
"""The S3 backend against moto's standalone server, over real HTTP (tests/s3server.py)."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

import pytest

from media_pipeline import storage
from media_pipeline.s3 import S3Storage
from tests.s3server import s3_endpoint, s3_storage  # noqa: F401


def fetch(url: str, *, client=None) -> tuple[int, dict, bytes]:
    if url.startswith("/"):
        response = client.get(url)
        if response.status_code in (301, 302):
            return fetch(response["Location"], client=client)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, dict(response.items()), body
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (127.0.0.1 only)
        return response.status, dict(response.headers), response.read()


def write(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def test_it_stores_large_files_in_parts_and_verifies_their_size(s3_storage, settings, tmp_path):
    settings.KADR_S3_MULTIPART_THRESHOLD = 5 * 1024 * 1024
    storage.reset()
    backend = storage.get_storage()
    source = write(tmp_path / "big.bin", 11 * 1024 * 1024)

    stored = backend.save_file("media/abc/original", source)

    assert stored == source.stat().st_size
    head = backend.client.head_object(Bucket=backend.bucket, Key="media/abc/original")
    # A multipart upload's ETag ends in "-<number of parts>".
    assert head["ETag"].strip('"').endswith("-3")
    out = tmp_path / "back.bin"
    backend.download_to("media/abc/original", out)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


def test_a_fingerprint_moves_when_the_object_is_stored_again(s3_storage, tmp_path):
    s3_storage.save_file("media/f/original", write(tmp_path / "a.bin", 2000))
    before = s3_storage.fingerprint("media/f/original")
    assert s3_storage.fingerprint("media/f/original") == before
    s3_storage.save_file("media/f/original", write(tmp_path / "b.bin", 2000))
    assert s3_storage.fingerprint("media/f/original") != before
    with pytest.raises(storage.StorageError):
        s3_storage.fingerprint("media/missing/original")


def test_it_sets_content_types_and_cache_headers(s3_storage, tmp_path):
    source = write(tmp_path / "x.mp4", 1000)
    s3_storage.save_file("media/a/review/1/720p.mp4", source)
    s3_storage.save_file("media/a/review/1/720p.m3u8", source)
    mp4 = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key="media/a/review/1/720p.mp4")
    m3u8 = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key="media/a/review/1/720p.m3u8")
    assert mp4["ContentType"] == "video/mp4"
    assert "max-age" in mp4["CacheControl"]
    assert m3u8["ContentType"] == "application/vnd.apple.mpegurl"


def test_it_retries_a_failing_server(s3_storage, s3_endpoint, tmp_path):
    source = write(tmp_path / "x.bin", 2048)
    s3_endpoint.proxy.fail_next = 2
    failed_before = s3_endpoint.proxy.failed

    assert s3_storage.save_file("media/r/original", source) == 2048
    assert s3_endpoint.proxy.failed == failed_before + 2
    assert s3_storage.exists("media/r/original")


def test_it_raises_storage_error_when_the_server_keeps_failing(s3_storage, s3_endpoint, tmp_path):
    source = write(tmp_path / "x.bin", 2048)
    s3_endpoint.proxy.fail_next = 50
    with pytest.raises(storage.StorageError):
        s3_storage.save_file("media/r/original", source)


def test_it_raises_storage_error_for_an_unreachable_bucket(tmp_path):
    backend = S3Storage(
        bucket="kadr",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        access_key_id="test",
        secret_access_key="test",
        max_attempts=2,
        connect_timeout=0.5,
    )
    with pytest.raises(storage.StorageError):
        backend.save_file("media/x/original", write(tmp_path / "x.bin", 10))
    with pytest.raises(storage.StorageError):
        backend.exists("media/x/original")


def test_it_raises_storage_error_for_a_missing_bucket(s3_storage, tmp_path):
    s3_storage.bucket = "no-such-bucket-here"
    with pytest.raises(storage.StorageError):
        s3_storage.save_file("media/x/original", write(tmp_path / "x.bin", 10))


def test_it_reads_a_private_object_only_through_a_presigned_url(s3_storage, s3_endpoint, tmp_path):
    source = write(tmp_path / "x.mp4", 3000)
    s3_storage.save_file("media/p/review/1/720p.mp4", source)
    url = s3_storage.url("media/p/review/1/720p.mp4", ttl=60)
    assert "Signature=" in url
    status, _, body = fetch(url)
    assert status == 200 and body == source.read_bytes()


def test_it_signs_browser_urls_for_the_public_endpoint(s3_storage, s3_endpoint, settings, tmp_path):
    """Containers talk to minio:9000; browsers reach the bucket through a proxy's public
    name. The signature covers the host, so their URLs must be signed for that name."""
    public = s3_endpoint.url.replace("127.0.0.1", "localhost")
    settings.KADR_S3_PUBLIC_ENDPOINT_URL = public
    storage.reset()
    backend = storage.get_storage()
    source = write(tmp_path / "x.mp4", 3000)
    backend.save_file("media/p/review/1/720p.mp4", source)

    url = backend.url("media/p/review/1/720p.mp4", ttl=60)
    assert url.startswith(f"{public}/") and "Signature=" in url
    status, _, body = fetch(url)
    assert status == 200 and body == source.read_bytes()

    upload_id = backend.create_multipart("media/p/original")
    part = backend.sign_part("media/p/original", upload_id, 1, ttl=60, size=3000)
    assert part.startswith(f"{public}/")
    request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
        part,
        data=source.read_bytes(),
        method="PUT",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1 only)
        assert response.status == 200
    # The servers themselves keep using the internal address.
    assert backend.client.meta.endpoint_url == s3_endpoint.url
    assert backend.list_parts("media/p/original", upload_id)[0]["size"] == 3000


def test_it_deletes_a_prefix_and_nothing_else(s3_storage, tmp_path):
    source = write(tmp_path / "x.bin", 10)
    for key in ("media/a/review/1/a.mp4", "media/a/review/1/b.mp4", "media/ab/original"):
        s3_storage.save_file(key, source)
    s3_storage.delete_prefix("media/a")
    assert not s3_storage.exists("media/a/review/1/a.mp4")
    assert not s3_storage.exists("media/a/review/1/b.mp4")
    assert s3_storage.exists("media/ab/original")


def test_it_serves_hls_playlists_with_every_reference_signed(s3_storage, client, tmp_path):
    folder = "media/h/review/1"
    segment = write(tmp_path / "seg.ts", 500)
    master = tmp_path / "master.m3u8"
    master.write_text(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"
    )
    variant = tmp_path / "index.m3u8"
    variant.write_text(
        '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI="init.mp4"\n'
        "#EXTINF:4.0,\nseg0.ts\n#EXT-X-ENDLIST\n"
    )
    s3_storage.save_file(f"{folder}/master.m3u8", master)
    s3_storage.save_file(f"{folder}/360p/index.m3u8", variant)
    s3_storage.save_file(f"{folder}/360p/seg0.ts", segment)
    s3_storage.save_file(f"{folder}/360p/init.mp4", segment)

    master_url = s3_storage.url(f"{folder}/master.m3u8")
    assert master_url.startswith("/")  # Kadr's playlist view, not a presigned object
    status, headers, body = fetch(master_url, client=client)
    assert status == 200
    variant_url = [ln for ln in body.decode().splitlines() if ln and not ln.startswith("#")][0]
    status, _, body = fetch(variant_url, client=client)
    lines = body.decode().splitlines()
    segment_url = [ln for ln in lines if ln and not ln.startswith("#")][0]
    init_url = next(ln for ln in lines if ln.startswith("#EXT-X-MAP")).split('"')[1]
    assert fetch(segment_url)[2] == segment.read_bytes()
    assert fetch(init_url)[2] == segment.read_bytes()


def test_it_refuses_a_playlist_link_with_a_forged_token(s3_storage, client, tmp_path):
    s3_storage.save_file("media/h/master.m3u8", write(tmp_path / "m.m3u8", 10))
    url = s3_storage.url("media/h/master.m3u8")
    token = url.split("/")[2]
    assert client.get(url.replace(token, token[:-2] + "xx")).status_code == 404


def test_it_uses_the_public_base_url_for_published_media(s3_storage, settings):
    settings.KADR_MEDIA_PUBLIC_BASE_URL = "https://cdn.example.org"
    assert s3_storage.public_url("media/a/publish/1/720p.mp4") == (
        "https://cdn.example.org/media/a/publish/1/720p.mp4"
    )
    settings.KADR_MEDIA_PUBLIC_BASE_URL = ""
    assert "Signature=" in s3_storage.public_url("media/a/publish/1/720p.mp4")


def test_it_uploads_parts_straight_to_the_bucket_with_presigned_urls(s3_storage, tmp_path):
    data = os.urandom(5 * 1024 * 1024 + 100)
    key = "media/m/original"
    upload_id = s3_storage.create_multipart(key, content_type="video/mp4")
    for number, chunk in enumerate((data[: 5 * 1024 * 1024], data[5 * 1024 * 1024 :]), start=1):
        url = s3_storage.sign_part(key, upload_id, number, ttl=60)
        request = urllib.request.Request(  # noqa: S310
            url, data=chunk, method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 200
    parts = s3_storage.list_parts(key, upload_id)
    assert [p["size"] for p in parts] == [5 * 1024 * 1024, 100]
    assert s3_storage.complete_multipart(key, upload_id, parts) == len(data)
    out = tmp_path / "o"
    s3_storage.download_to(key, out)
    assert out.read_bytes() == data


def test_it_signs_the_sprite_references_of_a_storyboard_track(s3_storage, client, tmp_path):
    folder = "media/s/review/1"
    sprite = write(tmp_path / "storyboard.jpg", 300)
    track = tmp_path / "storyboard.vtt"
    track.write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard.jpg#xywh=0,0,160,90\n\n"
        "00:00:02.000 --> 00:00:04.000\nstoryboard.jpg#xywh=160,0,160,90\n"
    )
    s3_storage.save_file(f"{folder}/storyboard.jpg", sprite)
    s3_storage.save_file(f"{folder}/storyboard.vtt", track)

    status, headers, body = fetch(s3_storage.url(f"{folder}/storyboard.vtt"), client=client)
    assert status == 200 and headers["Content-Type"] == "text/vtt"
    cues = [ln for ln in body.decode().splitlines() if "#xywh=" in ln]
    assert len(cues) == 2 and cues[1].endswith("#xywh=160,0,160,90")
    assert fetch(cues[0].split("#")[0])[2] == sprite.read_bytes()
