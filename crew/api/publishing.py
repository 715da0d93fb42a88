"""Publications (where an approved video went), takedowns, and the publish package."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crew import permissions, publishing, selectors, workflow
from crew.exceptions import Conflict
from crew.models import Channel, Publication


def validate_http_url(value: str) -> str:
    """Only http(s) links with a host: no javascript:, data:, ftp:, mailto: in a link we show."""
    value = value.strip()
    problem = publishing.http_url_problem(value)
    if problem:
        raise serializers.ValidationError(problem)
    return value


class PublicationInput(serializers.Serializer):
    channel: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Channel.objects.all(),
        error_messages={"does_not_exist": gettext_lazy("No channel “{value}”.")},
    )
    url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    published_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    planned_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    caption = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, default="", trim_whitespace=False
    )

    def validate_url(self, value: str) -> str:
        return validate_http_url(value) if value.strip() else ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A planned post may not have its address yet; a published one must.
        if not attrs.get("url") and not attrs.get("planned_at"):
            raise serializers.ValidationError(
                {"url": [_("Give the address of the post (or a planned time).")]}
            )
        return attrs


class PublicationSerializer(serializers.ModelSerializer):
    channel: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    channel_name = serializers.CharField(source="channel.name", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    taken_down_by = serializers.CharField(
        source="taken_down_by.username", read_only=True, default=None
    )
    live = serializers.SerializerMethodField()

    class Meta:
        model = Publication
        fields = [
            "id",
            "request",
            "version",
            "channel",
            "channel_name",
            "url",
            "published_at",
            "planned_at",
            "caption",
            "created_by",
            "created_at",
            "live",
            "taken_down_at",
            "taken_down_by",
            "takedown_reason",
        ]
        read_only_fields = fields

    def get_live(self, obj: Publication) -> bool:
        return obj.taken_down_at is None


class TakedownInput(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    everywhere = serializers.BooleanField(required=False, default=False)

    def validate_reason(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Say why the video is taken down."))
        return value.strip()


def _publications(request_obj: Any) -> Any:
    return request_obj.publications.select_related(
        "channel", "version", "created_by", "taken_down_by"
    )


class RequestPublications(APIView):
    """List a request's publications; record a new one (press head)."""

    @extend_schema(responses=PublicationSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        request_obj = selectors.access_request(request.user, pk)
        data = PublicationSerializer(_publications(request_obj), many=True).data
        return Response(data)

    @extend_schema(request=PublicationInput, responses={201: PublicationSerializer})
    def post(self, request: Request, pk: int) -> Response:
        request_obj = selectors.access_request(request.user, pk)
        permissions.require(
            permissions.can_triage(request.user), _("Only the press head may publish.")
        )
        data = PublicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        publication = workflow.publish(request_obj, by=request.user, **data.validated_data)
        publication = _publications(request_obj).get(pk=publication.pk)
        body = PublicationSerializer(publication).data
        body["request_status"] = request_obj.status
        body["page_url"] = publishing.page_url(request_obj)
        return Response(body, status=status.HTTP_201_CREATED)


class Takedown(APIView):
    """Take a publication down, with a reason (`everywhere`: every live channel). Press head."""

    @extend_schema(request=TakedownInput, responses=PublicationSerializer(many=True))
    def post(self, request: Request, pk: int) -> Response:
        publication = get_object_or_404(
            Publication.objects.select_related("request"),
            pk=pk,
            request__in=selectors.requests_visible_to(request.user),
        )
        permissions.require(
            permissions.can_triage(request.user), _("Only the press head may take videos down.")
        )
        data = TakedownInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        targets = [publication]
        if data.validated_data["everywhere"]:
            targets += list(
                publication.request.publications.filter(taken_down_at__isnull=True).exclude(
                    pk=publication.pk
                )
            )
        with transaction.atomic():
            for target in targets:
                workflow.take_down(target, by=request.user, reason=reason)
        done = _publications(publication.request).filter(pk__in=[t.pk for t in targets])
        return Response(PublicationSerializer(done, many=True).data)


class PackageView(APIView):
    """The publish package: downloads, poster, thumbnails, captions per channel, warnings.

    409 with `progress` while the publishing renditions are still being made (or failed).
    """

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        request_obj = selectors.access_request(request.user, pk)
        if not permissions.is_crew(request.user):
            raise Http404(_("No such request."))
        package = publishing.build_package(request_obj)
        state = package.state
        if not state.ready:
            raise Conflict(
                state.problem,
                publish_status=state.job.status if state.job else "",
                progress=state.progress,
            )
        return Response(
            {
                "request": request_obj.pk,
                "version": package.version.number,
                "downloads": [vars(d) for d in package.downloads],
                "poster_url": package.poster_url,
                "thumbnails": package.thumbnail_urls,
                "hls_url": package.hls_url,
                "captions": [
                    {
                        "channel": c.channel.slug,
                        "channel_name": c.channel.name,
                        "text": c.text,
                        "limit": c.limit,
                        "warnings": c.warnings,
                    }
                    for c in package.captions
                ],
                "embed_code": publishing.embed_code(request_obj, package.version.media)
                if request_obj.slug
                else "",
            }
        )


urlpatterns = [
    path(
        "requests/<int:pk>/publications/",
        RequestPublications.as_view(),
        name="api-request-publications",
    ),
    path("publications/<int:pk>/takedown/", Takedown.as_view(), name="api-publication-takedown"),
    path("requests/<int:pk>/package/", PackageView.as_view(), name="api-request-package"),
]
