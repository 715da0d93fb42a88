"""API v1: shoots. Creating one schedules its request; completing one marks it shot.

A clash with another booking answers 409 with `clashes`: who or what is booked,
for which shoot and request, and when. Attaching a file whose sha256 is already
among the shoot's footage answers 409 with `duplicate_of` (nothing is attached
twice); attaching the very same media again is harmless and answers 200 with
`created: false`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from crew import media, permissions, selectors, workflow
from crew.api import filters
from crew.api.serializers import (
    ERRORS,
    ActionNoteSerializer,
    ErrorSerializer,
    FootageAttachedSerializer,
    FootageAttachSerializer,
    ScheduleConflictSerializer,
    ShootCompleteSerializer,
    ShootCreateSerializer,
    ShootSerializer,
    ShootUpdateSerializer,
)
from crew.exceptions import Conflict, KadrError
from crew.models import Assignment, Footage, Shoot
from media_pipeline.models import MediaAsset

CLASH = OpenApiResponse(
    ScheduleConflictSerializer,
    description="wrong state, or a clash with another booking (details in `clashes`)",
)


def shoots_visible_to(user: Any) -> QuerySet[Shoot]:
    return (
        Shoot.objects.filter(request__in=selectors.requests_visible_to(user))
        .select_related("request")
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("user")),
            "kit",
            Prefetch("footage", queryset=Footage.objects.select_related("media")),
        )
    )


def _shoot_response(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    shoot = shoots_visible_to(request.user).get(pk=pk)
    return Response(ShootSerializer(shoot, context={"request": request}).data, status=code)


@extend_schema(tags=["shoots"])
class ShootList(generics.ListAPIView):
    """Shoots of requests you may see; filter by `person`, `request`, `state`, `date_from`, `date_to`.

    POST schedules a request: press head only. `crew` takes user ids (the role is
    the person's last role on a shoot, or "operator") or `{user, role}` objects.
    """

    serializer_class = ShootSerializer
    filterset_class = filters.ShootFilter
    pagination_class = filters.Pagination
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at"]

    def get_queryset(self) -> QuerySet[Shoot]:
        return shoots_visible_to(self.request.user).distinct()

    @extend_schema(
        request=ShootCreateSerializer,
        responses={201: ShootSerializer, **ERRORS, 409: CLASH},
    )
    def post(self, request: Request) -> Response:
        body = ShootCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        request_obj = selectors.access_request(request.user, data["request"])
        shoot = workflow.schedule(
            request_obj,
            by=request.user,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            crew=data["crew"],
            location=data.get("location", ""),
            kit=data.get("kit", []),
            notes=data["notes"],
        )
        return _shoot_response(request, shoot.pk, status.HTTP_201_CREATED)


@extend_schema(tags=["shoots"])
class ShootDetail(APIView):
    """One shoot. PATCH reschedules it (press head): window, place, crew or kit."""

    @extend_schema(responses={200: ShootSerializer, 404: ERRORS[404]})
    def get(self, request: Request, pk: int) -> Response:
        selectors.access_shoot(request.user, pk)
        return _shoot_response(request, pk)

    @extend_schema(
        request=ShootUpdateSerializer,
        responses={200: ShootSerializer, **ERRORS, 409: CLASH},
    )
    def patch(self, request: Request, pk: int) -> Response:
        shoot = selectors.access_shoot(request.user, pk)
        # Role first: a crew member learns "may not", not which field was wrong.
        permissions.require(permissions.can_triage(request.user))
        body = ShootUpdateSerializer(shoot, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        workflow.reschedule(
            shoot,
            by=request.user,
            starts_at=data.get("starts_at", shoot.starts_at),
            ends_at=data.get("ends_at", shoot.ends_at),
            location=data.get("location"),
            crew=data.get("crew"),
            kit=data.get("kit"),
            note=data.get("note", ""),
        )
        return _shoot_response(request, pk)


class ShootAction(APIView):
    """POST a small body: one workflow call on the shoot; answers with the shoot."""

    body: type[Serializer]

    def act(self, shoot: Shoot, user: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        shoot = selectors.access_shoot(request.user, pk)
        body = self.body(data=request.data)
        body.is_valid(raise_exception=True)
        self.act(shoot, request.user, body.validated_data)
        return _shoot_response(request, pk)


@extend_schema(
    tags=["shoots"],
    summary="planned shoot → cancelled; a note is required (press head)",
    request=ActionNoteSerializer,
    responses={200: ShootSerializer, **ERRORS},
)
class ShootCancel(ShootAction):
    """Cancel a planned shoot; its request goes back to accepted if no shoot is left."""

    body = ActionNoteSerializer

    def act(self, shoot: Shoot, user: Any, data: dict[str, Any]) -> None:
        workflow.cancel_shoot(shoot, by=user, note=data["note"])


@extend_schema(
    tags=["shoots"],
    summary="planned shoot → done; request scheduled → shot (the shoot's crew or press head)",
    request=ShootCompleteSerializer,
    responses={200: ShootSerializer, **ERRORS},
)
class ShootComplete(ShootAction):
    """Mark the shoot done, with what the crew wants to note about it."""

    body = ShootCompleteSerializer

    def act(self, shoot: Shoot, user: Any, data: dict[str, Any]) -> None:
        workflow.complete_shoot(shoot, by=user, log=data["notes"])


@extend_schema(
    tags=["shoots"],
    summary="attach raw footage (the shoot's crew or press head)",
    request=FootageAttachSerializer,
    responses={
        201: FootageAttachedSerializer,
        200: OpenApiResponse(FootageAttachedSerializer, description="already attached"),
        **ERRORS,
        409: OpenApiResponse(
            ErrorSerializer,
            description="the shoot was cancelled, or the same file (sha256) is already attached"
            " (`duplicate_of` names the media)",
        ),
    },
)
class ShootFootage(APIView):
    """Attach an uploaded media file to the shoot as raw footage."""

    def post(self, request: Request, pk: int) -> Response:
        shoot = selectors.access_shoot(request.user, pk)
        permissions.require(
            permissions.can_work_on_shoot(request.user, shoot),
            _("Only the shoot's crew or the press head can add footage."),
        )
        body = FootageAttachSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        asset = MediaAsset.objects.filter(pk=body.validated_data["media"]).first()
        if asset is None or not media.can_view_asset(request.user, asset):
            raise KadrError(_("No such media file."), field="media")
        if asset.sha256:
            twin = (
                shoot.footage.filter(media__sha256=asset.sha256)
                .exclude(media=asset)
                .select_related("media")
                .first()
            )
            if twin is not None:
                raise Conflict(
                    _("This file is already attached to the shoot as “%(name)s”.")
                    % {"name": twin.media.original_name or twin.media_id},
                    duplicate_of=str(twin.media_id),
                )
        existed = shoot.footage.filter(media=asset).exists()
        footage = workflow.attach_footage(shoot, by=request.user, asset=asset)
        footage = Footage.objects.select_related("media").get(pk=footage.pk)
        data = FootageAttachedSerializer(footage, context={"created": not existed}).data
        return Response(data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


urlpatterns = [
    path("shoots/", ShootList.as_view(), name="api-shoots"),
    path("shoots/<int:pk>/", ShootDetail.as_view(), name="api-shoot"),
    path("shoots/<int:pk>/cancel/", ShootCancel.as_view(), name="api-shoot-cancel"),
    path("shoots/<int:pk>/complete/", ShootComplete.as_view(), name="api-shoot-complete"),
    path("shoots/<int:pk>/footage/", ShootFootage.as_view(), name="api-shoot-footage"),
]
