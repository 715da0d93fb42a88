"""Give an approved cut publish outputs in storage (poster, thumbnails, HLS, MP4) without
encoding anything: the publishing tests are about what is shown, not about ffmpeg."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from crew.models import ShootRequest, VersionState
from media_pipeline import storage
from media_pipeline.models import ProcessingJob, Rendition


def _put(key: str, content: bytes) -> None:
    tmp = Path(settings.KADR_SCRATCH_DIR) / key.replace("/", "_")
    tmp.write_bytes(content)
    storage.get_storage().save_file(key, tmp)
    tmp.unlink()


def give_outputs(request: ShootRequest, *, mp4_size: int = 2048) -> ProcessingJob:
    """Store the publish job's files and point the job and its renditions at them."""
    version = request.versions.filter(state=VersionState.APPROVED).get()
    job = ProcessingJob.objects.get(asset=version.media, purpose="publish")
    prefix = job.output_prefix
    _put(f"{prefix}/poster.jpg", b"\xff\xd8poster")
    thumbs = [f"{prefix}/thumb-{n}.jpg" for n in range(1, 4)]
    for key in thumbs:
        _put(key, b"\xff\xd8thumb")
    _put(f"{prefix}/master.m3u8", b"#EXTM3U\n")
    for rendition in Rendition.objects.filter(job=job):
        _put(rendition.key, b"\0" * mp4_size)
    Rendition.objects.filter(job=job).update(size=mp4_size)
    Rendition.objects.create(
        job=job,
        generation=job.generation,
        name="1080p",
        width=1920,
        height=1080,
        size=mp4_size * 2,
        key=f"{prefix}/1080p.mp4",
    )
    _put(f"{prefix}/1080p.mp4", b"\0" * (mp4_size * 2))
    ProcessingJob.objects.filter(pk=job.pk).update(
        poster_key=f"{prefix}/poster.jpg",
        thumbnail_keys=thumbs,
        hls_key=f"{prefix}/master.m3u8",
    )
    job.refresh_from_db()
    return job
