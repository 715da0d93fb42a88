"""What every transition shares: compare-and-swap moves, the audit row, notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crew import notifications
from crew.exceptions import InvalidTransition, KadrError
from crew.models import (
    OPEN_STATUSES,
    ShootRequest,
    Status,
    StatusChange,
    Version,
    VersionState,
)

OPEN_STATES = OPEN_STATUSES
CUT_STATES = (Status.SHOT, Status.EDITING, Status.CHANGES_REQUESTED, Status.IN_REVIEW)


def _label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return status


def _audit(
    request: ShootRequest,
    *,
    from_status: str,
    to_status: str,
    by: Any,
    note: str = "",
    subject: str = StatusChange.Subject.REQUEST,
    subject_id: int | None = None,
) -> StatusChange:
    return StatusChange.objects.create(
        request=request,
        subject=subject,
        subject_id=subject_id if subject_id is not None else request.pk,
        from_status=from_status,
        to_status=to_status,
        actor=by if getattr(by, "is_authenticated", False) else None,
        note=note,
    )


def _audit_shoot(
    request: ShootRequest, shoot_id: int, from_state: str, to_state: str, *, by: Any, note: str
) -> StatusChange:
    """The audit row of a shoot's change (booked, moved, cancelled, done)."""
    return _audit(
        request,
        from_status=from_state,
        to_status=to_state,
        by=by,
        note=note,
        subject=StatusChange.Subject.SHOOT,
        subject_id=shoot_id,
    )


def _move(
    request: ShootRequest,
    from_states: str | Sequence[str],
    to: str,
    *,
    by: Any,
    note: str = "",
) -> None:
    """Compare-and-swap the request's status; exactly one concurrent writer wins."""
    allowed = [from_states] if isinstance(from_states, str) else list(from_states)
    # Decide on the stored status, not a possibly stale copy; the update below still
    # only succeeds if nobody moved it in between.
    current = ShootRequest.objects.values_list("status", flat=True).get(pk=request.pk)
    request.status = current
    if current not in allowed:
        raise InvalidTransition(
            _("Not possible while the request is “%(status)s”.") % {"status": _label(current)},
            status=current,
        )
    updated = ShootRequest.objects.filter(pk=request.pk, status=current).update(
        status=to, updated_at=timezone.now()
    )
    if updated != 1:
        request.refresh_from_db(fields=["status"])
        raise InvalidTransition(
            _("Somebody else changed the request first; it is now “%(status)s”.")
            % {"status": _label(request.status)},
            status=request.status,
        )
    request.status = to
    _audit(request, from_status=current, to_status=to, by=by, note=note)


def _version_step(
    version: Version,
    from_states: Sequence[str],
    to: str,
    *,
    by: Any,
    note: str = "",
    **fields: Any,
) -> None:
    """Compare-and-swap a cut's state (with the decision's fields) and audit it."""
    before = Version.objects.select_for_update().values_list("state", flat=True).get(pk=version.pk)
    _move_version(version, from_states, to, **fields)
    _audit(
        version.request,
        from_status=before,
        to_status=to,
        by=by,
        subject=StatusChange.Subject.VERSION,
        subject_id=version.pk,
        note=note,
    )


def _move_version(version: Version, from_states: Sequence[str], to: str, **fields: Any) -> None:
    updated = Version.objects.filter(pk=version.pk, state__in=list(from_states)).update(
        state=to, **fields
    )
    if updated != 1:
        version.refresh_from_db(fields=["state"])
        raise InvalidTransition(
            _("This cut is “%(state)s”; that is not possible now.")
            % {"state": VersionState(version.state).label},
            status=version.state,
        )
    version.state = to


def _require_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise KadrError(_("Please give a reason."), field="note")
    return note


def _notify(kind: str, request: ShootRequest, by: Any, **extra: Any) -> None:
    actor_id = by.pk if getattr(by, "is_authenticated", False) else None
    request_id = request.pk
    transaction.on_commit(
        lambda: notifications.notify(kind, request_id=request_id, actor_id=actor_id, **extra)
    )
