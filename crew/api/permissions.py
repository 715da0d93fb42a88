"""DRF permission classes: one-line wrappers around crew.permissions.

The workflow checks again, so these only decide early (and document the
endpoints); a view without them is still safe.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from crew import permissions


class IsPressHead(BasePermission):
    """Triage, scheduling, approval and publishing."""

    message = _("Only the press head may do this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return permissions.can_triage(request.user)


class IsPressService(BasePermission):
    """Crew or press head."""

    message = _("Only the press service may do this.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return permissions.is_crew(request.user)


class CanViewRequest(BasePermission):
    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return permissions.can_view_request(request.user, obj)


class CanEditRequest(BasePermission):
    """Reading is for whoever sees it; editing follows permissions.can_edit_request."""

    message = _("You may not edit this request now.")

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") or permissions.can_edit_request(
            request.user, obj
        )


class CanWorkOnShoot(BasePermission):
    message = _("Only the shoot's crew or the press head may do this.")

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return permissions.can_work_on_shoot(request.user, obj)
