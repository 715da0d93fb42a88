# ruff: noqa: F811  (pytest fixtures imported from tests/s3server.py)
"""The resumable upload protocol, end to end through the API."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from media_pipeline import part_files, receive, storage, uploads
from media_pipeline.models import MediaAsset, Upload, UploadStatus
from tests.s3server import s3_endpoint, s3_storage  # noqa: F401

URL = "/api/v1/media/uploads/"


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, str]]:
    """Processing requests, recorded instead of run (these tests are about uploads)."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr("media_pipeline.tasks.enqueue", lambda a, p: calls.append((a, p)))
    return calls


@pytest.fixture
def shoot(make_request):
    return make_request("scheduled").shoots.get()


def start(client, size: int, **extra) -> dict:
    response = client.post(
        URL, {"filename": "clip.mp4", "size": size, "purpose": "footage", **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def patch(client, upload_id: str, offset: int, data: bytes, *, length: int | str | None = None):
    return client.generic(
        "PATCH",
        f"{URL}{upload_id}/",
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        CONTENT_LENGTH=str(len(data) if length is None else length),
    )


def raw_patch(live_server, token: str, upload_id: str, offset: int, data: bytes, announced: int):
    """A PATCH over a real socket that announces `announced` bytes, sends `data` and may
    hang up early, the way a phone losing its signal does."""
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"PATCH {URL}{upload_id}/ HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Token {token}\r\nUpload-Offset: {offset}\r\n"
                "Content-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {announced}\r\nConnection: close\r\n\r\n"
            ).encode()
            + data
        )
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass


@pytest.mark.django_db(transaction=True)
def test_it_resumes_an_interrupted_upload_and_keeps_the_source_checksum(
    live_server, users, make_request, queued
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    shoot = make_request("scheduled").shoots.get()
    token = Token.objects.create(user=users["operator"]).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    data = os.urandom(300_000)
    upload = start(client, len(data), target={"shoot": shoot.pk})
    assert upload["mode"] == "chunks" and upload["offset"] == 0

    raw_patch(live_server, token, upload["id"], 0, data[:100_000], 100_000)
    # The connection drops: the client announced 100 000 bytes but only 40 000 arrive.
    raw_patch(live_server, token, upload["id"], 100_000, data[100_000:140_000], 100_000)
    assert not MediaAsset.objects.exists()  # never registered as complete

    # Later, perhaps in another server process (no running hash), it asks where to resume.
    part_files._running_hashes.clear()
    head = client.head(f"{URL}{upload['id']}/")
    offset = int(head["Upload-Offset"])
    assert offset == 140_000
    body = patch(client, upload["id"], offset, data[offset:]).json()
    assert body["status"] == "complete" and body["asset"]

    asset = MediaAsset.objects.get(pk=body["asset"])
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert asset.original_key == f"media/{asset.pk}/original"
    with storage.get_storage().open(asset.original_key) as fh:
        assert fh.read() == data
    assert shoot.footage.filter(media=asset).exists()
    assert queued == [(str(asset.pk), "footage")]
    assert not list(Path(part_files.settings.KADR_UPLOAD_DIR).iterdir())


def test_it_answers_409_with_the_offset_for_a_wrong_or_repeated_or_late_chunk(api, queued):
    client = api("editor")
    data = os.urandom(1000)
    upload = start(client, len(data))
    ahead = patch(client, upload["id"], 500, data[500:])
    assert ahead.status_code == 409 and ahead.json()["offset"] == 0
    assert patch(client, upload["id"], 0, data[:600]).status_code == 200
    repeat = patch(client, upload["id"], 0, data[:600])
    assert repeat.status_code == 409 and repeat.json()["offset"] == 600
    assert repeat["Upload-Offset"] == "600"
    assert patch(client, upload["id"], 600, data[600:]).json()["status"] == "complete"
    late = patch(client, upload["id"], 600, data[600:])
    assert late.status_code == 409 and late.json()["offset"] == 1000


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", " 10"])
def test_it_answers_400_to_a_content_length_that_is_not_a_byte_count(api, length):
    client = api("editor")
    upload = start(client, 1000)
    response = patch(client, upload["id"], 0, b"x" * 10, length=length)
    assert response.status_code == 400
    assert response.json()["offset"] == 0
    assert Upload.objects.get(pk=upload["id"]).offset == 0


def test_it_sends_the_client_back_to_the_bytes_that_survived_a_crash(api, queued, settings):
    """Chunks are acknowledged once written, not flushed: after a power cut the part file
    may hold less than the database counts. Resuming past the hole would register a file
    nobody sent; the client is sent back to what is there."""
    client = api("editor")
    data = os.urandom(3000)
    upload = start(client, len(data))
    assert patch(client, upload["id"], 0, data[:2000]).status_code == 200
    part = Path(settings.KADR_UPLOAD_DIR) / f"{upload['id']}.part"
    os.truncate(part, 1200)  # what reached the disk before the machine went down
    part_files._running_hashes.clear()  # a new server process

    refused = patch(client, upload["id"], 2000, data[2000:])
    assert refused.status_code == 409 and refused.json()["offset"] == 1200
    assert "resume" in refused.json()["detail"]
    body = patch(client, upload["id"], 1200, data[1200:]).json()

    assert body["status"] == "complete"
    assert MediaAsset.objects.get(pk=body["asset"]).sha256 == hashlib.sha256(data).hexdigest()


def test_it_rewinds_a_finished_upload_whose_file_came_back_short(api, settings):
    client = api("editor")
    data = os.urandom(1000)
    upload = start(client, len(data))
    patch(client, upload["id"], 0, data[:400])
    # The last chunk was counted but the machine went down before completing it.
    Upload.objects.filter(pk=upload["id"]).update(offset=1000)
    completed = client.post(f"{URL}{upload['id']}/complete/")
    assert completed.status_code == 409 and completed.json()["offset"] == 400
    assert not MediaAsset.objects.exists()


def test_the_next_chunk_goes_in_while_the_last_one_is_still_being_hashed(api, queued, gate):
    client = api("editor")
    data = os.urandom(10 * 1024 * 1024)
    upload = start(client, len(data))
    assert patch(client, upload["id"], 0, data[:5_000_000]).status_code == 200
    assert not gate.is_set()  # the first chunk's hash is still waiting
    second = patch(client, upload["id"], 5_000_000, data[5_000_000:9_000_000])
    assert second.status_code == 200, second.json()
    gate.set()
    body = patch(client, upload["id"], 9_000_000, data[9_000_000:]).json()

    assert body["status"] == "complete"
    assert MediaAsset.objects.get(pk=body["asset"]).sha256 == hashlib.sha256(data).hexdigest()


def test_it_reads_the_file_again_when_the_running_hash_fails(api, queued, monkeypatch):
    def unreadable(*args):
        raise OSError("the page cache went away")

    monkeypatch.setattr(receive, "_hash_region", unreadable)
    client = api("editor")
    data = os.urandom(6 * 1024 * 1024)
    upload = start(client, len(data))
    assert patch(client, upload["id"], 0, data[:4_000_000]).status_code == 200
    body = patch(client, upload["id"], 4_000_000, data[4_000_000:]).json()

    assert body["status"] == "complete"
    assert MediaAsset.objects.get(pk=body["asset"]).sha256 == hashlib.sha256(data).hexdigest()


def test_a_running_hash_for_another_offset_stops_before_the_file_is_touched(tmp_path):
    """After a chunk whose offset never reached the database, the running hash covers
    more than the file will keep: it must stop reading before the torn tail is cut."""
    upload_id = uuid.uuid4()
    part = tmp_path / "a.part"
    part.write_bytes(os.urandom(2000))
    stale = receive.RunningHash()
    fd = os.open(part, os.O_RDONLY)
    source = stale.source(fd)
    os.close(fd)
    source.put(0, 2000)
    source.close()
    part_files._running_hashes[upload_id] = stale

    assert part_files.running_hash_at(upload_id, 1000) is None
    with pytest.raises(receive.DiskError):
        stale.hexdigest()  # cancelled
    assert upload_id not in part_files._running_hashes
    assert part_files.running_hash_at(upload_id, 0).covered == 0  # a new upload starts afresh


def test_it_refuses_a_file_over_the_limit_before_storing_a_byte(api, settings):
    settings.KADR_MAX_UPLOAD_BYTES = 1000
    client = api("editor")
    response = client.post(URL, {"filename": "big.mp4", "size": 1001}, format="json")
    assert response.status_code == 413
    assert not Upload.objects.exists()

    upload = start(client, 1000)
    too_long = patch(client, upload["id"], 0, b"x" * 1001)
    assert too_long.status_code == 413
    assert not list(Path(settings.KADR_UPLOAD_DIR).iterdir())


def test_it_refuses_a_one_request_upload_over_the_limit(api, settings):
    settings.KADR_MAX_UPLOAD_BYTES = 1000
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api("editor").post(
        "/api/v1/media/", {"file": SimpleUploadedFile("a.mp4", b"x" * 5000)}, format="multipart"
    )
    assert response.status_code == 413
    assert not MediaAsset.objects.exists()


def test_it_cleans_up_abandoned_uploads_only(api, settings):
    client = api("editor")
    old, fresh = start(client, 1000), start(client, 1000)
    patch(client, old["id"], 0, b"a" * 10)
    patch(client, fresh["id"], 0, b"b" * 10)
    hours = settings.KADR_UPLOAD_ABANDON_HOURS + 1
    Upload.objects.filter(pk=old["id"]).update(updated_at=timezone.now() - timedelta(hours=hours))

    assert uploads.clean_abandoned() == 1

    assert Upload.objects.get(pk=old["id"]).status == UploadStatus.ABORTED
    assert not (Path(settings.KADR_UPLOAD_DIR) / f"{old['id']}.part").exists()
    assert (Path(settings.KADR_UPLOAD_DIR) / f"{fresh['id']}.part").exists()
    assert patch(client, old["id"], 10, b"a").status_code == 409


def test_it_removes_old_chunk_files_that_no_upload_owns(db, settings):
    stray = Path(settings.KADR_UPLOAD_DIR) / "0f0f0f0f-0000-0000-0000-000000000000.part"
    stray.write_bytes(b"left behind")
    long_ago = time.time() - (settings.KADR_UPLOAD_ABANDON_HOURS + 1) * 3600
    os.utime(stray, (long_ago, long_ago))
    fresh = Path(settings.KADR_UPLOAD_DIR) / "1f1f1f1f-0000-0000-0000-000000000000.part"
    fresh.write_bytes(b"just now")
    uploads.clean_abandoned()
    assert not stray.exists() and fresh.exists()


def test_it_stores_under_a_generated_key_whatever_the_file_is_called(api, queued):
    client = api("editor")
    name = '../../etc/passwd\n"<b>\u202ecut.mp4'
    upload = start(client, 10, filename=name)
    body = patch(client, upload["id"], 0, b"0123456789").json()
    asset = MediaAsset.objects.get(pk=body["asset"])
    assert asset.original_key == f"media/{asset.pk}/original"
    assert asset.original_name == name


def test_it_refuses_a_target_the_user_may_not_attach_to(api, shoot, users):
    assert start(api("operator"), 10, target={"shoot": shoot.pk})
    # Crew but not on this shoot: may see it, may not add footage.
    refused = api("journalist").post(
        URL, {"filename": "a", "size": 10, "target": {"shoot": shoot.pk}}, format="json"
    )
    assert refused.status_code == 403
    # Another department's requester does not even see it.
    hidden = api("education").post(
        URL, {"filename": "a", "size": 10, "target": {"shoot": shoot.pk}}, format="json"
    )
    assert hidden.status_code == 404
    missing = api("operator").post(
        URL, {"filename": "a", "size": 10, "target": {"shoot": 999999}}, format="json"
    )
    assert missing.status_code == 404


def test_it_hides_other_peoples_uploads(api):
    upload = start(api("editor"), 10)
    assert api("operator").head(f"{URL}{upload['id']}/").status_code == 404
    assert api("operator").delete(f"{URL}{upload['id']}/").status_code == 404


def test_it_tells_the_user_the_same_file_is_already_attached(api, shoot, queued):
    client = api("operator")
    data = os.urandom(500)
    first = start(client, len(data), target={"shoot": shoot.pk})
    first_asset = patch(client, first["id"], 0, data).json()["asset"]
    second = start(client, len(data), target={"shoot": shoot.pk})
    body = patch(client, second["id"], 0, data).json()
    assert body["result"]["duplicate_of"] == first_asset
    assert "already attached" in body["result"]["detail"]
    assert shoot.footage.count() == 1


def test_it_aborts_an_upload(api, settings):
    client = api("editor")
    upload = start(client, 100)
    patch(client, upload["id"], 0, b"x" * 10)
    assert client.delete(f"{URL}{upload['id']}/").status_code == 204
    assert not list(Path(settings.KADR_UPLOAD_DIR).iterdir())
    assert patch(client, upload["id"], 10, b"x").status_code == 409


def test_it_uploads_parts_straight_to_s3_and_checksums_them_after(
    api, s3_storage, shoot, queued, django_capture_on_commit_callbacks, settings
):
    settings.KADR_UPLOAD_PART_SIZE = 5 * 1024 * 1024
    client = api("operator")
    data = os.urandom(5 * 1024 * 1024 + 1234)
    upload = start(client, len(data), target={"shoot": shoot.pk})
    assert upload["mode"] == "s3" and upload["part_count"] == 2

    def put(number: int) -> None:
        part = client.post(f"{URL}{upload['id']}/parts/{number}/").json()
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
            part["url"],
            data=data[part["start"] : part["end"]],
            method="PUT",
            headers={"Content-Type": "application/octet-stream"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 200

    put(1)
    # The page reloads: the server asks the bucket what it already holds.
    state = client.get(f"{URL}{upload['id']}/").json()
    assert state["offset"] == 5 * 1024 * 1024 and [p["number"] for p in state["parts"]] == [1]
    early = client.post(f"{URL}{upload['id']}/complete/")
    assert early.status_code == 409 and early.json()["missing_parts"] == [2]
    put(2)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"{URL}{upload['id']}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "complete"
    asset = MediaAsset.objects.get(pk=done.json()["asset"])
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert s3_storage.size(asset.original_key) == len(data)
    assert shoot.footage.filter(media=asset).exists()
    # Completing again answers the same asset.
    again = client.post(f"{URL}{upload['id']}/complete/")
    assert again.json()["asset"] == str(asset.pk)


def test_it_aborts_abandoned_s3_uploads(api, s3_storage, settings):
    client = api("editor")
    upload = start(client, 10 * 1024 * 1024)
    row = Upload.objects.get(pk=upload["id"])
    hours = settings.KADR_UPLOAD_ABANDON_HOURS + 1
    Upload.objects.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(hours=hours))
    assert uploads.clean_abandoned() == 1
    listed = s3_storage.client.list_multipart_uploads(Bucket=s3_storage.bucket)
    assert not listed.get("Uploads")


def test_it_completes_an_s3_upload_while_the_broker_is_down_and_checksums_it_later(
    api, s3_storage, queued, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from kombu.exceptions import OperationalError

    from media_pipeline import tasks

    client = api("editor")
    data = os.urandom(1000)
    upload = start(client, len(data))
    part = client.post(f"{URL}{upload['id']}/parts/1/").json()
    request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
        part["url"], data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (127.0.0.1 only)
        pass

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(uploads.compute_checksum, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"{URL}{upload['id']}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "complete"
    asset = MediaAsset.objects.get(pk=done.json()["asset"])
    assert asset.sha256 == ""

    # The broker is back; the sweeper sends the lost task once the retry interval passed.
    monkeypatch.undo()
    tasks.sweep()
    assert MediaAsset.objects.get(pk=asset.pk).sha256 == ""  # too early: it may be running
    later = timezone.now() - timedelta(minutes=settings.KADR_CHECKSUM_RETRY_MINUTES + 1)
    MediaAsset.objects.filter(pk=asset.pk).update(updated_at=later)
    tasks.sweep()
    assert MediaAsset.objects.get(pk=asset.pk).sha256 == hashlib.sha256(data).hexdigest()
