from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crew import permissions


def kadr(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"role": None}
    return {
        "role": permissions.role_of(user),
        "is_press": permissions.is_press(user),
        "is_crew": permissions.is_crew(user),
        "unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
    }
