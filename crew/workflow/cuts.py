"""Cuts and review: uploaded, sent for review, approved or sent back for changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crew import media, permissions
from crew.exceptions import Conflict, InvalidTransition
from crew.models import (
    NotificationKind,
    ShootRequest,
    Status,
    StatusChange,
    Version,
    VersionState,
)
from crew.workflow.core import (
    _audit,
    _label,
    _move,
    _notify,
    _require_note,
    _version_step,
)


@transaction.atomic
def add_version(request: ShootRequest, *, by: Any, asset: Any, notes: str = "") -> Version:
    """A new cut; the first moves the request shot → editing. Crew or press head."""
    permissions.require(permissions.can_add_version(by, request))
    request = ShootRequest.objects.select_for_update().get(pk=request.pk)
    if request.status not in (Status.SHOT, Status.EDITING, Status.CHANGES_REQUESTED):
        raise InvalidTransition(
            _("A cut cannot be added while the request is “%(status)s”.")
            % {"status": _label(request.status)},
            status=request.status,
        )
    media.require_cut_material(asset)
    number = (request.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = Version.objects.create(
        request=request, number=number, media=asset, uploaded_by=by, notes=notes
    )
    # Earlier cuts that were never decided are replaced by this one.
    request.versions.exclude(pk=version.pk).filter(
        state__in=[VersionState.DRAFT, VersionState.CHANGES_REQUESTED]
    ).update(state=VersionState.SUPERSEDED)
    _audit(
        request,
        from_status="",
        to_status=VersionState.DRAFT,
        by=by,
        subject=StatusChange.Subject.VERSION,
        subject_id=version.pk,
        note=_("Cut v%(n)s uploaded.") % {"n": number},
    )
    if request.status == Status.SHOT:
        _move(request, Status.SHOT, Status.EDITING, by=by)
    media.start_processing(asset, media.REVIEW)
    return version


def _require_latest(version: Version) -> None:
    latest = Version.objects.filter(request_id=version.request_id).order_by("-number").first()
    if latest is not None and latest.pk != version.pk:
        raise Conflict(
            _("Cut v%(n)s was replaced by v%(m)s.") % {"n": version.number, "m": latest.number},
            status=version.state,
        )


@transaction.atomic
def submit_version(version: Version, *, by: Any, note: str = "") -> None:
    """editing | changes requested → in review, once the cut's media is ready. Crew."""
    permissions.require(permissions.can_submit_version(by, version))
    _require_latest(version)
    problem = media.not_ready_reason(version.media)
    if problem:
        raise Conflict(problem, status=version.request.status)
    _move(
        version.request,
        (Status.EDITING, Status.CHANGES_REQUESTED),
        Status.IN_REVIEW,
        by=by,
        note=note,
    )
    _version_step(
        version,
        [VersionState.DRAFT, VersionState.CHANGES_REQUESTED],
        VersionState.IN_REVIEW,
        by=by,
        note=note,
        submitted_at=timezone.now(),
    )
    _notify(NotificationKind.CUT_AWAITS_REVIEW, version.request, by, version_id=version.pk)


@transaction.atomic
def approve(version: Version, *, by: Any, note: str = "") -> None:
    """in review → approved. Press head only; never the cut's uploader."""
    permissions.require(
        permissions.can_approve(by, version),
        _("You cannot approve a cut you uploaded yourself.") if permissions.is_press(by) else None,
    )
    _require_latest(version)
    sha256 = media.verified_sha256(version.media)  # Conflict when the original is missing
    _move(version.request, Status.IN_REVIEW, Status.APPROVED, by=by, note=note)
    _version_step(
        version,
        [VersionState.IN_REVIEW],
        VersionState.APPROVED,
        by=by,
        note=note,
        approved_sha256=sha256,
        decided_at=timezone.now(),
        decided_by=by,
    )
    media.start_processing(version.media, media.PUBLISH)
    _notify(NotificationKind.CUT_APPROVED, version.request, by, version_id=version.pk)


@transaction.atomic
def request_changes(version: Version, *, by: Any, note: str) -> None:
    """in review → changes requested, with a note. Press head only; never the uploader."""
    permissions.require(permissions.can_approve(by, version))
    note = _require_note(note)
    _require_latest(version)
    _move(version.request, Status.IN_REVIEW, Status.CHANGES_REQUESTED, by=by, note=note)
    _version_step(
        version,
        [VersionState.IN_REVIEW],
        VersionState.CHANGES_REQUESTED,
        by=by,
        note=note,
        decided_at=timezone.now(),
        decided_by=by,
    )
    _notify(NotificationKind.CHANGES_REQUESTED, version.request, by, version_id=version.pk)
