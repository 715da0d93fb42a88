"""Publishing an approved cut on the city's channels, and taking it down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crew import media, permissions
from crew.exceptions import Conflict, InvalidTransition
from crew.models import (
    Channel,
    NotificationKind,
    Publication,
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
)


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
