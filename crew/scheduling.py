"""Who and what is booked when: clash detection for shoots (people and kit).

Two shoots clash when their windows, each widened by the travel buffer, overlap;
windows that merely touch after the buffer do not clash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from crew.exceptions import ScheduleConflict
from crew.models import Assignment, Kit, Shoot, ShootState


def travel_buffer() -> timedelta:
    return timedelta(minutes=settings.KADR_TRAVEL_BUFFER_MINUTES)


def find_conflicts(
    starts_at: datetime,
    ends_at: datetime,
    *,
    users: Sequence[Any] = (),
    kit: Sequence[Kit] = (),
    exclude: Shoot | None = None,
) -> list[dict[str, Any]]:
    """Every (person or kit item, other shoot) pair that clashes with the window."""
    buffer = travel_buffer()
    window = Shoot.objects.filter(
        state=ShootState.PLANNED,
        starts_at__lt=ends_at + buffer,
        ends_at__gt=starts_at - buffer,
    )
    if exclude is not None:
        window = window.exclude(pk=exclude.pk)
    clashes: list[dict[str, Any]] = []
    user_ids = [u.pk for u in users]
    if user_ids:
        rows = (
            Assignment.objects.filter(shoot__in=window, user_id__in=user_ids)
            .select_related("user", "shoot", "shoot__request")
            .order_by("shoot__starts_at")
        )
        for row in rows:
            clashes.append(
                _clash(
                    "person", row.user.pk, row.user.get_full_name() or row.user.username, row.shoot
                )
            )
    kit_ids = [k.pk for k in kit]
    if kit_ids:
        for shoot in (
            window.filter(kit__in=kit_ids)
            .prefetch_related("kit")
            .select_related("request")
            .distinct()
        ):
            for item in shoot.kit.all():
                if item.pk in kit_ids:
                    clashes.append(_clash("kit", item.pk, item.name, shoot))
    return clashes


def _clash(kind: str, ident: int, name: str, shoot: Shoot) -> dict[str, Any]:
    starts = timezone.localtime(shoot.starts_at)
    ends = timezone.localtime(shoot.ends_at)
    return {
        "kind": kind,
        "id": ident,
        "name": name,
        "shoot": shoot.pk,
        "request": shoot.request_id,
        "request_title": shoot.request.title,
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "message": _("%(name)s is booked for “%(title)s” on %(start)s–%(end)s.")
        % {
            "name": name,
            "title": shoot.request.title,
            "start": starts.strftime("%d.%m.%Y %H:%M"),
            "end": ends.strftime("%H:%M"),
        },
    }


def raise_on_conflicts(
    starts_at: datetime,
    ends_at: datetime,
    *,
    users: Sequence[Any] = (),
    kit: Sequence[Kit] = (),
    exclude: Shoot | None = None,
) -> None:
    # Lock the people and kit involved so two concurrent bookings serialise here.
    from django.contrib.auth import get_user_model

    list(get_user_model().objects.select_for_update().filter(pk__in=[u.pk for u in users]))
    list(Kit.objects.select_for_update().filter(pk__in=[k.pk for k in kit]))
    clashes = find_conflicts(starts_at, ends_at, users=users, kit=kit, exclude=exclude)
    if clashes:
        raise ScheduleConflict(clashes)
