"""Who may do what: pure predicates over (user, object), no HTTP.

Roles are Django groups. The press head may do everything the crew may, and
triage, schedule, approve and publish; the crew sees everything and works on
shoots and cuts; a requester works for one department and sees only its
requests (and anything already published).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from crew.exceptions import Forbidden
from crew.models import CLOSED_STATUSES, Shoot, ShootRequest, Status, Version

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

PRESS = "press"
CREW = "crew"
REQUESTER = "requester"
ROLE_GROUPS = (PRESS, CREW, REQUESTER)


def _groups(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_kadr_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._kadr_groups = cached
    return cached


def role_of(user: Any) -> str | None:
    groups = _groups(user)
    for role in ROLE_GROUPS:
        if role in groups:
            return role
    return None


def is_press(user: Any) -> bool:
    return PRESS in _groups(user)


def is_crew(user: Any) -> bool:
    """Crew or press head: the press service's own people."""
    return bool(_groups(user) & {PRESS, CREW})


def is_requester(user: Any) -> bool:
    return role_of(user) == REQUESTER


def department_id_of(user: Any) -> int | None:
    if not getattr(user, "is_authenticated", False):
        return None
    profile = getattr(user, "profile", None)
    return profile.department_id if profile else None


def can_view_request(user: Any, request: ShootRequest) -> bool:
    if is_crew(user):
        return True
    if is_requester(user):
        return request.department_id == department_id_of(user) or request.status == Status.PUBLISHED
    return False


def can_create_request(user: Any, department_id: int | None) -> bool:
    if is_press(user):
        return True
    return (
        is_requester(user) and department_id is not None and department_id == department_id_of(user)
    )


def can_edit_request(user: Any, request: ShootRequest) -> bool:
    if request.status in CLOSED_STATUSES:
        return False
    if is_press(user):
        return True
    return (
        is_requester(user)
        and request.department_id == department_id_of(user)
        and request.status == Status.SUBMITTED
    )


def can_triage(user: Any) -> bool:
    """Accept, decline, schedule, cancel, publish: the press head's decisions."""
    return is_press(user)


def can_comment(user: Any, request: ShootRequest) -> bool:
    if is_crew(user):
        return True
    return is_requester(user) and request.department_id == department_id_of(user)


def is_assigned(user: Any, shoot: Shoot) -> bool:
    return shoot.assignments.filter(user_id=user.pk).exists()


def can_work_on_shoot(user: Any, shoot: Shoot) -> bool:
    """Complete a shoot, attach its footage: its crew or the press head."""
    return is_press(user) or (is_crew(user) and is_assigned(user, shoot))


def can_add_version(user: Any, request: ShootRequest) -> bool:
    return is_crew(user)


def can_submit_version(user: Any, version: Version) -> bool:
    return is_crew(user)


def can_approve(user: Any, version: Version) -> bool:
    """Press head only, and never for a cut they uploaded themselves."""
    return is_press(user) and version.uploaded_by_id != user.pk


def can_see_all_media(user: Any) -> bool:
    return is_crew(user)


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise Forbidden(message or _("Your role may not do this."))
