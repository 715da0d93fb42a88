"""Errors the tracker raises; the API and the pages turn each into one status code."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


class KadrError(Exception):
    status_code = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Forbidden(KadrError):
    """403: the person is known but their role may not do this."""

    status_code = 403


class NotVisible(KadrError):
    """404: missing and forbidden-to-see look the same."""

    status_code = 404


class InvalidTransition(KadrError):
    """409: the object is not in a state that allows this (or another writer won)."""

    status_code = 409


class Conflict(KadrError):
    """409: the action clashes with something else (a schedule, a newer cut, a missing file)."""

    status_code = 409


class ScheduleConflict(Conflict):
    def __init__(self, clashes: list[dict[str, Any]]) -> None:
        super().__init__(_("The shoot clashes with another booking."), clashes=clashes)
        self.clashes = clashes
