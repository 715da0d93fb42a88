"""API v1: departments, campaigns, channels, shoot requests, their triage and history.

Views are thin: reads come from crew.selectors (already filtered by what the
user may see: another department's request is a 404), every status change is
a crew.workflow call, and tracker errors become status codes in
crew.api.errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crew import permissions, selectors, workflow
from crew.api import filters
from crew.api.permissions import CanEditRequest
from crew.api.serializers import (
    ERRORS,
    ActionNoteSerializer,
    CampaignSerializer,
    ChannelSerializer,
    DepartmentSerializer,
    ShootRequestSerializer,
    StatusChangeSerializer,
)
from crew.models import Campaign, Channel, Department, ShootRequest


@extend_schema(tags=["tracker"])
class DepartmentList(generics.ListAPIView):
    """The council's departments, enterprises and institutions that ask for videos."""

    serializer_class = DepartmentSerializer
    queryset = Department.objects.all()
    filterset_fields = ["kind"]


@extend_schema(tags=["tracker"])
class CampaignList(generics.ListAPIView):
    """Information campaigns that bundle several videos."""

    serializer_class = CampaignSerializer
    queryset = Campaign.objects.all()


@extend_schema(tags=["tracker"])
class ChannelList(generics.ListAPIView):
    """Where videos are published; `slug` is what publications name."""

    serializer_class = ChannelSerializer
    queryset = Channel.objects.all()


def _requests_for(user: Any) -> QuerySet[ShootRequest]:
    return (
        selectors.requests_visible_to(user)
        .select_related("department", "campaign", "requested_by")
        .prefetch_related("target_channels")
    )


@extend_schema(tags=["requests"])
class ShootRequestList(generics.ListCreateAPIView):
    """Requests you may see (a requester: their department's and published ones).

    Creating one submits it: a requester for their own department (the default),
    the press head for any department.
    """

    serializer_class = ShootRequestSerializer
    filterset_class = filters.ShootRequestFilter
    pagination_class = filters.Pagination
    ordering_fields = ["created_at", "updated_at", "deadline", "desired_at", "priority", "title"]
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet[ShootRequest]:
        return _requests_for(self.request.user)

    @extend_schema(responses={201: ShootRequestSerializer, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The role first: the crew learns "may not", not which field to fix.
        permissions.require(
            permissions.is_press(request.user) or permissions.is_requester(request.user)
        )
        return super().post(request, *args, **kwargs)


@extend_schema(tags=["requests"])
class ShootRequestDetail(generics.RetrieveUpdateAPIView):
    """One request. PATCH edits its details (never its status)."""

    serializer_class = ShootRequestSerializer
    permission_classes = [*generics.RetrieveUpdateAPIView.permission_classes, CanEditRequest]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[ShootRequest]:
        return _requests_for(self.request.user)

    def get_object(self) -> ShootRequest:
        obj = selectors.access_request(self.request.user, self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj

    @extend_schema(responses={200: ShootRequestSerializer, **ERRORS})
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().patch(request, *args, **kwargs)


class RequestAction(APIView):
    """POST {note}: one workflow transition of a request; answers with the request."""

    transition: Callable[..., None]

    def post(self, request: Request, pk: int) -> Response:
        obj = selectors.access_request(request.user, pk)
        body = ActionNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        type(self).transition(obj, by=request.user, note=body.validated_data["note"])
        obj = selectors.access_request(request.user, pk)
        return Response(ShootRequestSerializer(obj, context={"request": request}).data)


def _action(transition: Callable[..., None], summary: str) -> type[RequestAction]:
    view = type(
        f"{transition.__name__.title()}Request",
        (RequestAction,),
        {"transition": staticmethod(transition), "__doc__": summary},
    )
    return extend_schema(
        tags=["requests"],
        summary=summary,
        request=ActionNoteSerializer,
        responses={200: ShootRequestSerializer, **ERRORS},
    )(view)


AcceptRequest = _action(workflow.accept, "submitted → accepted (press head)")
DeclineRequest = _action(workflow.decline, "submitted → declined; a note is required (press head)")
CancelRequest = _action(
    workflow.cancel, "any state before published → cancelled; a note is required (press head)"
)


@extend_schema(
    tags=["requests"], responses={200: StatusChangeSerializer(many=True), 404: ERRORS[404]}
)
class RequestHistory(generics.ListAPIView):
    """Every state change of the request, its shoots, cuts and publications, oldest first."""

    serializer_class = StatusChangeSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet:
        return selectors.history_of(selectors.access_request(self.request.user, self.kwargs["pk"]))


@extend_schema(tags=["auth"])
class TokenView(ObtainAuthToken):
    """`{username, password}` → `{token}`; then send `Authorization: Token <token>`."""


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("departments/", DepartmentList.as_view(), name="api-departments"),
    path("campaigns/", CampaignList.as_view(), name="api-campaigns"),
    path("channels/", ChannelList.as_view(), name="api-channels"),
    path("requests/", ShootRequestList.as_view(), name="api-requests"),
    path("requests/<int:pk>/", ShootRequestDetail.as_view(), name="api-request"),
    path("requests/<int:pk>/accept/", AcceptRequest.as_view(), name="api-request-accept"),
    path("requests/<int:pk>/decline/", DeclineRequest.as_view(), name="api-request-decline"),
    path("requests/<int:pk>/cancel/", CancelRequest.as_view(), name="api-request-cancel"),
    path("requests/<int:pk>/history/", RequestHistory.as_view(), name="api-request-history"),
]
