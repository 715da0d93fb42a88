"""One error shape for the API: {"detail": "..."} (plus fields), mapped from tracker errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crew.exceptions import KadrError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, KadrError):
        body: dict[str, Any] = {"detail": exc.message}
        field = exc.details.get("field")
        if exc.status_code == 400 and field:
            body[field] = [exc.message]
        body.update({k: v for k, v in exc.details.items() if k != "field"})
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
