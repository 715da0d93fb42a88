"""/healthz: is the database, the broker and the storage reachable?

Load balancers and the compose healthcheck call it on the container's own address,
so HealthCheckMiddleware answers it first in the middleware stack: before the
host check (the probe's Host header is not a public host name) and before the
HTTPS redirect (the probe speaks plain HTTP inside the network).
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 2.0
PROBE_BYTES = b"kadr health probe"


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker() -> None:
    """A quick connection to the broker; the filesystem broker needs a writable folder."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        folder = Path(str(options.get("data_folder_in", settings.VAR_DIR / "celery")))
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(f"{folder} is not writable")
        return
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        # One attempt, no retry loop: a health check must answer quickly.
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)


def check_storage() -> None:
    """Write, read back and delete a tiny object under a key nobody else uses."""
    from media_pipeline.storage import get_storage

    backend = get_storage()
    key = f"health/{uuid.uuid4().hex}"
    with tempfile.NamedTemporaryFile(prefix="kadr-health-", delete=False) as tmp:
        tmp.write(PROBE_BYTES)
    path = Path(tmp.name)
    try:
        backend.save_file(key, path, content_type="text/plain")
        with backend.open(key) as stream:
            if stream.read() != PROBE_BYTES:
                raise ValueError("the stored probe reads back differently")
    finally:
        path.unlink(missing_ok=True)
        backend.delete(key)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
}


def run_checks() -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure
            # The details go to the log only: /healthz is public.
            logger.warning("health check %s failed: %r", name, exc)
            results[name] = f"error: {exc.__class__.__name__}"
    return results


def healthz(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503
    )


class HealthCheckMiddleware:
    """Answers /healthz before host validation and the HTTPS redirect (see the docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
