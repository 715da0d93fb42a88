"""Who hears about what. Called after commit by the workflow.

Creates in-app notifications for the right people (minus the actor and anyone
who opted out); e-mail goes out through a Celery task so a mail server that is
down delays mail, never a page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from crew import permissions
from crew.models import (
    Notification,
    NotificationKind,
    NotificationOptOut,
    ShootRequest,
)


def recipients(kind: str, request: ShootRequest, **extra: Any) -> QuerySet:
    User = get_user_model()
    active = User.objects.filter(is_active=True)
    if kind == NotificationKind.CUT_AWAITS_REVIEW:
        return active.filter(groups__name=permissions.PRESS)
    if kind in (NotificationKind.CHANGES_REQUESTED, NotificationKind.CUT_APPROVED):
        crew_ids = set(request.shoots.values_list("assignments__user_id", flat=True))
        crew_ids |= set(request.versions.values_list("uploaded_by_id", flat=True))
        return active.filter(pk__in=[i for i in crew_ids if i])
    if kind in (NotificationKind.REQUEST_SCHEDULED, NotificationKind.REQUEST_PUBLISHED):
        return (
            active.filter(pk=request.requested_by_id) if request.requested_by_id else active.none()
        )
    if kind == NotificationKind.SHOOT_CHANGED:
        return active.filter(assignments__shoot_id=int(extra.get("shoot_id") or 0))
    return active.none()


def notify(kind: str, *, request_id: int, actor_id: int | None = None, **extra: Any) -> None:
    request = ShootRequest.objects.filter(pk=request_id).first()
    if request is None:
        return
    opted_out = set(
        NotificationOptOut.objects.filter(
            kind=kind, medium=NotificationOptOut.Medium.IN_APP
        ).values_list("user_id", flat=True)
    )
    rows = [
        Notification(user=user, kind=kind, request=request, actor_id=actor_id)
        for user in recipients(kind, request, **extra).distinct()
        if user.pk != actor_id and user.pk not in opted_out
    ]
    Notification.objects.bulk_create(rows)
