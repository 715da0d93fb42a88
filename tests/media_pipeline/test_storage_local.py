"""Local storage: signed folder links, Range requests for seeking, keys that cannot escape."""

from __future__ import annotations

import time

import pytest

from media_pipeline import storage


@pytest.fixture
def stored(tmp_path):
    backend = storage.get_storage()
    source = tmp_path / "x.mp4"
    source.write_bytes(bytes(range(256)) * 40)  # 10240 bytes
    backend.save_file("media/a/review/1/720p.mp4", source)
    return backend, source.read_bytes()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_it_serves_a_stored_file_through_a_signed_url(client, stored):
    backend, data = stored
    response = client.get(backend.url("media/a/review/1/720p.mp4"))
    assert response.status_code == 200
    assert body(response) == data
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"


def test_it_answers_a_range_request_with_partial_content(client, stored):
    backend, data = stored
    url = backend.url("media/a/review/1/720p.mp4")
    response = client.get(url, HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == "bytes 100-199/10240"
    assert response["Content-Length"] == "100"
    assert body(response) == data[100:200]

    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and body(tail) == data[-10:]
    open_ended = client.get(url, HTTP_RANGE="bytes=10000-")
    assert open_ended.status_code == 206 and body(open_ended) == data[10000:]


def test_it_refuses_an_unsatisfiable_range(client, stored):
    backend, _ = stored
    response = client.get(backend.url("media/a/review/1/720p.mp4"), HTTP_RANGE="bytes=99999-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10240"


def test_it_refuses_expired_and_forged_links(client, stored, settings):
    backend, _ = stored
    url = backend.url("media/a/review/1/720p.mp4", ttl=1)
    token = url.split("/")[2]
    assert client.get(url.replace(token, token[:-3] + "abc")).status_code == 404
    time.sleep(2.1)
    assert client.get(url).status_code == 404


def test_it_never_serves_outside_the_signed_folder(client, stored, tmp_path):
    backend, _ = stored
    secret = tmp_path / "s"
    secret.write_bytes(b"secret")
    backend.save_file("media/b/original", secret)
    url = backend.url("media/a/review/1/720p.mp4")
    token = url.split("/")[2]
    for path in ("../../../b/original", "..%2F..%2F..%2Fb%2Foriginal"):
        assert client.get(f"/m/{token}/{path}").status_code == 404


def test_it_refuses_keys_that_escape_the_root(tmp_path):
    backend = storage.get_storage()
    source = tmp_path / "x"
    source.write_bytes(b"x")
    with pytest.raises(ValueError):
        backend.save_file("../outside", source)


def test_a_fingerprint_holds_while_the_file_is_read_and_moves_when_it_is_rewritten(tmp_path):
    backend = storage.get_storage()
    source = tmp_path / "clip"
    source.write_bytes(b"a" * 4096)
    backend.save_file("media/f/original", source)
    before = backend.fingerprint("media/f/original")
    with backend.open("media/f/original") as fh:
        fh.read()
    assert backend.fingerprint("media/f/original") == before

    source.write_bytes(b"b" * 4096)  # the same size, stored again
    backend.save_file("media/f/original", source)
    assert backend.fingerprint("media/f/original") != before
    with pytest.raises(storage.StorageError):
        backend.fingerprint("media/missing/original")


def test_it_moves_an_upload_into_place_without_copying_it_twice(tmp_path):
    backend = storage.get_storage()
    source = tmp_path / "upload.part"
    source.write_bytes(b"abc" * 1000)
    assert backend.move_file("media/c/original", source) == 3000
    assert not source.exists()
    assert backend.size("media/c/original") == 3000


def test_it_offers_a_download_under_the_original_name_escaped(client, stored):
    backend, _ = stored
    url = backend.url("media/a/review/1/720p.mp4", download_name='інтерв\'ю "мер".mp4')
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "\n" not in response["Content-Disposition"]


def test_it_uses_the_public_base_url_when_set(settings):
    backend = storage.get_storage()
    settings.KADR_MEDIA_PUBLIC_BASE_URL = "https://cdn.example.org"
    assert (
        backend.public_url("media/a/publish/1/x.mp4")
        == "https://cdn.example.org/media/a/publish/1/x.mp4"
    )
    settings.KADR_MEDIA_PUBLIC_BASE_URL = ""
    assert backend.public_url("media/a/publish/1/x.mp4").startswith("/m/")


def test_it_resolves_a_playlists_relative_references_under_the_same_token(client, tmp_path):
    backend = storage.get_storage()
    folder = "media/h/review/1"
    for name, text in {
        "master.m3u8": "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n",
        "360p/index.m3u8": "#EXTM3U\n#EXTINF:4.0,\nseg0.ts\n#EXT-X-ENDLIST\n",
        "360p/seg0.ts": "segment",
    }.items():
        source = tmp_path / name.replace("/", "_")
        source.write_text(text)
        backend.save_file(f"{folder}/{name}", source)
    master = backend.url(f"{folder}/master.m3u8")
    response = client.get(master)
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    base = master.rsplit("/", 1)[0]
    assert body(client.get(f"{base}/360p/index.m3u8")).startswith(b"#EXTM3U")
    assert body(client.get(f"{base}/360p/seg0.ts")) == b"segment"
    assert client.get(f"{base}/../original").status_code == 404
