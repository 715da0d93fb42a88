"""The tracker's side of an upload (settings KADR_UPLOAD_TARGET_CHECK and
KADR_UPLOAD_COMPLETE_HOOK): who may upload where, and what a finished upload becomes.

An upload's target is {"shoot": id} (raw footage), {"request": id} (a new cut) or
{} (a media file the crew attaches later through the API).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from crew import permissions, selectors, workflow
from crew.exceptions import InvalidTransition, KadrError
from crew.models import Footage, Shoot, ShootRequest, ShootState, Status

TARGET_KEYS = ("shoot", "request")


def _target_key(target: dict[str, Any]) -> str | None:
    keys = [key for key in TARGET_KEYS if key in target]
    unknown = set(target) - set(TARGET_KEYS) - {"result"}
    if unknown or len(keys) > 1:
        raise KadrError(_("Upload to one shoot or one request."), field="target")
    return keys[0] if keys else None


def check_target(user: Any, purpose: str, target: dict[str, Any]) -> None:
    """Refuse up front: 404 for a shoot or request the user cannot see, 403 for a role
    that may not attach there, 409 when its state does not allow it."""
    key = _target_key(target)
    if key == "shoot":
        shoot = selectors.access_shoot(user, target["shoot"])
        permissions.require(
            permissions.can_work_on_shoot(user, shoot),
            _("Only the shoot's crew or the press head can add its footage."),
        )
        if shoot.state == ShootState.CANCELLED:
            raise InvalidTransition(_("The shoot was cancelled."), status=shoot.state)
    elif key == "request":
        request = selectors.access_request(user, target["request"])
        permissions.require(permissions.can_add_version(user, request))
        if request.status not in (Status.SHOT, Status.EDITING, Status.CHANGES_REQUESTED):
            raise InvalidTransition(
                _("A cut cannot be added while the request is “%(status)s”.")
                % {"status": Status(request.status).label},
                status=request.status,
            )
    else:
        permissions.require(
            permissions.is_crew(user), _("Only the press service can upload media.")
        )


def duplicate_in_shoot(
    shoot: Shoot, *, sha256: str, size: int, exclude: Any = None
) -> Footage | None:
    """The shoot's footage with exactly these bytes, if any."""
    rows = Footage.objects.filter(shoot=shoot, media__sha256=sha256, media__size=size)
    if exclude is not None:
        rows = rows.exclude(media=exclude)
    return rows.select_related("media").first()


def on_upload_complete(upload: Any, asset: Any) -> dict[str, Any]:
    """Attach the finished upload where it was meant to go (through the workflow)."""
    key = _target_key(upload.target)
    if key == "shoot":
        shoot = Shoot.objects.get(pk=upload.target["shoot"])
        if asset.sha256:
            same = duplicate_in_shoot(shoot, sha256=asset.sha256, size=asset.size, exclude=asset)
            if same is not None:
                return {
                    "duplicate_of": str(same.media_id),
                    "detail": _("This file is already attached to the shoot as “%(name)s”.")
                    % {"name": same.media.original_name},
                }
        footage = workflow.attach_footage(shoot, by=upload.user, asset=asset)
        return {"shoot": shoot.pk, "footage": footage.pk}
    if key == "request":
        request = ShootRequest.objects.get(pk=upload.target["request"])
        version = workflow.add_version(request, by=upload.user, asset=asset)
        return {"request": request.pk, "version": version.pk, "number": version.number}
    return {}
