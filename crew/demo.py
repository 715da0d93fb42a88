"""The standing data Kadr starts with: roles, channels, and the demo city's
departments and people. Used by seed_demo and by the tests, so both agree."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _

from crew import permissions
from crew.models import Channel, Department, Kit, Profile

DEPARTMENTS: list[tuple[str, str]] = [
    ("Охорона здоров'я", Department.Kind.COUNCIL),
    ("Освіта", Department.Kind.COUNCIL),
    ("Комунальне господарство", Department.Kind.ENTERPRISE),
    ("ЦНАП", Department.Kind.INSTITUTION),
    ("Соціальний захист", Department.Kind.COUNCIL),
    ("ІТ та аналітика", Department.Kind.COUNCIL),
    ("Апарат міського голови", Department.Kind.MAYOR),
]
HEALTH, EDUCATION = DEPARTMENTS[0][0], DEPARTMENTS[1][0]

# slug, name, known upload limit (bytes), duration limit (s)
CHANNELS: list[tuple[str, str, int | None, int | None]] = [
    ("website", "Вебсайт міської ради", None, None),
    ("youtube", "YouTube", 256 * 1024**3, 12 * 3600),
    ("facebook", "Facebook", 10 * 1024**3, 240 * 60),
    ("telegram", "Telegram", 2 * 1024**3, None),
    ("instagram", "Instagram", 4 * 1024**3, 15 * 60),
]

KIT: list[tuple[str, str]] = [
    ("Sony FX3", Kit.Kind.CAMERA),
    ("Canon XA40", Kit.Kind.CAMERA),
    ("DJI Mini 4 Pro", Kit.Kind.DRONE),
    ("Aputure світло", Kit.Kind.LIGHTS),
    ("Петличка Rode", Kit.Kind.MICROPHONE),
    ("Службове авто", Kit.Kind.CAR),
]

# username: (first, last, role group, department name or None)
USERS: dict[str, tuple[str, str, str, str | None]] = {
    "press": ("Оксана", "Мельник", permissions.PRESS, None),
    "operator": ("Андрій", "Коваль", permissions.CREW, None),
    "editor": ("Ірина", "Бойко", permissions.CREW, None),
    "journalist": ("Марта", "Гнатів", permissions.CREW, None),
    "health": ("Наталія", "Шевчук", permissions.REQUESTER, HEALTH),
    "education": ("Богдан", "Ткачук", permissions.REQUESTER, EDUCATION),
}

ROLE_LABELS = {
    permissions.PRESS: _("press head"),
    permissions.CREW: _("crew"),
    permissions.REQUESTER: _("requester"),
}


def ensure_roles() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in permissions.ROLE_GROUPS}


def ensure_departments() -> dict[str, Department]:
    return {
        name: Department.objects.get_or_create(name=name, defaults={"kind": kind})[0]
        for name, kind in DEPARTMENTS
    }


def ensure_channels() -> dict[str, Channel]:
    out = {}
    for position, (slug, name, limit, duration) in enumerate(CHANNELS):
        out[slug] = Channel.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "max_upload_bytes": limit,
                "max_duration_seconds": duration,
                "position": position,
            },
        )[0]
    return out


def ensure_kit() -> dict[str, Kit]:
    return {
        name: Kit.objects.get_or_create(name=name, defaults={"kind": kind})[0] for name, kind in KIT
    }


def ensure_users(password: str | None = None) -> dict[str, User]:
    """The demo people; an existing user keeps their password unless one is given."""
    roles = ensure_roles()
    departments = ensure_departments()
    users = {}
    for username, (first, last, role, department) in USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@kadr.local"},
        )
        if created or password:
            user.set_password(password or username)
            user.save()
        user.groups.set([roles[role]])
        Profile.objects.update_or_create(
            user=user, defaults={"department": departments[department] if department else None}
        )
        users[username] = user
    return users
