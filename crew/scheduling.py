"""Who and what is booked when: clash detection for shoots (people and kit).

Two planned shoots clash when they share a person or a kit item and the gap
between them is shorter than the travel buffer (KADR_TRAVEL_BUFFER_MINUTES):
one ending at 10:00 and the next starting at 10:20 clash with the default 30
minutes, one starting at 10:30 exactly does not (touching is not overlapping).
Cancelled and done shoots never block.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
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
    # The other shoot must end at least `buffer` before we start and start at least
    # `buffer` after we end; strict inequalities let windows touch.
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
            name = row.user.get_full_name() or row.user.get_username()
            clashes.append(_clash("person", row.user.pk, name, row.shoot))
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
    # A shoot running past midnight shows its end date too.
    end_format = "%H:%M" if ends.date() == starts.date() else "%d.%m.%Y %H:%M"
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
            "end": ends.strftime(end_format),
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
    """Raise ScheduleConflict listing every clash; call inside the booking's transaction.

    The rows of the people and kit involved are locked first (users, then kit, each
    in primary-key order so two bookings never wait on each other crosswise): two
    press heads booking the same operator at once serialise here, and the second
    sees the first's shoot. SQLite has no row locks but serialises writers anyway.
    """
    user_ids = sorted({u.pk for u in users})
    kit_ids = sorted({k.pk for k in kit})
    list(get_user_model().objects.select_for_update().filter(pk__in=user_ids).order_by("pk"))
    list(Kit.objects.select_for_update().filter(pk__in=kit_ids).order_by("pk"))
    clashes = find_conflicts(starts_at, ends_at, users=users, kit=kit, exclude=exclude)
    if clashes:
        raise ScheduleConflict(clashes)
