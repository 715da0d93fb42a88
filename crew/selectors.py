"""Reads: querysets already filtered by what the user may see, with their joins."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crew import permissions
from crew.models import Assignment, Shoot, ShootRequest, ShootState, Status, Version


def requests_visible_to(user: Any) -> QuerySet[ShootRequest]:
    qs = ShootRequest.objects.all()
    if permissions.is_crew(user):
        return qs
    if permissions.is_requester(user):
        return qs.filter(
            Q(department_id=permissions.department_id_of(user)) | Q(status=Status.PUBLISHED)
        )
    return qs.none()


def requests_for_board(user: Any) -> QuerySet[ShootRequest]:
    """Cards: the request plus its next shoot time and assignees, in a fixed number of queries."""
    now = timezone.now()
    return (
        requests_visible_to(user)
        .select_related("department", "campaign", "requested_by")
        .annotate(
            next_shoot_at=Min(
                "shoots__starts_at",
                filter=Q(shoots__state=ShootState.PLANNED, shoots__starts_at__gte=now),
            ),
            version_count=Count("versions", distinct=True),
            last_change_at=Max("history__at"),
        )
        .prefetch_related(
            Prefetch(
                "shoots",
                queryset=Shoot.objects.filter(state=ShootState.PLANNED).prefetch_related(
                    Prefetch("assignments", queryset=Assignment.objects.select_related("user"))
                ),
                to_attr="planned_shoots",
            )
        )
    )


def access_request(user: Any, pk: Any) -> ShootRequest:
    """The request, or 404 for both "missing" and "not yours to see"."""
    try:
        return requests_visible_to(user).select_related("department", "campaign").get(pk=pk)
    except (ShootRequest.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such request.")) from None


def access_shoot(user: Any, pk: Any) -> Shoot:
    try:
        return Shoot.objects.select_related("request", "request__department").get(
            pk=pk, request__in=requests_visible_to(user)
        )
    except (Shoot.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such shoot.")) from None


def access_version(user: Any, pk: Any) -> Version:
    try:
        return Version.objects.select_related("request", "media", "uploaded_by").get(
            pk=pk, request__in=requests_visible_to(user)
        )
    except (Version.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such cut.")) from None


def history_of(request: ShootRequest) -> QuerySet:
    return request.history.select_related("actor").order_by("at", "id")
