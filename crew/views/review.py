"""Review pages: the cut stack on the request page, the player with timecoded comments
and the decision forms, side-by-side comparison, and the notifications.

Every POST here calls crew.workflow or crew.review and redirects; errors a user
can cause come back as the page with a message and a 4xx status.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crew import media, permissions, review, selectors, workflow
from crew.exceptions import Forbidden, KadrError, NotVisible
from crew.models import (
    Comment,
    Notification,
    NotificationKind,
    NotificationOptOut,
    ShootRequest,
    Status,
    Version,
    VersionState,
)
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Purpose
from media_pipeline.storage import get_storage


def _user(request: Any) -> Any:
    """The signed-in user (login_required / IsAuthenticated ran first)."""
    return request.user


# --- Helpers ----------------------------------------------------------------------------


def smpte(seconds: float | None, fps: float | None) -> str:
    """HH:MM:SS:FF at the source frame rate (non-drop-frame)."""
    if seconds is None:
        return ""
    rate = fps if fps and fps > 0 else 25.0
    whole = int(math.floor(seconds + 1e-6))
    frame = min(int(math.floor((seconds - whole) * rate + 1e-3)), math.ceil(rate) - 1)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{max(frame, 0):02d}"


_TC = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[:.](\d{1,3}))?$")


def parse_timecode(value: str, fps: float | None) -> float | None:
    """Seconds from "12.5", "00:01:02", "00:00:01:12" (frames) or "01:02"; None when blank."""
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parts = value.split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise KadrError(_("Write the time as seconds or HH:MM:SS:FF."), field="timecode") from None
    rate = fps if fps and fps > 0 else 25.0
    if len(numbers) == 4:
        h, m, s, f = numbers
        return h * 3600 + m * 60 + s + f / rate
    if len(numbers) == 3:
        h, m, s = numbers
        return h * 3600 + m * 60 + s
    if len(numbers) == 2:
        m, s = numbers
        return m * 60 + s
    raise KadrError(_("Write the time as seconds or HH:MM:SS:FF."), field="timecode")


def _jobs_of(asset: MediaAsset) -> list[ProcessingJob]:
    return list(ProcessingJob.objects.filter(asset=asset).order_by("purpose"))


def player_sources(user: Any, asset: MediaAsset) -> dict[str, Any] | None:
    """Signed URLs of the cut's review outputs (else its publishing outputs), or None."""
    if not media.can_view_asset(user, asset):
        return None
    jobs = {
        j.purpose: j for j in ProcessingJob.objects.filter(asset=asset, status=AssetStatus.READY)
    }
    job = jobs.get(Purpose.REVIEW) or jobs.get(Purpose.PUBLISH)
    if job is None:
        return None
    backend = get_storage()
    renditions = [
        {"name": r.name, "width": r.width, "height": r.height, "url": backend.url(r.key)}
        for r in job.renditions.filter(generation=job.generation).order_by("-height")
    ]
    return {
        "hls": backend.url(job.hls_key) if job.hls_key else "",
        "renditions": renditions,
        "poster": backend.url(job.poster_key) if job.poster_key else "",
        "storyboard": backend.url(job.storyboard_vtt_key) if job.storyboard_vtt_key else "",
        "fps": asset.frame_rate or 25.0,
        "duration": asset.duration or 0,
        "width": asset.width or 16,
        "height": asset.height or 9,
    }


def _decorate_comments(comments: list[Comment], fps: float | None) -> list[Comment]:
    for c in comments:
        c.tc = smpte(c.timecode, fps)  # type: ignore[attr-defined]
        c.tc_end = smpte(c.timecode_end, fps)  # type: ignore[attr-defined]
    return comments


def _version_actions(user: Any, version: Version, latest_id: int | None) -> dict[str, bool]:
    request_status = version.request.status
    is_latest = version.pk == latest_id
    ready = version.media.status == AssetStatus.READY
    return {
        "submit": permissions.can_submit_version(user, version)
        and is_latest
        and request_status in (Status.EDITING, Status.CHANGES_REQUESTED)
        and version.state in (VersionState.DRAFT, VersionState.CHANGES_REQUESTED),
        "submit_ready": ready,
        "decide": permissions.is_press(user)
        and is_latest
        and request_status == Status.IN_REVIEW
        and version.state == VersionState.IN_REVIEW,
        "own_cut": version.uploaded_by_id == getattr(user, "pk", None),
    }


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- The request page's part ------------------------------------------------------------


def request_section(request_obj: ShootRequest, user: Any) -> dict[str, Any]:
    """Context for templates/crew/review/_request_section.html: the cut stack and actions."""
    versions = list(
        request_obj.versions.select_related("media", "uploaded_by", "decided_by")
        .annotate(
            n_comments=Count("comments", filter=Q(comments__parent__isnull=True)),
            n_open=Count(
                "comments",
                filter=Q(comments__parent__isnull=True, comments__resolved_at__isnull=True),
            ),
        )
        .order_by("-number")
    )
    latest_id = versions[0].pk if versions else None
    jobs: dict[Any, list[ProcessingJob]] = {}
    for job in ProcessingJob.objects.filter(asset__in=[v.media_id for v in versions]).order_by(
        "purpose"
    ):
        jobs.setdefault(job.asset_id, []).append(job)
    for v in versions:
        v.jobs = jobs.get(v.media_id, [])  # type: ignore[attr-defined]
        v.actions = _version_actions(user, v, latest_id)  # type: ignore[attr-defined]
    can_upload = permissions.can_add_version(user, request_obj) and request_obj.status in (
        Status.SHOT,
        Status.EDITING,
        Status.CHANGES_REQUESTED,
    )
    return {
        "review_versions": versions,
        "review_can_upload": can_upload,
        "review_can_compare": len(versions) >= 2,
    }


# --- The cut's page ---------------------------------------------------------------------


def _render_version(
    request: HttpRequest, version: Version, *, status: int = 200, error: str = ""
) -> HttpResponse:
    user = request.user
    asset = version.media
    fps = asset.frame_rate
    latest = version.request.versions.order_by("-number").first()
    threads = _decorate_comments(list(review.threads_of(version)), fps)
    earlier = _decorate_comments(list(review.earlier_threads(version)), None)
    for c in [*threads, *earlier]:
        c.may_resolve = review.can_resolve(user, c)  # type: ignore[attr-defined]
    versions = list(version.request.versions.select_related("uploaded_by").order_by("-number"))
    context = {
        "version": version,
        "request_obj": version.request,
        "asset": asset,
        "jobs": _jobs_of(asset),
        "sources": player_sources(user, asset),
        "threads": threads,
        "earlier": earlier,
        "versions": versions,
        "latest": latest,
        "actions": _version_actions(user, version, latest.pk if latest else None),
        "can_comment": permissions.can_comment(user, version.request),
        "error": error,
        "start_at": request.GET.get("t", ""),
        "form_values": request.POST if status >= 400 else {},
    }
    return render(request, "crew/review/version.html", context, status=status)


@login_required
def version_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_version(request, selectors.access_version(request.user, pk))


def _page_errors(request: HttpRequest, version: Version, action: Any) -> HttpResponse | None:
    """Run a write; a user's mistake comes back as the page with the reason."""
    try:
        with transaction.atomic():
            action()
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except NotVisible as exc:
        raise Http404(exc.message) from exc
    except KadrError as exc:
        version.refresh_from_db()
        version.request.refresh_from_db()
        return _render_version(request, version, status=exc.status_code, error=exc.message)
    return None


def _decision_view(name: str) -> Any:
    action = {
        "submit": workflow.submit_version,
        "approve": workflow.approve,
        "request_changes": workflow.request_changes,
    }[name]
    done = {
        "submit": _("The cut was sent for review."),
        "approve": _("The cut is approved."),
        "request_changes": _("Changes were requested."),
    }[name]

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        version = selectors.access_version(request.user, pk)
        note = request.POST.get("note", "")
        failed = _page_errors(request, version, lambda: action(version, by=request.user, note=note))
        if failed is not None:
            return failed
        messages.success(request, done)
        return HttpResponseRedirect(_safe_next(request, reverse("crew:version", kwargs={"pk": pk})))

    view.__name__ = f"version_{name}"
    return view


version_submit = _decision_view("submit")
version_approve = _decision_view("approve")
version_request_changes = _decision_view("request_changes")


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.access_version(request.user, pk)
    fps = version.media.frame_rate
    created: list[Comment] = []

    def write() -> None:
        parent_id = request.POST.get("parent", "").strip()
        if parent_id:
            parent = (
                Comment.objects.filter(pk=parent_id, version__request_id=version.request_id).first()
                if parent_id.isdigit()
                else None
            )
            if parent is None:
                raise KadrError(_("No such comment to reply to."), field="parent")
            created.append(review.reply(parent, by=request.user, text=request.POST.get("text", "")))
            return
        start = parse_timecode(request.POST.get("timecode", ""), fps)
        end = parse_timecode(request.POST.get("timecode_end", ""), fps)
        created.append(
            review.add_comment(
                version,
                by=request.user,
                text=request.POST.get("text", ""),
                timecode=start,
                timecode_end=end,
            )
        )

    failed = _page_errors(request, version, write)
    if failed is not None:
        return failed
    comment = created[0]
    target = reverse("crew:version", kwargs={"pk": comment.version_id})
    if comment.timecode is not None:
        target += f"?t={comment.timecode:.3f}"
    return HttpResponseRedirect(f"{target}#comment-{comment.pk}")


def _comment_toggle(resolve: bool) -> Any:
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        comment = review.access_comment(request.user, pk)
        version = selectors.access_version(request.user, comment.version_id)
        act = review.resolve if resolve else review.reopen
        failed = _page_errors(request, version, lambda: act(comment, by=request.user))
        if failed is not None:
            return failed
        default = reverse("crew:version", kwargs={"pk": comment.version_id})
        return HttpResponseRedirect(_safe_next(request, default) + f"#comment-{comment.pk}")

    view.__name__ = "comment_resolve" if resolve else "comment_reopen"
    return view


comment_resolve = _comment_toggle(True)
comment_reopen = _comment_toggle(False)


@login_required
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two cuts of a request side by side, played in step (?a=<id>&b=<id>; default the last two)."""
    request_obj = selectors.access_request(request.user, pk)
    versions = list(request_obj.versions.select_related("media").order_by("-number"))
    if len(versions) < 2:
        raise Http404(_("There is only one cut to compare."))
    by_id = {str(v.pk): v for v in versions}
    right = by_id.get(request.GET.get("b", "")) or versions[0]
    left = by_id.get(request.GET.get("a", "")) or next(v for v in versions if v.pk != right.pk)
    sides = [
        {"version": v, "sources": player_sources(request.user, v.media)} for v in (left, right)
    ]
    return render(
        request,
        "crew/review/compare.html",
        {"request_obj": request_obj, "versions": versions, "sides": sides, "a": left, "b": right},
    )


# --- Notifications ----------------------------------------------------------------------


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    items = list(
        Notification.objects.filter(user=_user(request)).select_related("request", "actor")[:200]
    )
    from crew.notifications import headline_of

    for n in items:
        n.headline = headline_of(n)  # type: ignore[attr-defined]
    return render(request, "crew/review/notifications.html", {"items": items})


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read and follow its link (links are the app's own paths)."""
    n = get_object_or_404(Notification, pk=pk, user=_user(request))
    Notification.objects.filter(pk=n.pk, read_at__isnull=True).update(read_at=timezone.now())
    if n.url.startswith("/") and not n.url.startswith("//"):
        return HttpResponseRedirect(n.url)
    return redirect("crew:notifications")


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    Notification.objects.filter(pk=pk, user=_user(request), read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("crew:notifications")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(user=_user(request), read_at__isnull=True).update(
        read_at=timezone.now()
    )
    messages.success(request, _("All notifications are marked read."))
    return redirect("crew:notifications")


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """A grid of kinds × media; a ticked box means "tell me"."""
    media_choices = NotificationOptOut.Medium.choices
    if request.method == "POST":
        wanted = set(request.POST.getlist("receive"))
        with transaction.atomic():
            NotificationOptOut.objects.filter(user=_user(request)).delete()
            NotificationOptOut.objects.bulk_create(
                [
                    NotificationOptOut(user=_user(request), kind=kind, medium=medium)
                    for kind in NotificationKind.values
                    for medium, _label in media_choices
                    if f"{kind}:{medium}" not in wanted
                ]
            )
        messages.success(request, _("Your notification settings are saved."))
        return redirect("crew:notification_settings")
    off = set(NotificationOptOut.objects.filter(user=_user(request)).values_list("kind", "medium"))
    rows = [
        {
            "kind": kind,
            "label": label,
            "cells": [
                {"name": f"{kind}:{medium}", "label": mlabel, "on": (kind, medium) not in off}
                for medium, mlabel in media_choices
            ],
        }
        for kind, label in NotificationKind.choices
    ]
    return render(
        request,
        "crew/review/notification_settings.html",
        {"rows": rows, "media": media_choices, "has_email": bool(_user(request).email)},
    )


urlpatterns: list[URLPattern] = [
    path("cuts/<int:pk>/", version_page, name="version"),
    path("cuts/<int:pk>/submit/", version_submit, name="version_submit"),
    path("cuts/<int:pk>/approve/", version_approve, name="version_approve"),
    path(
        "cuts/<int:pk>/request-changes/",
        version_request_changes,
        name="version_request_changes",
    ),
    path("cuts/<int:pk>/comments/", comment_add, name="comment_add"),
    path("comments/<int:pk>/resolve/", comment_resolve, name="comment_resolve"),
    path("comments/<int:pk>/reopen/", comment_reopen, name="comment_reopen"),
    path("requests/<int:pk>/compare/", compare, name="compare"),
    path("notifications/", notification_list, name="notifications"),
    path("notifications/settings/", notification_settings, name="notification_settings"),
    path("notifications/read-all/", notification_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/", notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", notification_read, name="notification_read"),
]
