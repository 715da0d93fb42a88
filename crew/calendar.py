"""iCal feeds of shoots, so phones can subscribe to the crew's calendar.

Two feeds, both at secret URLs that need no login (calendar apps cannot log in):

- a person's own shoots: /calendar/feed/<token>.ics
- the whole crew's shoots: /calendar/feed/crew/<token>.ics

Both use the person's own token (Profile.ical_token). Rotating it on the iCal
settings page kills both old addresses at once; so does taking the person out
of the crew (the whole-crew feed needs the crew role) or deactivating them.

Times are written in Europe/Kyiv (settings.TIME_ZONE) with a VTIMEZONE built
here from the tz database, so a 10:00 shoot stays 10:00 on a phone on both sides
of a daylight-saving change. Each shoot keeps one UID; SEQUENCE grows with every
change after booking (reschedule, cancel, done), and a cancelled shoot stays in
the feed as STATUS:CANCELLED so subscribed calendars drop it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from crew import permissions
from crew.models import Assignment, Profile, Shoot, ShootState, StatusChange

# Shoots that ended longer ago than this drop out of the feeds (phones keep past events).
FEED_HISTORY = timedelta(days=90)
MIN_TOKEN_LENGTH = 20


# --- Time zone ---------------------------------------------------------------------------


def _offset(delta: timedelta | None) -> timedelta:
    return delta or timedelta(0)


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The UTC instants in [start, end) at which the zone's offset changes (to the minute)."""

    def offset_at(t: datetime) -> timedelta:
        return _offset(t.astimezone(zone).utcoffset())

    def first_change(lo: datetime, hi: datetime, step: timedelta) -> datetime:
        # The first step boundary after lo whose offset differs from lo's.
        base, t = offset_at(lo), lo
        while t < hi and offset_at(t) == base:
            t += step
        return t

    found = []
    day = start
    while day < end:
        nxt = day + timedelta(days=1)
        if offset_at(day) != offset_at(nxt):
            hour = first_change(day, nxt, timedelta(hours=1))
            found.append(first_change(hour - timedelta(hours=1), hour, timedelta(minutes=1)))
        day = nxt
    return found


@lru_cache(maxsize=8)
def vtimezone(tzid: str, year: int) -> Timezone:
    """A VTIMEZONE for tzid valid from the start of year-1 to the end of year+3.

    Built from the tz database rather than hard-coded rules, so a change of the
    law (Ukraine has debated dropping DST) arrives with tzdata. Each onset's
    DTSTART/RDATE is the local wall time *before* the change, in TZOFFSETFROM,
    as RFC 5545 §3.6.5 prescribes (e.g. 03:00 for Kyiv's spring change).
    """
    zone = ZoneInfo(tzid)
    start = datetime(year - 1, 1, 1, tzinfo=UTC)
    end = datetime(year + 4, 1, 1, tzinfo=UTC)
    tz = Timezone()
    tz.add("tzid", tzid)
    first = start.astimezone(zone)
    first_offset = _offset(first.utcoffset())
    opening = TimezoneDaylight() if first.dst() else TimezoneStandard()
    opening.add("dtstart", first.replace(tzinfo=None))
    opening.add("tzoffsetfrom", first_offset)
    opening.add("tzoffsetto", first_offset)
    opening.add("tzname", first.tzname() or tzid)
    tz.add_component(opening)

    groups: dict[tuple[bool, timedelta, timedelta, str], list[datetime]] = {}
    for instant in _transitions(zone, start, end):
        before = _offset((instant - timedelta(minutes=1)).astimezone(zone).utcoffset())
        after_local = instant.astimezone(zone)
        after = _offset(after_local.utcoffset())
        key = (bool(after_local.dst()), before, after, after_local.tzname() or tzid)
        groups.setdefault(key, []).append((instant + before).replace(tzinfo=None))
    for (is_dst, before, after, name), onsets in groups.items():
        part = TimezoneDaylight() if is_dst else TimezoneStandard()
        part.add("dtstart", onsets[0])
        if onsets[1:]:
            part.add("rdate", onsets[1:])
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        part.add("tzname", name)
        tz.add_component(part)
    return tz


# --- Tokens ------------------------------------------------------------------------------


def profile_of(user: Any) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def feed_token(user: Any) -> str:
    """The person's feed token, made on first use."""
    profile = profile_of(user)
    return profile.ical_token or profile.rotate_ical_token()


def revoke(user: Any) -> None:
    """Switch the person's feeds off; a new token is made when they ask again."""
    Profile.objects.filter(user=user).update(ical_token="")


def user_for_token(token: str) -> Any | None:
    """The active person whose feed token this is, or None (the view answers 404)."""
    if not token or len(token) < MIN_TOKEN_LENGTH:
        return None
    user = (
        get_user_model()
        .objects.filter(is_active=True, profile__ical_token=token)
        .select_related("profile")
        .first()
    )
    return user


# --- Which shoots ------------------------------------------------------------------------


def _feed_queryset() -> QuerySet[Shoot]:
    return (
        Shoot.objects.filter(ends_at__gte=timezone.now() - FEED_HISTORY)
        .select_related("request")
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("user")),
            "kit",
        )
        .order_by("starts_at")
    )


def shoots_for_user(user: Any) -> QuerySet[Shoot]:
    """The person's own shoots, including cancelled ones so their phone drops them."""
    return _feed_queryset().filter(assignments__user=user)


def shoots_for_crew(user: Any) -> QuerySet[Shoot]:
    """Every shoot, for a member of the crew or the press head; nothing for anyone else."""
    if not permissions.is_crew(user):
        return Shoot.objects.none()
    return _feed_queryset()


def sequences(shoot_ids: Iterable[int]) -> dict[int, int]:
    """Per shoot, how many times it changed after booking: the iCal SEQUENCE."""
    rows = (
        StatusChange.objects.filter(
            subject=StatusChange.Subject.SHOOT, subject_id__in=list(shoot_ids)
        )
        .exclude(from_status="")
        .values("subject_id")
        .annotate(n=Count("id"))
    )
    return {row["subject_id"]: row["n"] for row in rows}


# --- The feed ----------------------------------------------------------------------------


def uid_for(shoot: Shoot) -> str:
    host = urlparse(settings.SITE_URL).hostname or "kadr"
    return f"shoot-{shoot.pk}@{host}"


def describe(shoot: Shoot, link: str) -> str:
    lines = [shoot.request.title]
    crew = [
        f"{a.user.get_full_name() or a.user.get_username()} — {a.get_role_display()}"
        for a in shoot.assignments.all()
    ]
    if crew:
        lines += ["", _("Crew:"), *crew]
    kit = [item.name for item in shoot.kit.all()]
    if kit:
        lines += ["", _("Kit: %(kit)s") % {"kit": ", ".join(kit)}]
    if shoot.notes:
        lines += ["", _("Notes:"), shoot.notes]
    if shoot.state == ShootState.DONE and shoot.log:
        lines += ["", _("Shoot log:"), shoot.log]
    lines += ["", link]
    return "\n".join(lines)


def shoot_event(
    shoot: Shoot, *, zone: ZoneInfo, link: str, sequence: int, stamp: datetime
) -> Event:
    event = Event()
    event.add("uid", uid_for(shoot))
    event.add("dtstamp", stamp)
    event.add("dtstart", shoot.starts_at.astimezone(zone))
    event.add("dtend", shoot.ends_at.astimezone(zone))
    event.add("summary", shoot.request.title)
    if shoot.location:
        event.add("location", shoot.location)
    event.add("description", describe(shoot, link))
    event.add("url", link)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if shoot.state == ShootState.CANCELLED else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if shoot.state == ShootState.CANCELLED else "OPAQUE")
    event.add("created", shoot.created_at)
    return event


def build_feed(shoots: Iterable[Shoot], *, name: str, link_for: Callable[[Shoot], str]) -> bytes:
    """An iCalendar document (RFC 5545) for the shoots."""
    tzid = settings.TIME_ZONE
    zone = ZoneInfo(tzid)
    shoots = list(shoots)
    now = timezone.now()
    seq = sequences(s.pk for s in shoots)
    cal = Calendar()
    cal.add("prodid", "-//Kadr//Shoots//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tzid)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    cal.add_component(vtimezone(tzid, now.astimezone(zone).year))
    for shoot in shoots:
        cal.add_component(
            shoot_event(
                shoot,
                zone=zone,
                link=link_for(shoot),
                sequence=seq.get(shoot.pk, 0),
                stamp=now.astimezone(UTC),
            )
        )
    return cal.to_ical()
