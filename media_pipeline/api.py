"""Media API v1: upload (in one request, or resumable), and an asset's state and URLs.

The resumable protocol (README "Uploads"):

    POST   media/uploads/                     {filename, size, purpose, target?, sha256?}
                                              → 201 {id, mode, offset, chunk_size | part_size, …}
    HEAD   media/uploads/{id}/                → Upload-Offset header (GET: the same as JSON)
    PATCH  media/uploads/{id}/                chunks mode: Upload-Offset header, raw body
                                              → 200 {offset, status, asset}; the last chunk completes
    POST   media/uploads/{id}/parts/{n}/      s3 mode: → {url, method: PUT, start, end}
    POST   media/uploads/{id}/complete/       s3 mode (chunks: idempotent) → {status, asset}
    DELETE media/uploads/{id}/                abort → 204

A wrong offset, a repeated chunk or a chunk after completion answers 409 with the
offset to resume from; a size over KADR_MAX_UPLOAD_BYTES answers 413 before any byte
is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import Http404
from django.urls import path
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from media_pipeline import receive, storage, uploads
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Purpose, Upload

PURPOSE_ORDER = (Purpose.PUBLISH, Purpose.REVIEW, Purpose.FOOTAGE)
ERROR_SCHEMA = OpenApiResponse(description='{"detail": "…"} (409 also gives "offset")')


# --- serializers (validation and the OpenAPI schema) ------------------------------------


class UploadCreateSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=500)
    size = serializers.IntegerField(min_value=1)
    purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.REVIEW)
    target = serializers.DictField(
        required=False,
        help_text='Where the finished upload goes: {"shoot": id} (footage) or {"request": id} (a cut).',
    )
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False, allow_blank=True)
    content_type = serializers.CharField(max_length=200, required=False, allow_blank=True)


class UploadSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    offset = serializers.IntegerField(help_text="Bytes stored so far: resume from here.")
    status = serializers.ChoiceField(choices=["active", "complete", "aborted"])
    mode = serializers.ChoiceField(
        choices=[uploads.CHUNKS, uploads.S3],
        help_text="chunks: PATCH raw chunks to this upload; s3: PUT parts to presigned URLs.",
    )
    purpose = serializers.CharField()
    chunk_size = serializers.IntegerField(help_text="chunks mode: the suggested chunk size.")
    part_size = serializers.IntegerField(help_text="s3 mode: every part but the last is this big.")
    part_count = serializers.IntegerField()
    parts = serializers.ListField(child=serializers.DictField(), help_text="s3: parts stored.")
    asset = serializers.UUIDField(allow_null=True)
    result = serializers.DictField(help_text="What the tracker did with the finished upload.")


class RenditionSerializer(serializers.Serializer):
    name = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.CharField()


class PurposeStateSerializer(serializers.Serializer):
    status = serializers.CharField()
    progress = serializers.IntegerField()
    stage = serializers.CharField()
    error = serializers.CharField()


class MediaSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=AssetStatus.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    stage = serializers.CharField()
    error = serializers.CharField()
    original_name = serializers.CharField(help_text="Display only; show it escaped.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    duration = serializers.FloatField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    purpose = serializers.CharField(allow_null=True, help_text="Whose outputs are shown.")
    renditions = RenditionSerializer(many=True)
    hls_url = serializers.CharField(allow_null=True)
    poster_url = serializers.CharField(allow_null=True)
    thumbnails = serializers.ListField(child=serializers.CharField())
    storyboard_url = serializers.CharField(allow_null=True, help_text="WebVTT thumbnails track.")
    storyboard_image_url = serializers.CharField(allow_null=True)
    original_url = serializers.CharField(allow_null=True)
    purposes = serializers.DictField(child=PurposeStateSerializer())


class MediaCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.REVIEW)
    shoot = serializers.IntegerField(required=False)
    request = serializers.IntegerField(required=False)


# --- shared -----------------------------------------------------------------------------


class MediaAPIView(APIView):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, uploads.UploadProblem):
            response = Response({"detail": exc.message, **exc.details}, status=exc.status_code)
            if "offset" in exc.details:
                response["Upload-Offset"] = str(exc.details["offset"])
            return response
        if isinstance(exc, storage.StorageError):
            response = Response(
                {"detail": _("Storage is unavailable right now; please try again shortly.")},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
            response["Retry-After"] = "10"
            return response
        return super().handle_exception(exc)


def upload_payload(upload: Upload) -> dict[str, Any]:
    return {
        "id": str(upload.pk),
        "filename": upload.filename,
        "size": upload.size,
        "offset": upload.offset,
        "status": upload.status,
        "mode": uploads.mode_of(upload),
        "purpose": upload.purpose,
        "chunk_size": settings.KADR_UPLOAD_CHUNK_SIZE,
        "part_size": uploads.part_size_for(upload.size),
        "part_count": uploads.part_count(upload),
        "parts": [{"number": p["number"], "size": p["size"]} for p in upload.parts],
        "asset": str(upload.asset_id) if upload.asset_id else None,
        "result": upload.target.get("result", {}),
    }


def upload_response(upload: Upload, code: int = 200) -> Response:
    response = Response(upload_payload(upload), status=code)
    response["Upload-Offset"] = str(upload.offset)
    response["Upload-Length"] = str(upload.size)
    response["Cache-Control"] = "no-store"
    return response


def can_view(user: Any, asset: MediaAsset) -> bool:
    return bool(import_string(settings.KADR_MEDIA_ACCESS)(user, asset))


def access_asset(user: Any, pk: Any) -> MediaAsset:
    try:
        asset = MediaAsset.objects.get(pk=pk)
    except (MediaAsset.DoesNotExist, ValueError, ValidationError):
        raise Http404(_("No such media.")) from None
    if not can_view(user, asset):
        raise Http404(_("No such media."))
    return asset


def media_payload(
    asset: MediaAsset, absolute: Callable[[str], str] = lambda url: url
) -> dict[str, Any]:
    """The asset as the API contract shows it, with short-lived signed URLs."""
    backend = storage.get_storage()
    jobs = {job.purpose: job for job in ProcessingJob.objects.filter(asset=asset)}
    best = next(
        (jobs[p] for p in PURPOSE_ORDER if p in jobs and jobs[p].status == AssetStatus.READY),
        None,
    )

    def url(key: str) -> str | None:
        return absolute(backend.url(key)) if key else None

    renditions = []
    if best is not None:
        renditions = [
            {"name": r.name, "width": r.width, "height": r.height, "url": url(r.key)}
            for r in best.renditions.filter(generation=best.generation).order_by("-height")
        ]
    return {
        "id": str(asset.pk),
        "status": asset.status,
        "progress": asset.progress,
        "stage": asset.stage,
        "error": asset.error,
        "original_name": asset.original_name,
        "size": asset.size,
        "sha256": asset.sha256,
        "duration": asset.duration,
        "width": asset.width,
        "height": asset.height,
        "purpose": best.purpose if best else None,
        "renditions": renditions,
        "hls_url": url(best.hls_key) if best else None,
        "poster_url": url(best.poster_key) if best else None,
        "thumbnails": [absolute(backend.url(k)) for k in best.thumbnail_keys] if best else [],
        "storyboard_url": url(best.storyboard_vtt_key) if best else None,
        "storyboard_image_url": url(best.storyboard_key) if best else None,
        "original_url": (
            absolute(
                backend.url(asset.original_key, download_name=asset.original_name or "original")
            )
            if asset.original_key
            else None
        ),
        "purposes": {
            purpose: {
                "status": job.status,
                "progress": job.progress,
                "stage": job.stage,
                "error": job.error,
            }
            for purpose, job in jobs.items()
        },
    }


# --- POST media/ and GET media/{id}/ ----------------------------------------------------


class LimitedHashingHandler(TemporaryFileUploadHandler):
    """Streams the file to a temporary file, hashing it, and stops past the size limit."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.digest = hashlib.sha256()
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.KADR_MAX_UPLOAD_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        self.digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)


class MediaCreateView(MediaAPIView):
    parser_classes = [MultiPartParser]

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        # Before anything parses the body (a session's CSRF check reads request.POST):
        # the file streams through the size-limiting, hashing handler from the first byte.
        self.handler = LimitedHashingHandler(request)
        request.upload_handlers = [self.handler]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        # Multipart framing adds a little; anything clearly over the limit is refused unread.
        if length > settings.KADR_MAX_UPLOAD_BYTES + 64 * 1024:
            uploads.require_size(length)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Upload a media file in one request",
        description="For small files and scripts; large files should use the resumable "
        "protocol (media/uploads/). The file streams to disk and is checksummed; "
        "over KADR_MAX_UPLOAD_BYTES answers 413.",
        request={"multipart/form-data": MediaUploadSerializer},
        responses={
            201: MediaCreatedSerializer,
            400: ERROR_SCHEMA,
            403: ERROR_SCHEMA,
            413: ERROR_SCHEMA,
        },
        tags=["media"],
    )
    def post(self, request: Request) -> Response:
        handler = self.handler
        upload = request.FILES.get("file")
        if getattr(handler, "too_large", False):
            uploads.require_size(settings.KADR_MAX_UPLOAD_BYTES + 1)
        form = MediaUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        target = {k: data[k] for k in ("shoot", "request") if data.get(k) is not None}
        uploads.check_target(request.user, data["purpose"], target)
        temp_path = Path(upload.temporary_file_path())
        completed = uploads.complete_from_temp_file(
            temp_path,
            user=request.user,
            filename=upload.name or "upload",
            purpose=data["purpose"],
            target=target,
            sha256=handler.digest.hexdigest(),
        )
        asset = completed.asset
        body: dict[str, Any] = {
            "id": str(asset.pk) if asset else completed.hook.get("duplicate_of"),
            "status": asset.status if asset else AssetStatus.UPLOADED,
            "result": completed.hook,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class MediaDetailView(MediaAPIView):
    @extend_schema(
        summary="A media asset's processing state and signed URLs",
        description="Outputs come from the best ready purpose (publish > review > footage); "
        "`purposes` gives each purpose's own state. URLs are signed and short-lived. "
        "404 when the asset is missing or not yours to see.",
        responses={200: MediaSerializer, 404: ERROR_SCHEMA},
        tags=["media"],
    )
    def get(self, request: Request, pk: str) -> Response:
        asset = access_asset(request.user, pk)
        response = Response(media_payload(asset, request.build_absolute_uri))
        response["Cache-Control"] = "no-store"
        return response


# --- the resumable protocol -------------------------------------------------------------


class UploadCreateView(MediaAPIView):
    @extend_schema(
        summary="Start a resumable upload",
        description="Checks the size (413) and the target (403/404) before anything is "
        "stored. `mode` in the answer says how to send the bytes: `chunks` (PATCH this "
        "upload) or `s3` (PUT parts to presigned URLs, then complete).",
        request=UploadCreateSerializer,
        responses={
            201: UploadSerializer,
            400: ERROR_SCHEMA,
            403: ERROR_SCHEMA,
            404: ERROR_SCHEMA,
            413: ERROR_SCHEMA,
        },
        tags=["uploads"],
    )
    def post(self, request: Request) -> Response:
        form = UploadCreateSerializer(data=request.data)
        if not form.is_valid():
            # A size over the limit is 413 even when other fields are wrong.
            size = request.data.get("size") if hasattr(request.data, "get") else None
            if isinstance(size, int):
                uploads.require_size(size)
            return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
        data = form.validated_data
        upload = uploads.create(
            user=request.user,
            filename=data["filename"],
            size=data["size"],
            purpose=data["purpose"],
            target=data.get("target") or {},
            sha256=data.get("sha256") or "",
            content_type=data.get("content_type") or "",
        )
        response = upload_response(upload, status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{upload.pk}/")
        return response


OFFSET_HEADER = OpenApiParameter(
    "Upload-Offset",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=True,
    description="Where this chunk starts: must equal the upload's current offset.",
)


class UploadDetailView(MediaAPIView):
    @extend_schema(
        summary="An upload's offset (HEAD gives it in the Upload-Offset header)",
        description="s3 mode asks the bucket which parts it holds.",
        responses={200: UploadSerializer, 404: ERROR_SCHEMA},
        tags=["uploads"],
    )
    def get(self, request: Request, pk: str) -> Response:
        upload = uploads.access(request.user, pk)
        uploads.bucket_parts(upload)
        return upload_response(upload)

    @extend_schema(
        summary="Send the next chunk (chunks mode)",
        description="Body: the raw bytes (Content-Type application/offset+octet-stream), "
        "Content-Length required. A wrong offset, a repeated chunk, a chunk after "
        "completion, or bytes the server lost in a crash answer 409 with the offset to "
        "resume from. The chunk that reaches "
        "the size completes the upload and the answer carries the asset id.",
        parameters=[OFFSET_HEADER],
        request={"application/offset+octet-stream": OpenApiTypes.BINARY},
        responses={
            200: UploadSerializer,
            400: ERROR_SCHEMA,
            409: ERROR_SCHEMA,
            411: ERROR_SCHEMA,
            413: ERROR_SCHEMA,
        },
        tags=["uploads"],
    )
    def patch(self, request: Request, pk: str) -> Response:
        upload = uploads.access(request.user, pk)
        try:
            offset = int(request.headers["Upload-Offset"])
        except (KeyError, ValueError):
            raise uploads.UploadProblem(
                400, _("The Upload-Offset header is required."), offset=upload.offset
            ) from None
        raw_length = request.META.get("CONTENT_LENGTH")
        if not raw_length:
            raise uploads.UploadProblem(411, _("Content-Length is required."))
        length = int(raw_length) if raw_length.isdigit() else -1
        if length < 0:
            raise uploads.UploadProblem(
                400, _("Content-Length must be a whole number of bytes."), offset=upload.offset
            )
        upload = uploads.write_chunk(
            upload, offset=offset, body=receive.body_of(request._request, length), length=length
        )
        return upload_response(upload)

    @extend_schema(
        summary="Abort an upload",
        description="Deletes what was received (or aborts the S3 multipart upload).",
        responses={204: None, 404: ERROR_SCHEMA, 409: ERROR_SCHEMA},
        tags=["uploads"],
    )
    def delete(self, request: Request, pk: str) -> Response:
        upload = uploads.access(request.user, pk)
        uploads.abort(upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadPartView(MediaAPIView):
    @extend_schema(
        summary="Sign one part for a direct PUT to the bucket (s3 mode)",
        description="PUT bytes [start, end) of the file to `url`; the bucket answers with "
        "an ETag the server reads back itself, so the client need not keep it.",
        request=None,
        responses={200: OpenApiTypes.OBJECT, 400: ERROR_SCHEMA, 409: ERROR_SCHEMA},
        tags=["uploads"],
    )
    def post(self, request: Request, pk: str, number: int) -> Response:
        upload = uploads.access(request.user, pk)
        return Response(uploads.sign_part(upload, number))


class UploadCompleteView(MediaAPIView):
    @extend_schema(
        summary="Complete an upload",
        description="s3 mode: checks with the bucket that every part is there and completes "
        "the multipart upload; sha256 follows from a checksum task. Idempotent: a repeat "
        "answers the same asset. Missing parts answer 409 with `missing_parts`.",
        request=None,
        responses={200: UploadSerializer, 409: ERROR_SCHEMA},
        tags=["uploads"],
    )
    def post(self, request: Request, pk: str) -> Response:
        upload = uploads.access(request.user, pk)
        completed = uploads.complete(upload)
        completed.upload.refresh_from_db()
        return upload_response(completed.upload)


urlpatterns = [
    path("media/", MediaCreateView.as_view(), name="media-create"),
    path("media/uploads/", UploadCreateView.as_view(), name="upload-create"),
    path("media/uploads/<uuid:pk>/", UploadDetailView.as_view(), name="upload-detail"),
    path(
        "media/uploads/<uuid:pk>/parts/<int:number>/",
        UploadPartView.as_view(),
        name="upload-part",
    ),
    path(
        "media/uploads/<uuid:pk>/complete/",
        UploadCompleteView.as_view(),
        name="upload-complete",
    ),
    path("media/<uuid:pk>/", MediaDetailView.as_view(), name="media-detail"),
]
