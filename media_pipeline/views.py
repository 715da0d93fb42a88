"""Serving local-storage objects behind signed, expiring URLs (S3 presigns its own)."""

from __future__ import annotations

import mimetypes
import time

from django.core import signing
from django.http import FileResponse, Http404, HttpRequest

from media_pipeline import storage


def media_file(request: HttpRequest, token: str, path: str) -> FileResponse:
    try:
        data = signing.loads(token, salt=storage.SIGNING_SALT)
    except signing.BadSignature:
        raise Http404("invalid link") from None
    if int(data.get("e", 0)) < time.time():
        raise Http404("expired link")
    if ".." in path.split("/"):
        raise Http404("missing")
    backend = storage.get_storage()
    try:
        local = backend.local_path(f"{data['p']}/{path}")
    except ValueError:
        raise Http404("missing") from None
    if local is None or not local.is_file():
        raise Http404("missing")
    content_type = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
    if local.suffix == ".m3u8":
        content_type = "application/vnd.apple.mpegurl"
    elif local.suffix == ".vtt":
        content_type = "text/vtt"
    name = data.get("n") or None
    response = FileResponse(
        local.open("rb"), content_type=content_type, as_attachment=bool(name), filename=name or ""
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
