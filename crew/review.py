"""Timecoded comments on cuts: add, reply, resolve, reopen.

Comments are not tracker statuses (the workflow owns those), but every write
still goes through one small service here, so the API and the pages agree on
the rules: who may comment, which timecodes make sense, who may resolve.
"""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crew import notifications, permissions, selectors
from crew.exceptions import Forbidden, InvalidTransition, KadrError
from crew.models import Comment, NotificationKind, Version

MAX_TEXT = 5000


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise KadrError(_("Write something first."), field="text")
    if len(text) > MAX_TEXT:
        raise KadrError(_("A comment is at most %(n)s characters.") % {"n": MAX_TEXT}, field="text")
    return text


def _check_timecodes(
    version: Version, timecode: float | None, timecode_end: float | None
) -> tuple[float | None, float | None]:
    """Within 0 … the cut's duration, and an end only after a start."""
    duration = version.media.duration
    for value, field in ((timecode, "timecode"), (timecode_end, "timecode_end")):
        if value is None:
            continue
        if not math.isfinite(value):
            raise KadrError(_("This is not a time in the cut."), field=field)
        if value < 0:
            raise KadrError(_("A timecode cannot be below zero."), field=field)
        if duration is not None and value > duration + 0.001:
            raise KadrError(
                _("The cut is only %(duration).2f s long.") % {"duration": duration}, field=field
            )
    if timecode_end is not None:
        if timecode is None:
            raise KadrError(_("A range needs a start."), field="timecode_end")
        if timecode_end < timecode:
            raise KadrError(_("The range ends before it starts."), field="timecode_end")
        if timecode_end == timecode:
            timecode_end = None
    return timecode, timecode_end


def _after_commit_notify(comment: Comment, by: Any) -> None:
    version_id, request_id, actor_id = comment.version_id, comment.version.request_id, by.pk
    comment_id = comment.pk
    parent_author_id = comment.parent.author_id if comment.parent else None
    transaction.on_commit(
        lambda: notifications.notify(
            NotificationKind.NEW_COMMENT,
            request_id=request_id,
            actor_id=actor_id,
            version_id=version_id,
            comment_id=comment_id,
            parent_author_id=parent_author_id,
        )
    )


@transaction.atomic
def add_comment(
    version: Version,
    *,
    by: Any,
    text: str,
    timecode: float | None = None,
    timecode_end: float | None = None,
) -> Comment:
    """A remark on a cut, optionally pinned to a moment or a range. Crew or the requester."""
    permissions.require(permissions.can_comment(by, version.request))
    text = _clean_text(text)
    timecode, timecode_end = _check_timecodes(version, timecode, timecode_end)
    comment = Comment.objects.create(
        version=version, author=by, text=text, timecode=timecode, timecode_end=timecode_end
    )
    _after_commit_notify(comment, by)
    return comment


@transaction.atomic
def reply(parent: Comment, *, by: Any, text: str) -> Comment:
    """An answer in a comment's thread (threads are one level deep)."""
    while parent.parent_id is not None:
        parent = parent.parent  # type: ignore[assignment]
    version = parent.version
    permissions.require(permissions.can_comment(by, version.request))
    comment = Comment.objects.create(
        version=version,
        author=by,
        parent=parent,
        text=_clean_text(text),
        timecode=parent.timecode,
    )
    _after_commit_notify(comment, by)
    return comment


def can_resolve(user: Any, comment: Comment) -> bool:
    """The press service (the editor marks what they fixed) or the comment's author."""
    return permissions.is_crew(user) or (
        comment.author_id is not None and comment.author_id == getattr(user, "pk", None)
    )


@transaction.atomic
def resolve(comment: Comment, *, by: Any) -> None:
    """open → resolved."""
    if not can_resolve(by, comment):
        raise Forbidden(_("Only the press service or the comment's author can resolve it."))
    if comment.parent_id is not None:
        raise KadrError(_("Resolve the thread's first comment, not a reply."))
    now = timezone.now()
    if (
        Comment.objects.filter(pk=comment.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=by
        )
        != 1
    ):
        raise InvalidTransition(_("This comment is already resolved."))
    comment.resolved_at, comment.resolved_by = now, by


@transaction.atomic
def reopen(comment: Comment, *, by: Any) -> None:
    """resolved → open."""
    if not can_resolve(by, comment):
        raise Forbidden(_("Only the press service or the comment's author can reopen it."))
    if (
        Comment.objects.filter(pk=comment.pk, resolved_at__isnull=False).update(
            resolved_at=None, resolved_by=None
        )
        != 1
    ):
        raise InvalidTransition(_("This comment is open already."))
    comment.resolved_at, comment.resolved_by = None, None


# --- Reads ------------------------------------------------------------------------------


def _threads(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    """Top-level comments with their author, resolver and cut, replies prefetched in order."""
    return (
        comments.filter(parent__isnull=True)
        .select_related("author", "resolved_by", "version")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=Comment.objects.select_related("author").order_by("created_at"),
            )
        )
    )


def threads_of(version: Version) -> QuerySet[Comment]:
    """A cut's threads in time order (untimed last)."""
    return _threads(Comment.objects.filter(version=version))


def earlier_threads(version: Version) -> QuerySet[Comment]:
    """Threads on the request's earlier cuts, newest cut first, readable from this one."""
    earlier = Comment.objects.filter(
        version__request_id=version.request_id, version__number__lt=version.number
    )
    return _threads(earlier).order_by("-version__number", *(Comment._meta.ordering or []))


def access_comment(user: Any, pk: Any) -> Comment:
    """The comment, or 404 when it is missing or its cut is not visible to the user."""
    try:
        comment = Comment.objects.select_related("version", "parent").get(pk=pk)
    except (Comment.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such comment.")) from None
    selectors.access_version(user, comment.version_id)
    return comment
