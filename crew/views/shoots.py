from __future__ import annotations

from typing import Any

from django.urls import URLPattern

from crew.models import ShootRequest


def request_section(request_obj: ShootRequest, user: Any) -> dict[str, Any]:
    """Context for this feature's part of the request page (its partial template)."""
    return {}


urlpatterns: list[URLPattern] = []
