"""Who hears about what. Called after commit by the workflow and the comment services.

Creates in-app notifications for the right people (minus the actor and anyone
who opted out); e-mail goes out through a Celery task, queued after commit, so
a mail server that is down delays mail (the task retries with backoff), never a
page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crew import permissions
from crew.models import (
    Comment,
    Notification,
    NotificationKind,
    NotificationOptOut,
    Profile,
    Shoot,
    ShootRequest,
    StatusChange,
)

log = logging.getLogger(__name__)

CUT_KINDS = (
    NotificationKind.CUT_AWAITS_REVIEW,
    NotificationKind.CHANGES_REQUESTED,
    NotificationKind.CUT_APPROVED,
    NotificationKind.NEW_COMMENT,
)


def recipients(kind: str, request: ShootRequest, **extra: Any) -> QuerySet:
    User = get_user_model()
    active = User.objects.filter(is_active=True)
    if kind == NotificationKind.CUT_AWAITS_REVIEW:
        return active.filter(groups__name=permissions.PRESS)
    if kind in (NotificationKind.CHANGES_REQUESTED, NotificationKind.CUT_APPROVED):
        crew_ids = set(request.shoots.values_list("assignments__user_id", flat=True))
        crew_ids |= set(request.versions.values_list("uploaded_by_id", flat=True))
        return active.filter(pk__in=[i for i in crew_ids if i])
    if kind in (NotificationKind.REQUEST_SCHEDULED, NotificationKind.REQUEST_PUBLISHED):
        return (
            active.filter(pk=request.requested_by_id) if request.requested_by_id else active.none()
        )
    if kind == NotificationKind.SHOOT_CHANGED:
        # The crew on the shoot now, and anyone the change took off it.
        removed = [int(i) for i in extra.get("removed_ids") or () if i]
        return active.filter(
            Q(assignments__shoot_id=int(extra.get("shoot_id") or 0)) | Q(pk__in=removed)
        )
    if kind == NotificationKind.NEW_COMMENT:
        # The cut's uploader hears of remarks on it; a comment's author hears of replies.
        ids: set[Any] = set(
            request.versions.filter(pk=int(extra.get("version_id") or 0)).values_list(
                "uploaded_by_id", flat=True
            )
        )
        ids.add(extra.get("parent_author_id"))
        return active.filter(pk__in=[i for i in ids if i])
    if kind == NotificationKind.MEDIA_FAILED:
        # The file's uploader; for a cut, the press head too (it was waiting to be seen).
        who = Q(pk=int(extra.get("user_id") or 0))
        if extra.get("version_id"):
            who |= Q(groups__name=permissions.PRESS)
        return active.filter(who)
    return active.none()


def link_for(kind: str, request_id: int, **extra: Any) -> str:
    """Where the notification leads: the cut's page, else the request's page."""
    version_id = extra.get("version_id")
    if kind in CUT_KINDS and version_id:
        url = reverse("crew:version", kwargs={"pk": version_id})
        comment_id = extra.get("comment_id")
        return f"{url}#comment-{comment_id}" if comment_id else url
    if kind == NotificationKind.MEDIA_FAILED:
        if version_id:
            return reverse("crew:version", kwargs={"pk": version_id})
        if extra.get("shoot_id"):
            return reverse("crew:shoot", kwargs={"pk": extra["shoot_id"]}) + "#footage"
    try:
        return reverse("crew:request", kwargs={"pk": request_id})
    except NoReverseMatch:
        return reverse("crew:board")


def detail_for(kind: str, request: ShootRequest, **extra: Any) -> str:
    """The specific part of a notification: a decision's note, a comment, a shoot's time."""
    if kind in (
        NotificationKind.CUT_AWAITS_REVIEW,
        NotificationKind.CHANGES_REQUESTED,
        NotificationKind.CUT_APPROVED,
    ):
        number = request.versions.filter(pk=extra.get("version_id") or 0).values_list(
            "number", flat=True
        )
        change = (
            StatusChange.objects.filter(
                request=request,
                subject=StatusChange.Subject.VERSION,
                subject_id=extra.get("version_id"),
            )
            .order_by("-at", "-id")
            .first()
        )
        note = change.note if change else ""
        label = f"v{number[0]}" if number else ""
        return f"{label}: {note}" if label and note else (label or note)
    if kind == NotificationKind.NEW_COMMENT and extra.get("comment_id"):
        comment = Comment.objects.filter(pk=extra["comment_id"]).first()
        return comment.text[:500] if comment else ""
    if kind == NotificationKind.MEDIA_FAILED:
        name, reason = str(extra.get("file_name") or ""), str(extra.get("reason") or "")
        return (f"{name}: {reason}" if name and reason else (name or reason))[:500]
    if kind in (NotificationKind.REQUEST_SCHEDULED, NotificationKind.SHOOT_CHANGED):
        shoot = Shoot.objects.filter(pk=extra.get("shoot_id") or 0).first()
        if shoot is not None:
            return timezone.localtime(shoot.starts_at).strftime("%d.%m.%Y %H:%M")
    return ""


def headline(kind: str, title: str) -> str:
    """One translated sentence per kind, in the active language."""
    texts: dict[str, str] = {
        NotificationKind.CUT_AWAITS_REVIEW: _("A cut of “%(title)s” awaits your review."),
        NotificationKind.CHANGES_REQUESTED: _("Changes were requested on “%(title)s”."),
        NotificationKind.CUT_APPROVED: _("The cut of “%(title)s” was approved."),
        NotificationKind.REQUEST_SCHEDULED: _("Your request “%(title)s” was scheduled."),
        NotificationKind.REQUEST_PUBLISHED: _("Your request “%(title)s” was published."),
        NotificationKind.SHOOT_CHANGED: _("A shoot for “%(title)s” was moved or cancelled."),
        NotificationKind.NEW_COMMENT: _("A new comment on “%(title)s”."),
        NotificationKind.MEDIA_FAILED: _("Media processing failed for “%(title)s”."),
    }
    return texts.get(kind, _("News about “%(title)s”.")) % {"title": title}


def headline_of(notification: Notification) -> str:
    title = notification.request.title if notification.request is not None else ""
    return headline(notification.kind, title)


def _opted_out(kind: str, medium: str) -> set[int]:
    return set(
        NotificationOptOut.objects.filter(kind=kind, medium=medium).values_list(
            "user_id", flat=True
        )
    )


def notify(kind: str, *, request_id: int, actor_id: int | None = None, **extra: Any) -> None:
    """In-app rows now; one e-mail task per recipient, queued after commit."""
    request = ShootRequest.objects.filter(pk=request_id).first()
    if request is None:
        return
    people = [u for u in recipients(kind, request, **extra).distinct() if u.pk != actor_id]
    if not people:
        return
    no_app = _opted_out(kind, NotificationOptOut.Medium.IN_APP)
    no_mail = _opted_out(kind, NotificationOptOut.Medium.EMAIL)
    url = link_for(kind, request.pk, **extra)
    text = detail_for(kind, request, **extra)
    rows = {
        user.pk: Notification(
            user=user, kind=kind, request=request, actor_id=actor_id, text=text, url=url
        )
        for user in people
        if user.pk not in no_app
    }
    Notification.objects.bulk_create(list(rows.values()))
    for user in people:
        if user.pk in no_mail or not user.email:
            continue
        row = rows.get(user.pk)
        queue_email(
            user_id=user.pk,
            kind=kind,
            request_id=request.pk,
            text=text,
            url=url,
            notification_id=row.pk if row is not None else None,
        )


def queue_email(**kwargs: Any) -> None:
    """Enqueue the e-mail once the surrounding transaction commits; never raise to a page."""

    def enqueue() -> None:
        from crew import tasks

        try:
            tasks.send_notification_email.delay(**kwargs)
        except Exception:  # noqa: BLE001 — a broker or mail outage must not break a page
            log.exception("could not queue a notification e-mail (%s)", kwargs.get("kind"))

    transaction.on_commit(enqueue)


def language_of(user: Any) -> str:
    """The language the person last chose with the switch, else the site's."""
    chosen = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


def send_email(
    *,
    user_id: int,
    kind: str,
    request_id: int,
    text: str = "",
    url: str = "",
    notification_id: int | None = None,
) -> bool:
    """Send one notification e-mail now (the Celery task calls this); False when not sent."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    request = ShootRequest.objects.filter(pk=request_id).first()
    if user is None or request is None or not user.email:
        return False
    if NotificationOptOut.objects.filter(
        user=user, kind=kind, medium=NotificationOptOut.Medium.EMAIL
    ).exists():
        return False
    if (
        notification_id
        and Notification.objects.filter(pk=notification_id, emailed_at__isnull=False).exists()
    ):
        return False  # a retry after a send that did go through
    with translation.override(language_of(user)):
        subject = headline(kind, request.title)
        lines = [subject]
        if text:
            lines += ["", text]
        lines += ["", f"{settings.SITE_URL}{url}" if url else settings.SITE_URL]
        lines += [
            "",
            "—",
            _("You receive this because of your role in Kadr. Choose what you receive: %(url)s")
            % {"url": f"{settings.SITE_URL}{reverse('crew:notification_settings')}"},
        ]
        body = "\n".join(lines)
        send_mail(
            subject=f"[{_('Kadr')}] {subject}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )
    if notification_id:
        Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
    return True
