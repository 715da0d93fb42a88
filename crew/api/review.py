"""API v1: cuts (versions), the approval gate, timecoded comments, notifications.

Views are thin: look up through the selectors (404 for missing and not-visible
alike), validate the shape with a serializer, call crew.workflow or crew.review.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crew import media, notifications, review, selectors, workflow
from crew.exceptions import KadrError
from crew.models import Comment, Notification, Version
from media_pipeline.models import MediaAsset


def _user(request: Any) -> Any:
    """The signed-in user (login_required / IsAuthenticated ran first)."""
    return request.user


# --- Serializers ------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user.get_full_name() or user.username


class VersionSerializer(serializers.ModelSerializer):
    uploaded_by = PersonSerializer(read_only=True)
    decided_by = PersonSerializer(read_only=True)
    media = serializers.UUIDField(source="media_id", read_only=True)
    media_status = serializers.CharField(source="media.status", read_only=True)
    media_progress = serializers.IntegerField(source="media.progress", read_only=True)
    media_error = serializers.CharField(source="media.error", read_only=True)
    duration = serializers.FloatField(source="media.duration", read_only=True)
    frame_rate = serializers.FloatField(source="media.frame_rate", read_only=True)
    sha256 = serializers.CharField(source="media.sha256", read_only=True)
    media_url = serializers.SerializerMethodField()
    comment_count = serializers.SerializerMethodField()

    class Meta:
        model = Version
        fields = [
            "id",
            "request",
            "number",
            "notes",
            "state",
            "uploaded_by",
            "created_at",
            "submitted_at",
            "decided_at",
            "decided_by",
            "approved_sha256",
            "media",
            "media_status",
            "media_progress",
            "media_error",
            "duration",
            "frame_rate",
            "sha256",
            "media_url",
            "comment_count",
        ]
        read_only_fields = fields

    def get_media_url(self, version: Version) -> str:
        return f"/api/v1/media/{version.media_id}/"

    def get_comment_count(self, version: Version) -> int:
        counted = getattr(version, "n_comments", None)
        return counted if counted is not None else version.comments.count()


class VersionCreateSerializer(serializers.Serializer):
    media = serializers.UUIDField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class CommentSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)
    resolved_by = PersonSerializer(read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    resolved = serializers.SerializerMethodField()
    replies = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "version",
            "version_number",
            "parent",
            "author",
            "timecode",
            "timecode_end",
            "text",
            "resolved",
            "resolved_at",
            "resolved_by",
            "created_at",
            "replies",
        ]
        read_only_fields = fields

    def get_resolved(self, comment: Comment) -> bool:
        return comment.resolved_at is not None

    def get_replies(self, comment: Comment) -> list[dict[str, Any]]:
        if comment.parent_id is not None:
            return []
        return [
            {
                "id": r.pk,
                "author": PersonSerializer(r.author).data if r.author else None,
                "text": r.text,
                "created_at": serializers.DateTimeField().to_representation(r.created_at),
            }
            for r in comment.replies.all()
        ]


class CommentCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=review.MAX_TEXT, allow_blank=True)
    timecode = serializers.FloatField(required=False, allow_null=True, default=None)
    timecode_end = serializers.FloatField(required=False, allow_null=True, default=None)
    parent = serializers.IntegerField(required=False, allow_null=True, default=None)  # type: ignore[assignment]


class NotificationSerializer(serializers.ModelSerializer):
    headline = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor = PersonSerializer(read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_label",
            "headline",
            "text",
            "url",
            "request",
            "actor",
            "created_at",
            "read",
            "read_at",
        ]
        read_only_fields = fields

    def get_headline(self, n: Notification) -> str:
        return notifications.headline_of(n)

    def get_read(self, n: Notification) -> bool:
        return n.read_at is not None


def _versions_of(request_obj: Any) -> QuerySet[Version]:
    return (
        request_obj.versions.select_related("media", "uploaded_by", "decided_by")
        .annotate(n_comments=Count("comments"))
        .order_by("-number")
    )


# --- Versions ---------------------------------------------------------------------------


class VersionListView(APIView):
    @extend_schema(responses=VersionSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        request_obj = selectors.access_request(request.user, pk)
        return Response(VersionSerializer(_versions_of(request_obj), many=True).data)

    @extend_schema(request=VersionCreateSerializer, responses={201: VersionSerializer})
    def post(self, request: Request, pk: int) -> Response:
        request_obj = selectors.access_request(request.user, pk)
        data = VersionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset = MediaAsset.objects.filter(pk=data.validated_data["media"]).first()
        if asset is None or not media.can_view_asset(request.user, asset):
            raise KadrError(_("No such media."), field="media")
        version = workflow.add_version(
            request_obj, by=request.user, asset=asset, notes=data.validated_data["notes"]
        )
        version = Version.objects.select_related("media", "uploaded_by").get(pk=version.pk)
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailView(APIView):
    @extend_schema(responses=VersionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(VersionSerializer(selectors.access_version(request.user, pk)).data)


class _DecisionView(APIView):
    """POST {note}: one workflow call on the cut, then the cut as it is now."""

    def act(self, version: Version, user: Any, note: str) -> None:
        raise NotImplementedError

    @extend_schema(request=NoteSerializer, responses=VersionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        version = selectors.access_version(request.user, pk)
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.act(version, request.user, data.validated_data["note"])
        return Response(VersionSerializer(selectors.access_version(request.user, pk)).data)


class SubmitView(_DecisionView):
    def act(self, version: Version, user: Any, note: str) -> None:
        workflow.submit_version(version, by=user, note=note)


class ApproveView(_DecisionView):
    def act(self, version: Version, user: Any, note: str) -> None:
        workflow.approve(version, by=user, note=note)


class RequestChangesView(_DecisionView):
    def act(self, version: Version, user: Any, note: str) -> None:
        workflow.request_changes(version, by=user, note=note)


# --- Comments ---------------------------------------------------------------------------


class CommentListView(APIView):
    @extend_schema(responses=CommentSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        """The cut's threads in time order; ?earlier=1 adds the earlier cuts' comments."""
        version = selectors.access_version(request.user, pk)
        comments = list(review.threads_of(version))
        if request.query_params.get("earlier") in ("1", "true"):
            comments += list(review.earlier_threads(version))
        return Response(CommentSerializer(comments, many=True).data)

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        version = selectors.access_version(request.user, pk)
        data = CommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values["parent"] is not None:
            parent = Comment.objects.filter(
                pk=values["parent"], version__request_id=version.request_id
            ).first()
            if parent is None:
                raise KadrError(_("No such comment to reply to."), field="parent")
            comment = review.reply(parent, by=request.user, text=values["text"])
        else:
            comment = review.add_comment(
                version,
                by=request.user,
                text=values["text"],
                timecode=values["timecode"],
                timecode_end=values["timecode_end"],
            )
        comment = Comment.objects.select_related("author", "version").get(pk=comment.pk)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class _CommentToggleView(APIView):
    """POST: resolve or reopen a thread, then the comment as it is now."""

    toggle = staticmethod(review.resolve)

    @extend_schema(request=None, responses=CommentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        comment = review.access_comment(request.user, pk)
        self.toggle(comment, by=request.user)
        return Response(CommentSerializer(Comment.objects.get(pk=pk)).data)


class ResolveView(_CommentToggleView):
    toggle = staticmethod(review.resolve)


class ReopenView(_CommentToggleView):
    toggle = staticmethod(review.reopen)


# --- Notifications ----------------------------------------------------------------------


class NotificationListView(generics.ListAPIView):
    serializer_class = NotificationSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Notification]:
        qs = Notification.objects.filter(user=_user(self.request)).select_related(
            "request", "actor"
        )
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs


class NotificationReadView(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        notification = get_object_or_404(Notification, pk=pk, user=_user(request))
        Notification.objects.filter(pk=pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request) -> Response:
        count = Notification.objects.filter(user=_user(request), read_at__isnull=True).update(
            read_at=timezone.now()
        )
        return Response({"marked": count})


urlpatterns: list[URLPattern] = [
    path("requests/<int:pk>/versions/", VersionListView.as_view(), name="api-versions"),
    path("versions/<int:pk>/", VersionDetailView.as_view(), name="api-version"),
    path("versions/<int:pk>/submit/", SubmitView.as_view(), name="api-version-submit"),
    path("versions/<int:pk>/approve/", ApproveView.as_view(), name="api-version-approve"),
    path(
        "versions/<int:pk>/request-changes/",
        RequestChangesView.as_view(),
        name="api-version-request-changes",
    ),
    path("versions/<int:pk>/comments/", CommentListView.as_view(), name="api-comments"),
    path("comments/<int:pk>/resolve/", ResolveView.as_view(), name="api-comment-resolve"),
    path("comments/<int:pk>/reopen/", ReopenView.as_view(), name="api-comment-reopen"),
    path("notifications/", NotificationListView.as_view(), name="api-notifications"),
    path(
        "notifications/read-all/",
        NotificationReadAllView.as_view(),
        name="api-notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        NotificationReadView.as_view(),
        name="api-notification-read",
    ),
]
