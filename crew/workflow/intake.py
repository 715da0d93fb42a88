"""Requests come in: submitted, accepted, declined or cancelled."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from crew import permissions
from crew.models import (
    Channel,
    Shoot,
    ShootRequest,
    ShootState,
    Status,
)
from crew.workflow.core import (
    OPEN_STATES,
    _audit,
    _audit_shoot,
    _move,
    _require_note,
)


@transaction.atomic
def submit_request(*, by: Any, channels: Iterable[Channel] = (), **fields: Any) -> ShootRequest:
    """(new) → submitted. A requester for their own department, or the press head."""
    department = fields.get("department")
    permissions.require(permissions.can_create_request(by, department.pk if department else None))
    fields.pop("status", None)
    if permissions.is_requester(by) or "requested_by" not in fields:
        fields["requested_by"] = by
    request = ShootRequest.objects.create(**fields)
    request.target_channels.set(list(channels))
    _audit(request, from_status="", to_status=Status.SUBMITTED, by=by)
    return request


@transaction.atomic
def accept(request: ShootRequest, *, by: Any, note: str = "") -> None:
    """submitted → accepted. Press head."""
    permissions.require(permissions.can_triage(by))
    _move(request, Status.SUBMITTED, Status.ACCEPTED, by=by, note=note)


@transaction.atomic
def decline(request: ShootRequest, *, by: Any, note: str) -> None:
    """submitted → declined, with a reason. Press head."""
    permissions.require(permissions.can_triage(by))
    _move(request, Status.SUBMITTED, Status.DECLINED, by=by, note=_require_note(note))


@transaction.atomic
def cancel(request: ShootRequest, *, by: Any, note: str) -> None:
    """any state before published → cancelled, with a reason. Press head."""
    permissions.require(permissions.can_triage(by))
    note = _require_note(note)
    _move(request, OPEN_STATES, Status.CANCELLED, by=by, note=note)
    for shoot in request.shoots.filter(state=ShootState.PLANNED):
        Shoot.objects.filter(pk=shoot.pk).update(state=ShootState.CANCELLED)
        _audit_shoot(request, shoot.pk, ShootState.PLANNED, ShootState.CANCELLED, by=by, note=note)
