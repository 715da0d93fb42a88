"""Media assets, their per-purpose processing jobs, renditions and resumable uploads.

The pipeline knows nothing of the tracker: the tracker points at a MediaAsset
(a cut's media, a shoot's footage) and decides who may see it through
settings.KADR_MEDIA_ACCESS.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AssetStatus(models.TextChoices):
    UPLOADED = "uploaded", _("uploaded")
    PROCESSING = "processing", _("processing")
    READY = "ready", _("ready")
    FAILED = "failed", _("failed")


class AssetKind(models.TextChoices):
    UNKNOWN = "unknown", _("not yet probed")
    VIDEO = "video", _("video")
    AUDIO = "audio", _("audio only")


class Purpose(models.TextChoices):
    FOOTAGE = "footage", _("footage preview")
    REVIEW = "review", _("review")
    PUBLISH = "publish", _("publishing")


class MediaAsset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Generated, never derived from the user's file name.
    original_key = models.CharField(max_length=300, blank=True)
    original_name = models.CharField(_("original file name"), max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    # The stored original's fingerprint (Storage.fingerprint) when its bytes last hashed
    # to sha256: while it is unchanged, publishing need not read the whole file again.
    verified_fingerprint = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the primary purpose is for this asset (footage for a shoot, review for a cut).
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.REVIEW)

    # Probe results.
    kind = models.CharField(max_length=10, choices=AssetKind.choices, default=AssetKind.UNKNOWN)
    container = models.CharField(max_length=100, blank=True)
    video_codec = models.CharField(max_length=50, blank=True)
    audio_codec = models.CharField(max_length=50, blank=True)
    probe = models.JSONField(default=dict, blank=True)
    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)  # display, after rotation
    height = models.PositiveIntegerField(null=True, blank=True)
    frame_rate = models.FloatField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    rotation = models.IntegerField(default=0)
    interlaced = models.BooleanField(default=False)
    high_bit_depth = models.BooleanField(default=False)
    variable_frame_rate = models.BooleanField(default=False)

    # Overall state, as the API contract shows it: the primary purpose's job, or the probe.
    status = models.CharField(
        max_length=20, choices=AssetStatus.choices, default=AssetStatus.UPLOADED, db_index=True
    )
    stage = models.CharField(max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("media asset")
        verbose_name_plural = _("media assets")

    def __str__(self) -> str:
        return self.original_name or str(self.id)

    @property
    def prefix(self) -> str:
        return f"media/{self.id}"


class ProcessingJob(models.Model):
    """One purpose's processing of one asset: one ffmpeg process, its outputs."""

    asset = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="jobs")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    status = models.CharField(
        max_length=20, choices=AssetStatus.choices, default=AssetStatus.UPLOADED, db_index=True
    )
    stage = models.CharField(max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    ffmpeg_command = models.TextField(blank=True)
    ffmpeg_log = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A worker owns the job until lease_until; the sweeper re-queues it after that.
    lease_until = models.DateTimeField(null=True, blank=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # Outputs live under media/<asset>/<purpose>/<generation>/; a new run writes a new
    # generation and swaps it in with one UPDATE, so viewers never see a half-written set.
    generation = models.PositiveIntegerField(default=0)
    output_prefix = models.CharField(max_length=300, blank=True)
    hls_key = models.CharField(max_length=300, blank=True)
    poster_key = models.CharField(max_length=300, blank=True)
    thumbnail_keys = models.JSONField(default=list, blank=True)
    storyboard_key = models.CharField(max_length=300, blank=True)
    storyboard_vtt_key = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "purpose"], name="one_job_per_purpose")
        ]
        verbose_name = _("processing job")
        verbose_name_plural = _("processing jobs")

    def __str__(self) -> str:
        return f"{self.asset_id} {self.purpose}"


class Rendition(models.Model):
    job = models.ForeignKey(ProcessingJob, on_delete=models.CASCADE, related_name="renditions")
    generation = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    video_bitrate = models.PositiveIntegerField(default=0)  # bit/s
    audio_bitrate = models.PositiveIntegerField(default=0)
    size = models.BigIntegerField(default=0)
    key = models.CharField(max_length=300)

    class Meta:
        ordering = ["-height"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "generation", "name"], name="one_rendition_per_rung"
            )
        ]

    def __str__(self) -> str:
        return self.name


class UploadStatus(models.TextChoices):
    ACTIVE = "active", _("uploading")
    COMPLETE = "complete", _("complete")
    ABORTED = "aborted", _("aborted")


class Upload(models.Model):
    """A resumable upload session; becomes a MediaAsset when it completes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=500)
    size = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.REVIEW)
    # Where the result should be attached, as the tracker understands it (e.g. {"shoot": 3}).
    target = models.JSONField(default=dict, blank=True)
    # Client-declared sha256, checked at completion when given.
    expected_sha256 = models.CharField(max_length=64, blank=True)
    # Direct-to-S3 multipart: the bucket key and the S3 upload id; parts are tracked in parts.
    storage_key = models.CharField(max_length=300, blank=True)
    s3_upload_id = models.CharField(max_length=300, blank=True)
    parts = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=UploadStatus.choices, default=UploadStatus.ACTIVE, db_index=True
    )
    asset = models.OneToOneField(
        MediaAsset, null=True, blank=True, on_delete=models.SET_NULL, related_name="upload"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self) -> str:
        return self.filename
