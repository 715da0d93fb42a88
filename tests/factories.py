"""Test data built the way users build it: requests are walked to a state through
the workflow, never by writing a status."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from crew import demo, workflow
from crew.models import Channel, Department, ShootRequest, Status
from media_pipeline import storage
from media_pipeline.models import AssetKind, AssetStatus, MediaAsset, ProcessingJob, Rendition

__all__ = ["Department", "ShootRequest"]

ensure_roles = demo.ensure_roles
ensure_departments = demo.ensure_departments
ensure_channels = demo.ensure_channels
ensure_users = demo.ensure_users


def user(username: str) -> User:
    return User.objects.get(username=username)


def ready_asset(
    *,
    uploaded_by: User | None = None,
    content: bytes = b"fake cut bytes",
    purposes=("review", "publish"),
) -> MediaAsset:
    """An asset whose processing is already done: a stored original and ready jobs.

    For tracker tests that are about the workflow, not about encoding.
    """
    asset = MediaAsset.objects.create(
        original_name="cut.mp4",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=uploaded_by,
        kind=AssetKind.VIDEO,
        duration=10.0,
        width=1920,
        height=1080,
        frame_rate=25.0,
        has_audio=True,
        status=AssetStatus.READY,
        progress=100,
    )
    asset.original_key = f"{asset.prefix}/original"
    asset.save(update_fields=["original_key"])
    backend = storage.get_storage()
    tmp = Path(storage.settings.KADR_SCRATCH_DIR) / f"{asset.pk}.bin"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(content)
    backend.save_file(asset.original_key, tmp)
    tmp.unlink()
    for purpose in purposes:
        job = ProcessingJob.objects.create(
            asset=asset,
            purpose=purpose,
            status=AssetStatus.READY,
            progress=100,
            output_prefix=f"{asset.prefix}/{purpose}/1",
            generation=1,
        )
        Rendition.objects.create(
            job=job,
            generation=1,
            name="720p",
            width=1280,
            height=720,
            key=f"{asset.prefix}/{purpose}/1/720p.mp4",
        )
    return asset


def processing_asset(*, uploaded_by: User | None = None) -> MediaAsset:
    asset = ready_asset(uploaded_by=uploaded_by, purposes=())
    MediaAsset.objects.filter(pk=asset.pk).update(status=AssetStatus.PROCESSING, progress=40)
    asset.refresh_from_db()
    return asset


# The order a request travels in the happy path, with the step that enters each state.
PATH = [
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.SCHEDULED,
    Status.SHOT,
    Status.EDITING,
    Status.IN_REVIEW,
    Status.APPROVED,
    Status.PUBLISHED,
]


def request_in_state(
    state: str, *, department: str = "health", title: str = "Відкриття амбулаторії", **fields: Any
) -> ShootRequest:
    """Walk a new request through the workflow to `state` with the demo users."""
    press, operator, editor = user("press"), user("operator"), user("editor")
    requester = user(department)
    dept = requester.profile.department
    request = workflow.submit_request(by=requester, title=title, department=dept, **fields)
    if state == Status.SUBMITTED:
        return request
    if state == Status.DECLINED:
        workflow.decline(request, by=press, note="Не наш профіль")
        return request
    if state == Status.CANCELLED:
        workflow.cancel(request, by=press, note="Подію скасовано")
        return request
    workflow.accept(request, by=press)
    if state == Status.ACCEPTED:
        return request
    start = timezone.now() + timedelta(days=1 + ShootRequest.objects.count())
    shoot = workflow.schedule(
        request,
        by=press,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        crew=[workflow.CrewMember(operator, "operator"), workflow.CrewMember(editor, "editor")],
        location="вул. Шевченка, 1",
    )
    if state == Status.SCHEDULED:
        return request
    workflow.complete_shoot(shoot, by=operator, log="Зняли все")
    if state == Status.SHOT:
        return request
    version = workflow.add_version(request, by=editor, asset=ready_asset(uploaded_by=editor))
    if state == Status.EDITING:
        return request
    workflow.submit_version(version, by=editor)
    if state == Status.IN_REVIEW:
        return request
    if state == Status.CHANGES_REQUESTED:
        workflow.request_changes(version, by=press, note="Скоротіть вступ")
        return request
    workflow.approve(version, by=press)
    if state == Status.APPROVED:
        return request
    workflow.publish(
        request,
        by=press,
        channel=Channel.objects.get(slug="website"),
        url="https://drohobych-rada.gov.ua/news/1",
    )
    assert request.status == Status.PUBLISHED
    return request


CLIP_RECIPES: dict[str, dict[str, Any]] = {
    # name: size, rate, pixel format, audio?, container and what makes it special
    "landscape": {"size": "640x360", "rate": 25},
    "hd": {"size": "1920x1080", "rate": 25},
    # A phone held upright: landscape pixels with a display rotation tag.
    "portrait_rotated": {"size": "640x360", "rate": 30, "rotate": 90},
    "four_three": {"size": "480x360", "rate": 25},
    "ten_bit": {"size": "640x360", "rate": 25, "pix_fmt": "yuv420p10le", "ext": "mkv"},
    # 50 fields a second, top field first, coded as interlaced H.264 in MPEG-TS.
    "interlaced": {"size": "720x576", "rate": 25, "interlaced": True, "ext": "ts"},
    "no_audio": {"size": "640x360", "rate": 25, "audio": False},
    "vfr": {"size": "640x360", "rate": 30, "vfr": True, "ext": "mkv"},
    "tiny": {"size": "160x120", "rate": 15},
    "audio_only": {"audio_only": True, "ext": "m4a"},
}


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def generate_clip(folder: Path, kind: str, *, duration: float = 1.5, **overrides: Any) -> Path:
    """Make a short clip with ffmpeg's lavfi sources; no video files live in the repo.

    Every recipe is checked by tests/media_pipeline/test_probe.py to really be what
    its name says (ffmpeg 5.1: rotation is a metadata tag copied into MP4, 10-bit is
    High 10, interlaced is field-coded H.264, VFR has uneven timestamps).
    """
    recipe = {**CLIP_RECIPES[kind], **overrides}
    ext = recipe.get("ext", "mp4")
    out = folder / f"{kind}-{abs(hash(tuple(sorted(overrides.items()))))}-{duration}.{ext}"
    sine = f"sine=frequency=440:sample_rate=48000:duration={duration}"
    if recipe.get("audio_only"):
        _ffmpeg("-f", "lavfi", "-i", sine, "-c:a", "aac", "-ac", "2", str(out))
        return out
    args = [
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={recipe['size']}:rate={recipe['rate']}:duration={duration}",
    ]
    if recipe.get("audio", True):
        args += ["-f", "lavfi", "-i", sine]
    if recipe.get("vfr"):
        # Drop frames irregularly and keep their timestamps, so the gaps vary.
        args += ["-vf", "select='not(eq(mod(n\\,7)\\,3))*not(eq(mod(n\\,5)\\,1))'"]
        args += ["-fps_mode", "vfr"]
    if recipe.get("interlaced"):
        args += ["-vf", "setfield=tff", "-flags", "+ilme+ildct", "-top", "1"]
        args += ["-x264-params", "interlaced=1:tff=1"]
    args += ["-c:v", "libx264", "-preset", "ultrafast"]
    pix_fmt = recipe.get("pix_fmt", "yuv420p")
    args += ["-pix_fmt", pix_fmt]
    if "10" in pix_fmt:
        args += ["-profile:v", "high10"]
    if recipe.get("audio", True):
        args += ["-c:a", "aac", "-shortest"]
    if not recipe.get("rotate"):
        _ffmpeg(*args, str(out))
        return out
    plain = out.with_suffix(".plain.mp4")
    _ffmpeg(*args, str(plain))
    # Tag a display rotation as phones do (metadata only; the pixels stay landscape).
    # ffmpeg 5.1 has no -display_rotation; the rotate tag with stream copy sets the matrix.
    _ffmpeg(
        "-i", str(plain), "-c", "copy", "-metadata:s:v:0", f"rotate={recipe['rotate']}", str(out)
    )
    plain.unlink()
    return out
