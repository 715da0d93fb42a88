"""Template helpers shared by every Kadr page: status badges, ages, durations, timecodes.

`{% load kadr %}` then e.g. `{% status_badge request.status %}`, `{{ request.created_at|age }}`,
`{{ asset.duration|duration }}`, `{{ comment.timecode|timecode }}`, `{{ user|person }}`.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from crew.models import (
    CLOSED_STATUSES,
    ShootRequest,
    ShootState,
    Status,
    StatusChange,
    VersionState,
)

register = template.Library()

CLOSED = CLOSED_STATUSES

_PUBLICATION_LABELS = {
    "live": gettext_lazy("live"),
    "taken_down": gettext_lazy("taken down"),
}


def _choice_label(choices: Any, value: str) -> str | None:
    try:
        return str(choices(value).label)
    except ValueError:
        return None


@register.filter
def status_label(value: str | None, subject: str = StatusChange.Subject.REQUEST) -> str:
    """The translated label of a request, shoot, cut or publication state."""
    if not value:
        return ""
    order: tuple[Any, ...] = (Status, VersionState, ShootState)
    if subject == StatusChange.Subject.SHOOT:
        order = (ShootState, Status, VersionState)
    elif subject == StatusChange.Subject.VERSION:
        order = (VersionState, Status, ShootState)
    for choices in order:
        label = _choice_label(choices, value)
        if label:
            return label
    if value in _PUBLICATION_LABELS:
        return str(_PUBLICATION_LABELS[value])
    return value


@register.simple_tag
def status_badge(value: str | None, subject: str = StatusChange.Subject.REQUEST) -> str:
    """<span class="badge status-accepted">accepted</span>; colours live in app.css."""
    if not value:
        return ""
    return format_html(
        '<span class="badge status-{}">{}</span>', value, status_label(value, subject)
    )


@register.filter
def age(value: datetime | date | None) -> str:
    """How long ago, compactly: "5 min", "3 h", "2 d", "6 wk"."""
    if not value:
        return ""
    now = timezone.now()
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time(), tzinfo=now.tzinfo)
    seconds = max(0, int((now - value).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 1:
        return _("just now")
    if hours < 1:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    if days < 1:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    if days < 28:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    weeks = days // 7
    return ngettext("%(n)d week", "%(n)d weeks", weeks) % {"n": weeks}


@register.filter
def duration(seconds: float | int | None) -> str:
    """Seconds as 1:02:03 or 2:03 (media durations)."""
    if seconds is None or seconds == "":
        return ""
    total = int(math.floor(float(seconds) + 0.5))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@register.filter
def timecode(seconds: float | int | None) -> str:
    """Seconds as a review timecode, 01:02.5 or 1:01:02.5 (tenths kept)."""
    if seconds is None or seconds == "":
        return ""
    tenths = int(round(float(seconds) * 10))
    whole, frac = divmod(tenths, 10)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    head = f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
    return f"{head}.{frac}"


@register.filter
def person(user: Any) -> str:
    """A person's full name, or their login when no name is set."""
    if not user:
        return _("system")
    return user.get_full_name() or user.get_username()


@register.filter
def is_overdue(request: ShootRequest) -> bool:
    """The deadline has passed and the request is still open."""
    deadline = getattr(request, "deadline", None)
    if not deadline or request.status in CLOSED:
        return False
    return bool(deadline < timezone.localdate())


@register.filter
def priority_class(value: int | None) -> str:
    if value == ShootRequest.Priority.URGENT:
        return "prio-urgent"
    if value == ShootRequest.Priority.HIGH:
        return "prio-high"
    return ""


# The pipeline stores its stage as a short code; people read it in their language.
STAGE_LABELS = {
    "queued": pgettext_lazy("pipeline stage", "queued"),
    "probing": pgettext_lazy("pipeline stage", "checking the file"),
    "encoding": pgettext_lazy("pipeline stage", "encoding"),
    "uploading": pgettext_lazy("pipeline stage", "saving"),
    "waiting to retry": pgettext_lazy("pipeline stage", "waiting to retry"),
}


@register.filter
def stage_label(value: str | None) -> str:
    """A pipeline stage code as words ("encoding" → "кодування")."""
    if not value:
        return ""
    return str(STAGE_LABELS.get(value, value))
