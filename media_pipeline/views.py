"""Serving stored media behind signed, expiring folder tokens.

Local storage: the file itself, with HTTP Range support so players can seek in an
MP4. S3: a private bucket cannot serve an HLS playlist through one presigned URL
(its relative references would be unsigned), so playlists and WebVTT tracks are
read here and every reference is rewritten: segments and sprites to presigned URLs,
variant playlists back to this view under the same token. Anything else redirects
to a presigned URL.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from media_pipeline import storage

PLAYLIST_LIMIT = 2 * 1024 * 1024  # a playlist or a WebVTT track larger than this is not ours
BLOCK = 256 * 1024
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
URI_ATTR_RE = re.compile(r'URI="([^"]*)"')
EXTINF_RE = re.compile(r"^#EXTINF:([0-9.]+)")
VTT_TIME_RE = re.compile(r"-->\s*(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)")
SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def content_type_of(name: str) -> str:
    if name.endswith(".m3u8"):
        return "application/vnd.apple.mpegurl"
    if name.endswith(".vtt"):
        return "text/vtt"
    if name.endswith(".ts"):
        return "video/mp2t"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@require_safe
def media_file(request: HttpRequest, token: str, path: str) -> HttpResponseBase:
    data = storage.read_folder_token(token)
    if data is None:
        raise Http404("invalid or expired link")
    parts = path.split("/")
    if ".." in parts or "" in parts or "\x00" in path:
        raise Http404("missing")
    key = f"{data['p']}/{path}" if data["p"] else path
    backend = storage.get_storage()
    try:
        local = backend.local_path(key)
    except ValueError:
        raise Http404("missing") from None
    if local is not None:
        if not local.is_file():
            raise Http404("missing")
        return _serve_local(request, local, download_name=data.get("n") or "")
    if storage.is_rewritten(key):
        return _serve_rewritten(backend, token, data, key)
    # Everything else on S3: a presigned URL for as long as the token still runs.
    return HttpResponseRedirect(backend.direct_url(key, ttl=settings.KADR_SIGNED_URL_TTL))


# --- local files with Range -------------------------------------------------------------


def _byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, end inclusive) for one satisfiable range; None to send it all; False for 416."""
    match = RANGE_RE.match(header.strip())
    if not match:
        return None  # several ranges or another unit: the whole file is a valid answer
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


def _read_span(fh: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    with fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(BLOCK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def _serve_local(request: HttpRequest, local: Path, *, download_name: str) -> HttpResponseBase:
    size = local.stat().st_size
    wanted = (
        _byte_range(request.headers.get("Range", ""), size) if "Range" in request.headers else None
    )
    if wanted is False:
        response: HttpResponseBase = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted if isinstance(wanted, tuple) else (0, size - 1)
        length = max(0, end - start + 1)
        body = _read_span(local.open("rb"), start, length) if request.method != "HEAD" else iter(())
        response = StreamingHttpResponse(
            body,
            status=206 if isinstance(wanted, tuple) else 200,
            content_type=content_type_of(local.name),
        )
        response["Content-Length"] = str(length)
        if isinstance(wanted, tuple):
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name) or ""
    return response


# --- playlists and WebVTT on S3 ---------------------------------------------------------


def _serve_rewritten(backend: storage.Storage, token: str, data: dict, key: str) -> HttpResponse:
    try:
        text = backend.read_bytes(key, PLAYLIST_LIMIT).decode("utf-8")
    except storage.StorageError:
        raise Http404("missing") from None
    except UnicodeDecodeError:
        raise Http404("not a playlist") from None
    folder = data["p"]
    relative_dir = posixpath.dirname(key[len(folder) + 1 :] if folder else key)
    if key.endswith(".m3u8"):
        seconds = sum(float(m.group(1)) for m in map(EXTINF_RE.match, text.splitlines()) if m)
    else:
        seconds = max((_vtt_seconds(m) for m in VTT_TIME_RE.finditer(text)), default=0.0)
    # Segments must stay fetchable while the video plays, so they outlive the page token.
    ttl = int(settings.KADR_SIGNED_URL_TTL + seconds)

    def sign(reference: str) -> str:
        if SCHEME_RE.match(reference) or reference.startswith("/"):
            return reference
        target, _, fragment = reference.partition("#")
        target = target.split("?", 1)[0]
        joined = posixpath.normpath(posixpath.join(relative_dir, target))
        if joined.startswith("..") or not target:
            return reference
        if joined.endswith(".m3u8"):
            signed = reverse("media-file", kwargs={"token": token, "path": joined})
        else:
            signed = backend.direct_url(f"{folder}/{joined}" if folder else joined, ttl=ttl)
        return f"{signed}#{fragment}" if fragment else signed

    if key.endswith(".m3u8"):
        body = _rewrite_playlist(text, sign)
    else:
        body = _rewrite_vtt(text, sign)
    response = HttpResponse(body, content_type=content_type_of(key))
    # It carries signed URLs: never cache it beyond this viewer.
    response["Cache-Control"] = "private, no-store"
    return response


def _vtt_seconds(match: re.Match[str]) -> float:
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def _rewrite_playlist(text: str, sign: Callable[[str], str]) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            lines.append(line)
        elif stripped.startswith("#"):
            lines.append(URI_ATTR_RE.sub(lambda m: f'URI="{sign(m.group(1))}"', line))
        else:
            lines.append(sign(stripped))
    return "\n".join(lines) + "\n"


def _rewrite_vtt(text: str, sign: Callable[[str], str]) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        is_reference = (
            stripped
            and "-->" not in stripped
            and not stripped.startswith(("WEBVTT", "NOTE"))
            and " " not in stripped
            and ("#xywh=" in stripped or "." in stripped.split("#", 1)[0])
        )
        lines.append(sign(stripped) if is_reference else line)
    return "\n".join(lines) + "\n"
