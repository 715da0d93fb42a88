"""The crew calendar (week and month, by person), one's own schedule, and the iCal
feeds with their settings page.

Days are Europe/Kyiv days (settings.TIME_ZONE): a shoot shows on every local
day it touches, so a night shoot appears on both dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from crew import calendar as ical
from crew import permissions, selectors
from crew.models import Assignment, Shoot, ShootState
from crew.shoot_forms import crew_people

WEEK, MONTH = "week", "month"


@dataclass
class Day:
    date: date
    in_month: bool = True
    shoots: list[Shoot] = field(default_factory=list)

    @property
    def is_today(self) -> bool:
        return self.date == timezone.localdate()


def _parse_date(value: str | None) -> date:
    """The ?date= to show; anything unreadable or absurdly far away means today."""
    today = timezone.localdate()
    try:
        chosen = date.fromisoformat(value) if value else today
    except ValueError:
        return today
    # Far years would overflow the month arithmetic (and nobody films in year 1).
    return chosen if 1900 <= chosen.year <= 2200 else today


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _visible_shoots(user: Any) -> QuerySet[Shoot]:
    return (
        Shoot.objects.filter(request__in=selectors.requests_visible_to(user))
        .select_related("request")
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("user")), "kit"
        )
        .order_by("starts_at")
    )


def _fill(days: list[Day], shoots: QuerySet[Shoot]) -> None:
    by_date = {d.date: d for d in days}
    for shoot in shoots:
        first = timezone.localtime(shoot.starts_at).date()
        # A shoot ending exactly at midnight does not spill into the next day.
        last = timezone.localtime(shoot.ends_at - timedelta(microseconds=1)).date()
        day = first
        while day <= last:
            if day in by_date:
                by_date[day].shoots.append(shoot)
            day += timedelta(days=1)


@login_required
def calendar_view(request: HttpRequest) -> HttpResponse:
    """All shoots (that the viewer may see) by week or month, optionally for one person."""
    view = request.GET.get("view") if request.GET.get("view") in (WEEK, MONTH) else WEEK
    anchor = _parse_date(request.GET.get("date"))
    people = list(crew_people())
    person = None
    person_param = request.GET.get("person", "")
    if person_param.isdigit():
        person = next((p for p in people if p.pk == int(person_param)), None)

    if view == WEEK:
        start = anchor - timedelta(days=anchor.weekday())
        end = start + timedelta(days=7)
        prev_anchor, next_anchor = start - timedelta(days=7), end
        days = [Day(start + timedelta(days=i)) for i in range(7)]
    else:
        first = anchor.replace(day=1)
        next_first = (first + timedelta(days=32)).replace(day=1)
        start = first - timedelta(days=first.weekday())
        end = next_first + timedelta(days=(7 - next_first.weekday()) % 7)
        prev_anchor = (first - timedelta(days=1)).replace(day=1)
        next_anchor = next_first
        days = [
            Day(
                start + timedelta(days=i), in_month=(start + timedelta(days=i)).month == first.month
            )
            for i in range((end - start).days)
        ]
    shoots = _visible_shoots(request.user).filter(
        starts_at__lt=_local_midnight(end), ends_at__gt=_local_midnight(start)
    )
    if person is not None:
        shoots = shoots.filter(assignments__user=person)
    _fill(days, shoots)

    def link(**changes: Any) -> str:
        params = {"view": view, "date": anchor.isoformat()}
        if person is not None:
            params["person"] = str(person.pk)
        params.update({k: str(v) for k, v in changes.items()})
        return f"{reverse('crew:calendar')}?{urlencode(params)}"

    context = {
        "view": view,
        "anchor": anchor,
        "start": start,
        "end": end - timedelta(days=1),
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "people": people,
        "person": person,
        "prev_url": link(date=prev_anchor.isoformat()),
        "next_url": link(date=next_anchor.isoformat()),
        "today_url": link(date=timezone.localdate().isoformat()),
        "week_url": link(view=WEEK),
        "month_url": link(view=MONTH),
        "has_shoots": any(d.shoots for d in days),
    }
    return render(request, "crew/calendar/calendar.html", context)


@login_required
def my_schedule(request: HttpRequest) -> HttpResponse:
    """The signed-in person's upcoming shoots."""
    shoots = _visible_shoots(request.user).filter(
        assignments__user_id=int(request.user.pk or 0),
        state=ShootState.PLANNED,
        ends_at__gte=timezone.now(),
    )
    context = {"shoots": shoots, "is_crew_member": permissions.is_crew(request.user)}
    return render(request, "crew/calendar/my_schedule.html", context)


# --- iCal -------------------------------------------------------------------------------


def _feed_urls(request: HttpRequest, token: str) -> dict[str, str]:
    base = settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")
    return {
        "user_feed": base + reverse("crew:ical_user", kwargs={"token": token}),
        "crew_feed": base + reverse("crew:ical_crew", kwargs={"token": token}),
    }


@login_required
@never_cache
def ical_settings(request: HttpRequest) -> HttpResponse:
    """Show the person's feed addresses; POST rotates or revokes them."""
    if not permissions.is_crew(request.user):
        raise PermissionDenied(_("Calendar feeds are for the crew and the press head."))
    profile = ical.profile_of(request.user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            ical.revoke(request.user)
            messages.success(request, _("Your calendar feeds are switched off."))
        elif action == "rotate":
            profile.rotate_ical_token()
            messages.success(
                request, _("Your feeds have a new address; the old one no longer works.")
            )
        return HttpResponseRedirect(reverse("crew:ical_settings"))
    context: dict[str, Any] = {"token": profile.ical_token}
    if profile.ical_token:
        context.update(_feed_urls(request, profile.ical_token))
    return render(request, "crew/calendar/ical_settings.html", context)


def _feed_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def _link_for(shoot: Shoot) -> str:
    return settings.SITE_URL + reverse("crew:shoot", kwargs={"pk": shoot.pk})


def ical_user(request: HttpRequest, token: str) -> HttpResponse:
    """The token owner's shoots as iCalendar; no login (the token is the secret)."""
    user = ical.user_for_token(token)
    if user is None or not permissions.is_crew(user):
        raise Http404(_("No such calendar."))
    name = _("Kadr: shoots of %(name)s") % {"name": user.get_full_name() or user.get_username()}
    content = ical.build_feed(ical.shoots_for_user(user), name=name, link_for=_link_for)
    return _feed_response(content, "kadr-my-shoots.ics")


def ical_crew(request: HttpRequest, token: str) -> HttpResponse:
    """Every shoot as iCalendar, for a crew member's or the press head's token."""
    user = ical.user_for_token(token)
    if user is None or not permissions.is_crew(user):
        raise Http404(_("No such calendar."))
    content = ical.build_feed(
        ical.shoots_for_crew(user), name=_("Kadr: all shoots"), link_for=_link_for
    )
    return _feed_response(content, "kadr-crew-shoots.ics")


urlpatterns: list[URLPattern] = [
    path("calendar/", calendar_view, name="calendar"),
    path("calendar/mine/", my_schedule, name="my_schedule"),
    path("calendar/ical/", ical_settings, name="ical_settings"),
    path("calendar/feed/crew/<str:token>.ics", ical_crew, name="ical_crew"),
    path("calendar/feed/<str:token>.ics", ical_user, name="ical_user"),
]
