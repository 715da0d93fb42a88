"""Shoot pages: book a shoot (press head), its page with the log, footage and the
forms to mark it done, reschedule or cancel it; and the request page's shoots part.

Views are thin: they read through selectors, change through crew.workflow, and
turn the workflow's errors into the form's messages with a 4xx status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crew import permissions, selectors, workflow
from crew.exceptions import Forbidden, KadrError, ScheduleConflict
from crew.media import can_view_all_footage, can_view_asset
from crew.models import Assignment, Footage, Shoot, ShootRequest, ShootState, StatusChange
from crew.shoot_forms import (
    CancelShootForm,
    CompleteShootForm,
    RescheduleForm,
    ShootEditForm,
    ShootForm,
)
from crew.views import calendar
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Purpose
from media_pipeline.storage import get_storage


def _shoot_url(shoot: Shoot) -> str:
    return reverse("crew:shoot", kwargs={"pk": shoot.pk})


def _require_press(user: Any) -> None:
    if not permissions.can_triage(user):
        raise PermissionDenied(_("Only the press head can schedule shoots."))


def _apply_error(form: Any, exc: KadrError) -> int:
    """Put a workflow error on the form; the answer's status code."""
    if isinstance(exc, Forbidden):
        raise PermissionDenied(exc.message)
    field = exc.details.get("field")
    form.add_error(field if field in form.fields else None, exc.message)
    return exc.status_code


def _clash_rows(exc: ScheduleConflict) -> list[dict[str, Any]]:
    return [
        {**clash, "url": reverse("crew:shoot", kwargs={"pk": clash["shoot"]})}
        for clash in exc.clashes
    ]


# --- Footage --------------------------------------------------------------------------


@dataclass
class FootageRow:
    footage: Footage
    asset: MediaAsset
    status: str
    status_label: str
    progress: int
    error: str
    poster_url: str = ""
    preview_url: str = ""
    download_url: str = ""


def footage_rows(shoot: Shoot, user: Any) -> list[FootageRow]:
    """The shoot's clips with their footage-preview state and, if allowed, signed URLs."""
    items = list(shoot.footage.select_related("media", "added_by").order_by("created_at"))
    jobs = {
        job.asset_id: job
        for job in ProcessingJob.objects.filter(
            asset__in=[f.media for f in items], purpose=Purpose.FOOTAGE
        ).prefetch_related("renditions")
    }
    storage = get_storage()
    whole_shoot = can_view_all_footage(user, shoot)  # else clip by clip
    rows = []
    for item in items:
        asset = item.media
        job = jobs.get(asset.pk)
        # The asset fails on its own when the probe refuses the file; otherwise the
        # footage job's state is what the crew waits for.
        if asset.status == AssetStatus.FAILED or job is None:
            status, progress, error = asset.status, asset.progress, asset.error
        else:
            status, progress, error = job.status, job.progress, job.error or asset.error
        row = FootageRow(
            footage=item,
            asset=asset,
            status=status,
            status_label=str(AssetStatus(status).label),
            progress=progress,
            error=error if status == AssetStatus.FAILED else "",
        )
        if whole_shoot or can_view_asset(user, asset):
            if asset.original_key:
                row.download_url = storage.url(
                    asset.original_key, download_name=asset.original_name or None
                )
            if job is not None and job.status == AssetStatus.READY:
                if job.poster_key:
                    row.poster_url = storage.url(job.poster_key)
                current = [r for r in job.renditions.all() if r.generation == job.generation]
                smallest = min(current, key=lambda r: r.height, default=None)
                if smallest is not None:
                    row.preview_url = storage.url(smallest.key)
        rows.append(row)
    return rows


# --- The request page's part ----------------------------------------------------------


def request_section(request_obj: ShootRequest, user: Any) -> dict[str, Any]:
    """Context for this feature's part of the request page (its partial template)."""
    shoots = (
        request_obj.shoots.annotate(footage_count=Count("footage", distinct=True))
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("user")), "kit"
        )
        .order_by("starts_at")
    )
    # The request page's head already offers "Schedule a shoot" to the press head.
    return {"shoots": list(shoots)}


# --- Booking --------------------------------------------------------------------------


@login_required
def shoot_new(request: HttpRequest, request_pk: int) -> HttpResponse:
    """Book a shoot for a request. Press head."""
    shoot_request = selectors.access_request(request.user, request_pk)
    _require_press(request.user)
    clashes: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        form = ShootForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                shoot = workflow.schedule(
                    shoot_request,
                    by=request.user,
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    crew=form.crew(),
                    location=data["location"],
                    kit=list(data["kit"]),
                    notes=data["notes"],
                )
            except ScheduleConflict as exc:
                clashes, status = _clash_rows(exc), exc.status_code
            except KadrError as exc:
                status = _apply_error(form, exc)
            else:
                messages.success(request, _("The shoot is scheduled; the crew can see it."))
                return HttpResponseRedirect(_shoot_url(shoot))
        else:
            status = 400
    else:
        initial: dict[str, Any] = {"location": shoot_request.location}
        if shoot_request.desired_at:
            initial["starts_at"] = shoot_request.desired_at
            initial["ends_at"] = shoot_request.desired_at + timedelta(hours=1)
        form = ShootForm(initial=initial)
    context = {
        "form": form,
        "shoot_request": shoot_request,
        "clashes": clashes,
        "travel_buffer_minutes": settings.KADR_TRAVEL_BUFFER_MINUTES,
    }
    return render(request, "crew/shoots/new.html", context, status=status)


@login_required
def shoot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a planned shoot's window, place, crew, kit or notes. Press head."""
    shoot = selectors.access_shoot(request.user, pk)
    _require_press(request.user)
    if shoot.state != ShootState.PLANNED:
        messages.error(request, _("Only a planned shoot can be changed."))
        return HttpResponseRedirect(_shoot_url(shoot))
    clashes: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        form = ShootEditForm(request.POST, shoot=shoot)
        if form.is_valid():
            data = form.cleaned_data
            try:
                workflow.reschedule(
                    shoot,
                    by=request.user,
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    location=data["location"],
                    crew=form.crew(),
                    kit=list(data["kit"]),
                    note=data["note"],
                )
            except ScheduleConflict as exc:
                clashes, status = _clash_rows(exc), exc.status_code
            except KadrError as exc:
                status = _apply_error(form, exc)
            else:
                # Planning notes are not a state; the workflow leaves them to the page.
                Shoot.objects.filter(pk=shoot.pk).update(notes=data["notes"])
                messages.success(request, _("The shoot is changed; the crew is told."))
                return HttpResponseRedirect(_shoot_url(shoot))
        else:
            status = 400
    else:
        form = ShootEditForm(
            shoot=shoot,
            initial={
                "starts_at": shoot.starts_at,
                "ends_at": shoot.ends_at,
                "location": shoot.location,
                "kit": list(shoot.kit.all()),
                "notes": shoot.notes,
            },
        )
    context = {
        "form": form,
        "shoot": shoot,
        "shoot_request": shoot.request,
        "clashes": clashes,
        "travel_buffer_minutes": settings.KADR_TRAVEL_BUFFER_MINUTES,
    }
    return render(request, "crew/shoots/edit.html", context, status=status)


# --- The shoot page -------------------------------------------------------------------


def _detail(request: HttpRequest, shoot: Shoot, *, status: int = 200, **parts: Any) -> HttpResponse:
    user = request.user
    planned = shoot.state == ShootState.PLANNED
    can_work = permissions.can_work_on_shoot(user, shoot)
    can_manage = permissions.can_triage(user) and planned
    history = StatusChange.objects.filter(
        request_id=shoot.request_id, subject=StatusChange.Subject.SHOOT, subject_id=shoot.pk
    ).select_related("actor")
    context = {
        "shoot": shoot,
        "shoot_request": shoot.request,
        "assignments": shoot.assignments.select_related("user").order_by("role"),
        "kit": shoot.kit.all(),
        "history": history,
        "footage": footage_rows(shoot, user),
        "can_complete": can_work and planned,
        "can_manage": can_manage,
        "can_upload": can_work and shoot.state != ShootState.CANCELLED,
        "complete_form": parts.get("complete_form") or CompleteShootForm(),
        "reschedule_form": parts.get("reschedule_form")
        or RescheduleForm(initial={"starts_at": shoot.starts_at, "ends_at": shoot.ends_at}),
        "cancel_form": parts.get("cancel_form") or CancelShootForm(),
        "clashes": parts.get("clashes", []),
        "travel_buffer_minutes": settings.KADR_TRAVEL_BUFFER_MINUTES,
    }
    return render(request, "crew/shoots/detail.html", context, status=status)


@login_required
def shoot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.access_shoot(request.user, pk))


def _shoot_action(
    request: HttpRequest,
    pk: int,
    *,
    form_class: type[forms.Form],
    form_name: str,
    action: Callable[[Shoot, dict[str, Any]], object],
    done: str,
    press_only: bool = True,
) -> HttpResponse:
    """A form posted from the shoot page: on success back to the page with a message,
    otherwise the page again with the form's errors (and any clashes) and a 4xx."""
    shoot = selectors.access_shoot(request.user, pk)
    if press_only:
        _require_press(request.user)
    form = form_class(request.POST)
    if not form.is_valid():
        return _detail(request, shoot, status=400, **{form_name: form})
    try:
        action(shoot, form.cleaned_data)
    except ScheduleConflict as exc:
        shoot.refresh_from_db()
        clashes = _clash_rows(exc)
        return _detail(request, shoot, status=exc.status_code, clashes=clashes, **{form_name: form})
    except KadrError as exc:
        shoot.refresh_from_db()
        return _detail(request, shoot, status=_apply_error(form, exc), **{form_name: form})
    messages.success(request, done)
    return HttpResponseRedirect(_shoot_url(shoot))


@login_required
@require_POST
def shoot_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the shoot done with its log. Its crew or the press head (the workflow checks)."""
    return _shoot_action(
        request,
        pk,
        form_class=CompleteShootForm,
        form_name="complete_form",
        action=lambda shoot, data: workflow.complete_shoot(
            shoot, by=request.user, log=data["log"].strip()
        ),
        done=_("The shoot is logged as done."),
        press_only=False,
    )


@login_required
@require_POST
def shoot_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the shoot in time, keeping place, crew and kit. Press head."""
    return _shoot_action(
        request,
        pk,
        form_class=RescheduleForm,
        form_name="reschedule_form",
        action=lambda shoot, data: workflow.reschedule(
            shoot,
            by=request.user,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            note=data["note"],
        ),
        done=_("The shoot is moved; the crew is told."),
    )


@login_required
@require_POST
def shoot_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a planned shoot with a reason. Press head."""
    return _shoot_action(
        request,
        pk,
        form_class=CancelShootForm,
        form_name="cancel_form",
        action=lambda shoot, data: workflow.cancel_shoot(shoot, by=request.user, note=data["note"]),
        done=_("The shoot is cancelled; the crew is told."),
    )


urlpatterns: list[URLPattern] = [
    path("requests/<int:request_pk>/shoots/new/", shoot_new, name="shoot_new"),
    path("shoots/<int:pk>/", shoot_detail, name="shoot"),
    path("shoots/<int:pk>/edit/", shoot_edit, name="shoot_edit"),
    path("shoots/<int:pk>/done/", shoot_complete, name="shoot_complete"),
    path("shoots/<int:pk>/reschedule/", shoot_reschedule, name="shoot_reschedule"),
    path("shoots/<int:pk>/cancel/", shoot_cancel, name="shoot_cancel"),
    *calendar.urlpatterns,
]
