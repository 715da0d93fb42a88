"""Media assets in the admin: each purpose's job with its progress, the exact ffmpeg
command, timings and log; "retry" and "reprocess" go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from media_pipeline import services
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Purpose, Rendition


class ProcessingJobInline(admin.StackedInline):
    model = ProcessingJob
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        ("purpose", "status", "stage", "progress", "attempts"),
        "error",
        ("queued_at", "started_at", "finished_at", "lease_until"),
        "timings",
        ("generation", "output_prefix"),
        "ffmpeg_command",
        "ffmpeg_log",
    ]
    readonly_fields = [
        *fields[0],
        "error",
        "queued_at",
        "started_at",
        "finished_at",
        "lease_until",
        "timings",
        "generation",
        "output_prefix",
        "ffmpeg_command",
        "ffmpeg_log",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _each(request: HttpRequest, queryset: QuerySet[MediaAsset], purposes: Any, action: Any) -> None:
    count = 0
    for asset in queryset:
        for purpose in purposes(asset):
            action(asset, purpose)
            count += 1
    messages.success(
        request,
        ngettext("%(count)d job queued.", "%(count)d jobs queued.", count) % {"count": count},
    )


@admin.action(description=_("Retry failed processing"))
def retry(modeladmin: Any, request: HttpRequest, queryset: QuerySet[MediaAsset]) -> None:
    def failed(asset: MediaAsset) -> list[str]:
        jobs = asset.jobs.filter(status=AssetStatus.FAILED)
        return list(jobs.values_list("purpose", flat=True)) or (
            [asset.purpose] if not asset.jobs.exists() else []
        )

    _each(request, queryset, failed, services.request_processing)


def _reprocess_action(purpose: Purpose) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[MediaAsset]) -> None:
        _each(request, queryset, lambda asset: [purpose.value], services.reprocess)

    action.__name__ = f"reprocess_{purpose.value}"
    label = format_lazy(_("Reprocess: {purpose}"), purpose=purpose.label)
    return admin.action(description=label)(action)


class RenditionInline(admin.TabularInline):
    model = Rendition
    fk_name = "job"
    extra = 0
    can_delete = False
    readonly_fields = ["generation", "name", "width", "height", "video_bitrate", "size", "key"]
    fields = list(readonly_fields)  # type: ignore[assignment]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProcessingJob)
class ProcessingJobAdmin(admin.ModelAdmin):
    list_display = ["asset", "purpose", "status", "stage", "progress", "attempts", "finished_at"]
    list_filter = ["purpose", "status"]
    readonly_fields = [f.name for f in ProcessingJob._meta.fields]
    inlines = [RenditionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ["__str__", "purpose", "kind", "status", "stage", "progress", "created_at"]
    list_filter = ["status", "purpose", "kind"]
    search_fields = ["original_name", "sha256", "id"]
    inlines = [ProcessingJobInline]
    actions = [retry, *(_reprocess_action(p) for p in Purpose)]
    readonly_fields = [
        "id",
        "original_key",
        "size",
        "sha256",
        "status",
        "stage",
        "progress",
        "error",
        "kind",
        "container",
        "video_codec",
        "audio_codec",
        "duration",
        "width",
        "height",
        "frame_rate",
        "has_audio",
        "rotation",
        "interlaced",
        "high_bit_depth",
        "variable_frame_rate",
        "probe",
        "created_at",
        "updated_at",
    ]
    fields = ["original_name", "purpose", "uploaded_by", *readonly_fields]
