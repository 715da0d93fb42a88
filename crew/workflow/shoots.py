"""Shoots: booked without clashes, moved, cancelled, logged as done, footage attached."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crew import media, permissions, scheduling
from crew.exceptions import InvalidTransition, KadrError
from crew.models import (
    Assignment,
    Footage,
    Kit,
    NotificationKind,
    Shoot,
    ShootRequest,
    ShootState,
    Status,
)
from crew.workflow.core import (
    _audit_shoot,
    _label,
    _move,
    _notify,
    _require_note,
)


@dataclass(frozen=True)
class CrewMember:
    user: Any
    role: str


def _validate_window(starts_at: datetime, ends_at: datetime, *, allow_past: bool = False) -> None:
    if ends_at <= starts_at:
        raise KadrError(_("The end must be after the start."), field="ends_at")
    if not allow_past and starts_at < timezone.now():
        raise KadrError(_("A new shoot cannot start in the past."), field="starts_at")


def _check_crew(crew: Sequence[CrewMember]) -> None:
    if not crew:
        raise KadrError(_("Assign at least one crew member."), field="crew")
    for member in crew:
        if not permissions.is_crew(member.user):
            raise KadrError(
                _("%(name)s is not a member of the crew.")
                % {"name": member.user.get_full_name() or member.user.get_username()},
                field="crew",
            )
        if member.role not in Assignment.Role.values:
            raise KadrError(_("Unknown crew role."), field="crew")


@transaction.atomic
def schedule(
    request: ShootRequest,
    *,
    by: Any,
    starts_at: datetime,
    ends_at: datetime,
    crew: Sequence[CrewMember],
    location: str = "",
    kit: Sequence[Kit] = (),
    notes: str = "",
) -> Shoot:
    """accepted → scheduled, creating a shoot (a further shoot keeps the status). Press head."""
    permissions.require(permissions.can_triage(by))
    _validate_window(starts_at, ends_at)
    _check_crew(crew)
    if len({m.user.pk for m in crew}) != len(crew):
        raise KadrError(_("A person is listed twice."), field="crew")
    scheduling.raise_on_conflicts(starts_at, ends_at, users=[m.user for m in crew], kit=list(kit))
    request.refresh_from_db(fields=["status"])
    if request.status == Status.ACCEPTED:
        _move(request, Status.ACCEPTED, Status.SCHEDULED, by=by)
    elif request.status not in (Status.SCHEDULED, Status.SHOT, Status.EDITING):
        raise InvalidTransition(
            _("Not possible while the request is “%(status)s”.")
            % {"status": _label(request.status)},
            status=request.status,
        )
    shoot = Shoot.objects.create(
        request=request,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location or request.location,
        notes=notes,
        created_by=by,
    )
    Assignment.objects.bulk_create(
        [Assignment(shoot=shoot, user=m.user, role=m.role) for m in crew]
    )
    shoot.kit.set(list(kit))
    _audit_shoot(request, shoot.pk, "", ShootState.PLANNED, by=by, note=notes)
    _notify(NotificationKind.REQUEST_SCHEDULED, request, by, shoot_id=shoot.pk)
    return shoot


@transaction.atomic
def reschedule(
    shoot: Shoot,
    *,
    by: Any,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None = None,
    crew: Sequence[CrewMember] | None = None,
    kit: Sequence[Kit] | None = None,
    note: str = "",
) -> Shoot:
    """planned shoot: new window, place, crew or kit. Press head; the crew is told."""
    permissions.require(permissions.can_triage(by))
    # Decide on the stored state under a row lock, not a possibly stale copy: a shoot
    # somebody cancelled or completed meanwhile must not be moved.
    current = Shoot.objects.select_for_update().values_list("state", flat=True).get(pk=shoot.pk)
    if current != ShootState.PLANNED:
        raise InvalidTransition(_("Only a planned shoot can be rescheduled."), status=current)
    _validate_window(starts_at, ends_at)
    users = [m.user for m in crew] if crew is not None else list(shoot.crew.all())
    if crew is not None:
        _check_crew(crew)
        if len({m.user.pk for m in crew}) != len(crew):
            raise KadrError(_("A person is listed twice."), field="crew")
    kit_items = list(kit) if kit is not None else list(shoot.kit.all())
    scheduling.raise_on_conflicts(starts_at, ends_at, users=users, kit=kit_items, exclude=shoot)
    before = timezone.localtime(shoot.starts_at)
    shoot.starts_at, shoot.ends_at = starts_at, ends_at
    if location is not None:
        shoot.location = location
    shoot.save(update_fields=["starts_at", "ends_at", "location"])
    removed_ids: list[int] = []
    if crew is not None:
        kept = {m.user.pk for m in crew}
        removed_ids = sorted(set(shoot.assignments.values_list("user_id", flat=True)) - kept)
        shoot.assignments.all().delete()
        Assignment.objects.bulk_create(
            [Assignment(shoot=shoot, user=m.user, role=m.role) for m in crew]
        )
    if kit is not None:
        shoot.kit.set(kit_items)
    text = _("Moved from %(before)s.") % {"before": before.strftime("%d.%m.%Y %H:%M")}
    _audit_shoot(
        shoot.request,
        shoot.pk,
        ShootState.PLANNED,
        ShootState.PLANNED,
        by=by,
        note=f"{text} {note}".strip(),
    )
    _notify(
        NotificationKind.SHOOT_CHANGED,
        shoot.request,
        by,
        shoot_id=shoot.pk,
        removed_ids=removed_ids,
    )
    return shoot


@transaction.atomic
def cancel_shoot(shoot: Shoot, *, by: Any, note: str) -> None:
    """planned shoot → cancelled; the request goes back to accepted if no shoot is left."""
    permissions.require(permissions.can_triage(by))
    note = _require_note(note)
    if (
        Shoot.objects.filter(pk=shoot.pk, state=ShootState.PLANNED).update(
            state=ShootState.CANCELLED
        )
        != 1
    ):
        raise InvalidTransition(_("Only a planned shoot can be cancelled."), status=shoot.state)
    shoot.state = ShootState.CANCELLED
    request = ShootRequest.objects.get(pk=shoot.request_id)
    _audit_shoot(request, shoot.pk, ShootState.PLANNED, ShootState.CANCELLED, by=by, note=note)
    if (
        request.status == Status.SCHEDULED
        and not request.shoots.exclude(state=ShootState.CANCELLED).exists()
    ):
        _move(request, Status.SCHEDULED, Status.ACCEPTED, by=by, note=note)
    _notify(NotificationKind.SHOOT_CHANGED, request, by, shoot_id=shoot.pk)


@transaction.atomic
def complete_shoot(shoot: Shoot, *, by: Any, log: str = "") -> None:
    """planned shoot → done; request scheduled → shot. The shoot's crew or the press head."""
    permissions.require(
        permissions.can_work_on_shoot(by, shoot),
        _("Only the shoot's crew or the press head can complete it."),
    )
    if (
        Shoot.objects.filter(pk=shoot.pk, state=ShootState.PLANNED).update(
            state=ShootState.DONE, log=log, completed_at=timezone.now()
        )
        != 1
    ):
        shoot.refresh_from_db(fields=["state"])
        raise InvalidTransition(
            _("This shoot is already “%(state)s”.") % {"state": ShootState(shoot.state).label},
            status=shoot.state,
        )
    shoot.state, shoot.log = ShootState.DONE, log
    request = ShootRequest.objects.get(pk=shoot.request_id)
    _audit_shoot(request, shoot.pk, ShootState.PLANNED, ShootState.DONE, by=by, note=log)
    if request.status == Status.SCHEDULED:
        _move(request, Status.SCHEDULED, Status.SHOT, by=by, note=log)


@transaction.atomic
def attach_footage(shoot: Shoot, *, by: Any, asset: Any) -> Footage:
    """Raw footage joins a shoot (no status change); its preview is processed for footage."""
    permissions.require(permissions.can_work_on_shoot(by, shoot))
    if shoot.state == ShootState.CANCELLED:
        raise InvalidTransition(_("The shoot was cancelled."), status=shoot.state)
    footage, created = Footage.objects.get_or_create(
        shoot=shoot, media=asset, defaults={"added_by": by}
    )
    if created:
        media.start_processing(asset, media.FOOTAGE)
    return footage
