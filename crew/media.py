"""The tracker's small interface to the media pipeline.

The tracker never reaches into media_pipeline's internals: it asks this module
whether an asset is ready, starts processing for a purpose, and answers the
pipeline's question "may this user see this asset?" (settings.KADR_MEDIA_ACCESS).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from crew import permissions
from crew.exceptions import Conflict, KadrError
from crew.models import Publication, Shoot, Status, Version
from media_pipeline import services
from media_pipeline.models import AssetKind, AssetStatus, MediaAsset, Purpose

FOOTAGE = Purpose.FOOTAGE
REVIEW = Purpose.REVIEW
PUBLISH = Purpose.PUBLISH


def start_processing(asset: MediaAsset, purpose: str) -> None:
    """Queue the purpose's job for the asset once the transaction commits."""
    services.request_processing(asset, purpose)


def on_media_failed(asset: MediaAsset, purpose: str, reason: str) -> None:
    """settings.KADR_MEDIA_FAILED_HOOK: a purpose's job failed for good.

    Whoever added the file hears of it (a cut's editor, a clip's operator), and for a
    cut the press head too; the request is found through the cut or the shoot. Sent
    after commit, so a rolled-back failure tells nobody.
    """
    from crew import notifications
    from crew.models import Footage, NotificationKind

    calls: list[dict[str, Any]] = []
    common = {"reason": reason, "purpose": purpose, "file_name": asset.original_name}
    for version in Version.objects.filter(media=asset).only("pk", "request_id", "uploaded_by_id"):
        calls.append(
            {
                "request_id": version.request_id,
                "user_id": version.uploaded_by_id or asset.uploaded_by_id,
                "version_id": version.pk,
                **common,
            }
        )
    for footage in Footage.objects.filter(media=asset).select_related("shoot"):
        calls.append(
            {
                "request_id": footage.shoot.request_id,
                "user_id": footage.added_by_id or asset.uploaded_by_id,
                "shoot_id": footage.shoot_id,
                **common,
            }
        )

    def send() -> None:
        for extra in calls:
            notifications.notify(NotificationKind.MEDIA_FAILED, **extra)

    transaction.on_commit(send)


def require_cut_material(asset: MediaAsset) -> None:
    """A cut must be a video; audio-only files are footage, not cuts."""
    if asset.status == AssetStatus.FAILED:
        raise KadrError(asset.error or _("This file could not be processed."), field="media")
    if asset.kind == AssetKind.AUDIO:
        raise KadrError(
            _("An audio-only file cannot be a cut; attach it to a shoot."), field="media"
        )


def not_ready_reason(asset: MediaAsset) -> str:
    """Why the asset cannot be reviewed yet, or "" when it can."""
    if asset.status == AssetStatus.READY:
        return ""
    if asset.status == AssetStatus.FAILED:
        return _("The cut's media failed to process: %(error)s") % {"error": asset.error}
    return _("The cut's media is still being processed (%(progress)s%%).") % {
        "progress": asset.progress
    }


def verified_sha256(asset: MediaAsset) -> str:
    """The original's checksum, after checking that the original is still in storage."""
    if not services.original_exists(asset):
        raise Conflict(_("The cut's original file is missing from storage."), field="media")
    if not asset.sha256:
        raise Conflict(_("The cut's checksum is not computed yet; try again shortly."))
    return asset.sha256


def require_publishable(version: Version) -> None:
    """The approved file is unchanged, and the publishing renditions exist."""
    asset = version.media
    if not services.original_exists(asset):
        raise Conflict(_("The approved cut's original file is missing from storage."))
    if version.approved_sha256 and not services.original_unchanged(asset, version.approved_sha256):
        raise Conflict(_("The stored file no longer matches the approved cut."))
    problem = services.purpose_not_ready_reason(asset, PUBLISH)
    if problem:
        raise Conflict(problem)


def can_view_asset(user: Any, asset: MediaAsset) -> bool:
    """The press service sees everything; a requester sees their department's media."""
    if permissions.can_see_all_media(user):
        return True
    if asset.uploaded_by_id is not None and asset.uploaded_by_id == getattr(user, "pk", None):
        return True
    department_id = permissions.department_id_of(user)
    if department_id is None:
        return False
    own = Q(request__department_id=department_id) | Q(
        request__status=Status.PUBLISHED, publications__taken_down_at__isnull=True
    )
    if Version.objects.filter(own, media=asset).exists():
        return True
    return asset.footage.filter(shoot__request__department_id=department_id).exists()


def can_view_all_footage(user: Any, shoot: Shoot) -> bool:
    """can_view_asset for every clip of the shoot at once (no query per clip): the press
    service and crew, and the department that asked for the shoot (its footage)."""
    if permissions.can_see_all_media(user):
        return True
    department_id = permissions.department_id_of(user)
    return department_id is not None and department_id == shoot.request.department_id


def is_publicly_published(asset: MediaAsset) -> bool:
    """Published and not taken down: the public pages may show it."""
    return Publication.objects.filter(
        version__media=asset, taken_down_at__isnull=True, request__status=Status.PUBLISHED
    ).exists()
