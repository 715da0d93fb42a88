"""The tracker's pages: the board, the request list, the request page and its decisions,
the request form and "my work".

Views are thin: reads come from selectors, every status change from crew.workflow.
A workflow error becomes a message on the page (409/400), a role that may not act
gets the 403 page, and a request the viewer may not see is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crew import permissions, selectors, workflow
from crew.exceptions import Forbidden, KadrError, NotVisible
from crew.forms import NoteForm, RequestFilterForm, RequestForm
from crew.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Assignment,
    Shoot,
    ShootRequest,
    ShootState,
    Status,
)

# The board's columns, in the order a request travels; closed ones last.
BOARD_COLUMNS = [*OPEN_STATUSES, *CLOSED_STATUSES]
CLOSED = CLOSED_STATUSES
# Cards shown per column; the rest is one click away in the list.
COLUMN_LIMIT = 40
# Closed requests stay on the board this long (unless filtering); the list keeps them all.
CLOSED_ON_BOARD_DAYS = 60
LIST_PAGE_SIZE = 25


def kadr_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn tracker errors into pages: Forbidden → the 403 page, NotVisible → the 404
    page, any other KadrError (invalid transition, conflict, bad input) → a message and
    back to the request page. For POST views whose `pk` (or `request_pk`) is a request's."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        except KadrError as exc:
            messages.error(request, exc.message)
            pk = kwargs.get("pk") or kwargs.get("request_pk")
            target = reverse("crew:request", kwargs={"pk": pk}) if pk else reverse("crew:board")
            return HttpResponseRedirect(target)

    return wrapper


def _people_of(req: ShootRequest) -> list[Any]:
    """Assignees of the request's planned shoots, each once, from the prefetched rows."""
    seen: dict[int, Any] = {}
    for shoot in getattr(req, "planned_shoots", []):
        for assignment in shoot.assignments.all():
            seen.setdefault(assignment.user_id, assignment.user)
    return list(seen.values())


def _decorate(requests: list[ShootRequest]) -> list[ShootRequest]:
    for req in requests:
        req.people = _people_of(req)  # type: ignore[attr-defined]
    return requests


def _filtered(request: HttpRequest, *, with_status: bool) -> tuple[RequestFilterForm, QuerySet]:
    form = RequestFilterForm(request.GET or None, user=request.user, with_status=with_status)
    qs = selectors.requests_for_board(request.user)
    if form.is_bound:
        qs = form.apply(qs)
    return form, qs


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """A column per status with counts; cards with the next shoot, assignees and age."""
    form, qs = _filtered(request, with_status=False)
    if not form.active:
        cutoff = timezone.now() - timedelta(days=CLOSED_ON_BOARD_DAYS)
        qs = qs.exclude(status__in=CLOSED, updated_at__lt=cutoff)
    cards = _decorate(list(qs.order_by("-priority", "deadline", "-created_at")))
    by_status: dict[str, list[ShootRequest]] = {s: [] for s in BOARD_COLUMNS}
    for card in cards:
        by_status.setdefault(card.status, []).append(card)
    query = request.GET.urlencode()
    columns = [
        {
            "status": status,
            "label": Status(status).label,
            "count": len(by_status[status]),
            "cards": by_status[status][:COLUMN_LIMIT],
            "more": max(0, len(by_status[status]) - COLUMN_LIMIT),
            "closed": status in CLOSED and not form.active,
            "list_url": f"{reverse('crew:request_list')}?{query + '&' if query else ''}status={status}",
        }
        for status in BOARD_COLUMNS
    ]
    return render(
        request,
        "crew/tracker/board.html",
        {
            "columns": columns,
            "filter_form": form,
            "total": len(cards),
            "closed_days": CLOSED_ON_BOARD_DAYS,
            "can_create": _can_create_any(request.user),
        },
    )


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """The same requests as a table, filterable by status too, a page at a time."""
    form, qs = _filtered(request, with_status=True)
    page = Paginator(qs.order_by("-created_at", "-pk"), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    _decorate(list(page.object_list))
    return render(
        request,
        "crew/tracker/request_list.html",
        {"page": page, "filter_form": form, "can_create": _can_create_any(request.user)},
    )


def _can_create_any(user: Any) -> bool:
    return permissions.is_press(user) or (
        permissions.is_requester(user) and permissions.department_id_of(user) is not None
    )


def _own_department(user: Any) -> Any:
    profile = getattr(user, "profile", None)
    return profile.department if profile else None


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    """A new shoot request: a requester for their department, the press head for any."""
    if not _can_create_any(request.user):
        raise PermissionDenied(
            _("Only a department's representative or the press head can file a request.")
        )
    form = RequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = form.workflow_fields()
        channels = list(form.cleaned_data.get("target_channels") or [])
        if not permissions.is_press(request.user):
            fields["department"] = _own_department(request.user)
            fields["source"] = ShootRequest.Source.DEPARTMENT
        try:
            created = workflow.submit_request(by=request.user, channels=channels, **fields)
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except KadrError as exc:
            form.add_error(
                exc.details.get("field") if exc.details.get("field") in form.fields else None,
                exc.message,
            )
        else:
            messages.success(
                request, _("Request “%(title)s” submitted.") % {"title": created.title}
            )
            return redirect("crew:request", pk=created.pk)
    return render(
        request,
        "crew/tracker/request_form.html",
        {"form": form, "department": _own_department(request.user), "request_obj": None},
    )


@login_required
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a request's details (never its status) while the viewer may edit it."""
    obj = selectors.access_request(request.user, pk)
    if not permissions.can_edit_request(request.user, obj):
        raise PermissionDenied(_("You cannot edit this request now."))
    form = RequestForm(request.POST or None, instance=obj, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Changes saved."))
        return redirect("crew:request", pk=obj.pk)
    return render(
        request,
        "crew/tracker/request_form.html",
        {"form": form, "department": obj.department, "request_obj": obj},
    )


def _sections(obj: ShootRequest, user: Any) -> dict[str, Any]:
    """Context of the shoots, review and publishing parts, each owned by its feature."""
    from crew.views import publishing, review, shoots

    context: dict[str, Any] = {}
    for feature in (shoots, review, publishing):
        context.update(feature.request_section(obj, user) or {})
    return context


def _actions(user: Any, obj: ShootRequest) -> dict[str, bool]:
    """The decisions on this page the viewer may take now."""
    triage = permissions.can_triage(user)
    return {
        "accept": triage and obj.status == Status.SUBMITTED,
        "decline": triage and obj.status == Status.SUBMITTED,
        "cancel": triage and obj.status in workflow.OPEN_STATES,
        "edit": permissions.can_edit_request(user, obj),
        "schedule": triage and obj.status in (Status.ACCEPTED, Status.SCHEDULED),
    }


def _render_request(
    request: HttpRequest,
    obj: ShootRequest,
    *,
    forms: dict[str, NoteForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    context: dict[str, Any] = {
        "request_obj": obj,
        "history": list(selectors.history_of(obj)),
        "channels": list(obj.target_channels.all()),
        "actions": _actions(request.user, obj),
        "accept_form": forms.get("accept") or NoteForm(required=False, prefix="accept"),
        "decline_form": forms.get("decline") or NoteForm(prefix="decline"),
        "cancel_form": forms.get("cancel") or NoteForm(prefix="cancel"),
        "open_form": next(iter(forms), ""),
        "overdue": bool(
            obj.deadline and obj.deadline < timezone.localdate() and obj.status not in CLOSED
        ),
    }
    context.update(_sections(obj, request.user))
    context["request_obj"] = obj
    return render(request, "crew/tracker/request_detail.html", context, status=status)


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.access_request(request.user, pk)
    return _render_request(request, obj)


def _decision(name: str, *, note_required: bool) -> Callable[[HttpRequest, int], HttpResponse]:
    """A POST endpoint for one of the press head's decisions on a request."""
    action = getattr(workflow, name)

    @login_required
    @require_POST
    @kadr_errors
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        obj = selectors.access_request(request.user, pk)
        permissions.require(permissions.can_triage(request.user))
        form = NoteForm(request.POST, required=note_required, prefix=name)
        if not form.is_valid():
            return _render_request(request, obj, forms={name: form}, status=400)
        try:
            action(obj, by=request.user, note=form.cleaned_data["note"])
        except KadrError as exc:
            if exc.details.get("field") == "note":
                form.add_error("note", exc.message)
                return _render_request(request, obj, forms={name: form}, status=400)
            raise
        messages.success(
            request,
            _("The request is now “%(status)s”.") % {"status": Status(obj.status).label},
        )
        return redirect("crew:request", pk=obj.pk)

    view.__name__ = f"request_{name}"
    return view


request_accept = _decision("accept", note_required=False)
request_decline = _decision("decline", note_required=True)
request_cancel = _decision("cancel", note_required=True)


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    """What is on the viewer's plate: their shoots and cuts (crew), decisions (press head),
    their department's requests (requester)."""
    user: Any = request.user
    context: dict[str, Any] = {"role": permissions.role_of(user)}
    board_qs = selectors.requests_for_board(user)
    if permissions.is_crew(user):
        now = timezone.now()
        context["shoots"] = list(
            Shoot.objects.filter(
                assignments__user_id=user.pk,
                state=ShootState.PLANNED,
                ends_at__gte=now - timedelta(hours=12),
            )
            .select_related("request", "request__department")
            .prefetch_related(
                Prefetch("assignments", queryset=Assignment.objects.select_related("user"))
            )
            .order_by("starts_at")
            .distinct()
        )
        context["to_cut"] = _decorate(
            list(
                board_qs.filter(status__in=[Status.SHOT, Status.EDITING]).order_by(
                    "deadline", "-created_at"
                )
            )
        )
        context["changes"] = _decorate(
            list(
                board_qs.filter(status=Status.CHANGES_REQUESTED).order_by("deadline", "-created_at")
            )
        )
        if permissions.is_press(user):
            context["to_triage"] = _decorate(
                list(board_qs.filter(status=Status.SUBMITTED).order_by("-priority", "created_at"))
            )
            context["to_review"] = _decorate(
                list(board_qs.filter(status=Status.IN_REVIEW).order_by("deadline", "created_at"))
            )
            context["to_publish"] = _decorate(
                list(board_qs.filter(status=Status.APPROVED).order_by("deadline", "created_at"))
            )
    else:
        department_id = permissions.department_id_of(user)
        own = _decorate(
            list(board_qs.filter(department_id=department_id).order_by("-created_at"))
            if department_id
            else []
        )
        context["open_requests"] = [r for r in own if r.status not in CLOSED]
        context["closed_requests"] = [r for r in own if r.status in CLOSED][:20]
        context["department"] = _own_department(user)
        context["can_create"] = _can_create_any(user)
    return render(request, "crew/tracker/my_work.html", context)


urlpatterns = [
    path("", board, name="board"),
    path("requests/", request_list, name="request_list"),
    path("requests/new/", request_new, name="request_new"),
    path("requests/<int:pk>/", request_detail, name="request"),
    path("requests/<int:pk>/edit/", request_edit, name="request_edit"),
    path("requests/<int:pk>/accept/", request_accept, name="request_accept"),
    path("requests/<int:pk>/decline/", request_decline, name="request_decline"),
    path("requests/<int:pk>/cancel/", request_cancel, name="request_cancel"),
    path("my/", my_work, name="my_work"),
]
