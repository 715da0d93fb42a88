"""Every status change of the tracker, and nothing else writes a status.

One function per transition, each atomic: check the permission, compare-and-swap
the status (a lost race raises InvalidTransition → 409), write the audit row,
and enqueue side effects on commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crew import media, notifications, permissions, scheduling
from crew.exceptions import Conflict, InvalidTransition, KadrError
from crew.models import (
    OPEN_STATUSES,
    Assignment,
    Channel,
    Footage,
    Kit,
    NotificationKind,
    Publication,
    Shoot,
    ShootRequest,
    ShootState,
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


# --- Intake -----------------------------------------------------------------------------


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
        _audit(
            request,
            from_status=ShootState.PLANNED,
            to_status=ShootState.CANCELLED,
            by=by,
            note=note,
            subject=StatusChange.Subject.SHOOT,
            subject_id=shoot.pk,
        )


# --- Shoots -----------------------------------------------------------------------------


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
    _audit(
        request,
        from_status="",
        to_status=ShootState.PLANNED,
        by=by,
        subject=StatusChange.Subject.SHOOT,
        subject_id=shoot.pk,
        note=notes,
    )
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
    _audit(
        shoot.request,
        from_status=ShootState.PLANNED,
        to_status=ShootState.PLANNED,
        by=by,
        subject=StatusChange.Subject.SHOOT,
        subject_id=shoot.pk,
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
    _audit(
        request,
        from_status=ShootState.PLANNED,
        to_status=ShootState.CANCELLED,
        by=by,
        note=note,
        subject=StatusChange.Subject.SHOOT,
        subject_id=shoot.pk,
    )
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
    _audit(
        request,
        from_status=ShootState.PLANNED,
        to_status=ShootState.DONE,
        by=by,
        note=log,
        subject=StatusChange.Subject.SHOOT,
        subject_id=shoot.pk,
    )
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


# --- Cuts and review --------------------------------------------------------------------


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


# --- Publishing -------------------------------------------------------------------------


def _assign_slug(request: ShootRequest) -> None:
    """Give the public page an address once; a clash with another story gets a suffix."""
    if request.slug:
        return
    base = slugify(request.title, allow_unicode=True)[:200] or f"video-{request.pk}"
    slug, n = base, 1
    while ShootRequest.objects.filter(slug=slug).exclude(pk=request.pk).exists():
        n += 1
        slug = f"{base}-{n}"
    ShootRequest.objects.filter(pk=request.pk).update(slug=slug)
    request.slug = slug


def approved_version(request: ShootRequest) -> Version | None:
    return request.versions.filter(state=VersionState.APPROVED).order_by("-number").first()


@transaction.atomic
def publish(
    request: ShootRequest,
    *,
    by: Any,
    channel: Channel,
    url: str = "",
    published_at: datetime | None = None,
    planned_at: datetime | None = None,
    caption: str = "",
) -> Publication:
    """approved → published on the first channel; later channels add publications. Press head."""
    permissions.require(permissions.can_triage(by))
    request.refresh_from_db(fields=["status"])
    if request.status not in (Status.APPROVED, Status.PUBLISHED):
        raise InvalidTransition(
            _("Only an approved request can be published; this one is “%(status)s”.")
            % {"status": _label(request.status)},
            status=request.status,
        )
    version = approved_version(request)
    if version is None:
        raise Conflict(_("There is no approved cut to publish."), status=request.status)
    media.require_publishable(version)
    if published_at is None and planned_at is None:
        published_at = timezone.now()
    publication = Publication.objects.create(
        request=request,
        version=version,
        channel=channel,
        url=url,
        published_at=published_at,
        planned_at=planned_at,
        caption=caption,
        created_by=by,
    )
    if request.status == Status.APPROVED:
        _move(request, Status.APPROVED, Status.PUBLISHED, by=by, note=channel.name)
        _assign_slug(request)
        _notify(NotificationKind.REQUEST_PUBLISHED, request, by, publication_id=publication.pk)
    _audit(
        request,
        from_status="",
        to_status="live",
        by=by,
        subject=StatusChange.Subject.PUBLICATION,
        subject_id=publication.pk,
        note=f"{channel.name} {url}".strip(),
    )
    return publication


@transaction.atomic
def take_down(publication: Publication, *, by: Any, reason: str) -> None:
    """live publication → taken down, with a reason; the public pages stop showing it."""
    permissions.require(permissions.can_triage(by))
    reason = _require_note(reason)
    if (
        Publication.objects.filter(pk=publication.pk, taken_down_at__isnull=True).update(
            taken_down_at=timezone.now(), taken_down_by=by, takedown_reason=reason
        )
        != 1
    ):
        raise InvalidTransition(_("This publication was already taken down."), status="taken_down")
    publication.refresh_from_db()
    _audit(
        publication.request,
        from_status="live",
        to_status="taken_down",
        by=by,
        note=reason,
        subject=StatusChange.Subject.PUBLICATION,
        subject_id=publication.pk,
    )
