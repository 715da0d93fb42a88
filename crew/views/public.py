"""Residents' side: no login, published and not taken-down videos only.

Everything here starts from publishing.public_videos(), so an unpublished or taken-down
request is a 404 whether it is guessed by slug or by id. Only the embed view may be framed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.feedgenerator import Enclosure, Rss201rev2Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from crew import publishing
from crew.models import Campaign, Department, ShootRequest

PAGE_SIZE = 12
FEED_SIZE = 50
HLS_CANDIDATES = ("vendor/hls.js/hls.min.js", "vendor/hls.js/hls.light.min.js")


def _hls_script() -> str:
    """The vendored hls.js, if the review work put it there; otherwise plain <video>."""
    for candidate in HLS_CANDIDATES:
        if finders.find(candidate):
            return candidate
    return ""


def _get_video(slug: str) -> ShootRequest:
    try:
        return publishing.public_videos().get(slug=slug)
    except ShootRequest.DoesNotExist:
        raise Http404(_("No such video.")) from None


def _filtered(request: HttpRequest) -> tuple[QuerySet[ShootRequest], dict[str, Any]]:
    videos = publishing.public_videos()
    q = request.GET.get("q", "").strip()[:100]
    campaign = request.GET.get("campaign", "").strip()[:200]
    department = request.GET.get("department", "").strip()
    if q:
        # SQLite folds only ASCII case in LIKE; trying the usual spellings covers Cyrillic.
        match = Q()
        for variant in {q, q.lower(), q.upper(), q.capitalize()}:
            match |= Q(title__icontains=variant) | Q(description__icontains=variant)
        videos = videos.filter(match)
    if campaign:
        videos = videos.filter(campaign__slug=campaign)
    # A department id people could type: digits that fit a database integer.
    if department.isdigit() and len(department) <= 9:
        videos = videos.filter(department_id=int(department))
    elif department:
        videos = videos.none()
    return videos, {"q": q, "campaign": campaign, "department": department}


def _cards(requests: list[ShootRequest]) -> list[dict[str, Any]]:
    posters = publishing.public_posters(requests)
    return [{"video": r, "poster_url": posters.get(r.pk, "")} for r in requests]


@require_GET
def videos(request: HttpRequest) -> HttpResponse:
    """The poster grid, newest first, with search and department/campaign filters."""
    qs, filters = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    public = publishing.public_videos()
    context = {
        "page": page,
        "cards": _cards(list(page.object_list)),
        "filters": filters,
        "departments": Department.objects.filter(requests__in=public).distinct(),
        "campaigns": Campaign.objects.filter(requests__in=public).distinct(),
        "querystring": urlencode({k: v for k, v in filters.items() if v}),
    }
    return render(request, "public/videos.html", context)


def _player_context(video: ShootRequest) -> dict[str, Any]:
    media = publishing.public_media(video)
    return {
        "video": video,
        "media": media,
        "hls_script": _hls_script(),
        "page_url": publishing.page_url(video),
        "embed_url": publishing.embed_url(video),
    }


@require_GET
def video(request: HttpRequest, slug: str) -> HttpResponse:
    """The player page with its description and sharing tags (Open Graph, Twitter card)."""
    found = _get_video(slug)
    context = _player_context(found)
    if found.campaign_id:
        context["more"] = _cards(
            list(
                publishing.public_videos()
                .filter(campaign_id=found.campaign_id)
                .exclude(pk=found.pk)[:4]
            )
        )
    return render(request, "public/video.html", context)


@xframe_options_exempt
@require_GET
def embed(request: HttpRequest, pk: int) -> HttpResponse:
    """A bare player for an <iframe> on the city website: the one framable page."""
    try:
        found = publishing.public_videos().get(pk=pk)
    except ShootRequest.DoesNotExist:
        raise Http404(_("No such video.")) from None
    return render(request, "public/embed.html", _player_context(found))


@require_GET
def campaign(request: HttpRequest, slug: str) -> HttpResponse:
    """A campaign's published videos; a campaign with none is not shown at all."""
    found = Campaign.objects.filter(slug=slug).first()
    qs = publishing.public_videos().filter(campaign=found) if found else None
    if found is None or qs is None or not qs.exists():
        raise Http404(_("No such campaign."))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "public/campaign.html",
        {"campaign": found, "page": page, "cards": _cards(list(page.object_list))},
    )


# --- Feeds ------------------------------------------------------------------------------


class MediaRssFeed(Rss201rev2Feed):
    """RSS 2.0 with Media RSS (https://www.rssboard.org/media-rss) for video players."""

    def rss_attributes(self) -> dict[str, str]:
        attrs = super().rss_attributes()
        attrs["xmlns:media"] = "http://search.yahoo.com/mrss/"
        return attrs

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        contents = item.get("media_contents") or []
        if contents:
            handler.startElement("media:group", {})
            for attrs in contents:
                handler.addQuickElement("media:content", "", attrs)
            handler.endElement("media:group")
        handler.addQuickElement("media:title", item["title"], {"type": "plain"})
        if item.get("description"):
            handler.addQuickElement("media:description", item["description"], {"type": "plain"})
        if item.get("media_thumbnail"):
            handler.addQuickElement("media:thumbnail", "", {"url": item["media_thumbnail"]})


def _feed_items(request: HttpRequest) -> list[tuple[ShootRequest, publishing.PublicMedia]]:
    qs, _filters = _filtered(request)
    videos = list(qs[:FEED_SIZE])
    media = publishing.public_media_for(videos)
    return [(v, media.get(v.pk) or publishing.PublicMedia()) for v in videos]


# Characters XML 1.0 cannot carry; pasted text sometimes has them, and the feed must not 500.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _tags(item: ShootRequest) -> list[str]:
    return [item.department.name] + ([item.campaign.name] if item.campaign else [])


def _public_at(item: ShootRequest) -> datetime:
    """When it went out (annotated by public_videos())."""
    return getattr(item, "public_at", None) or item.created_at


def _feed_title() -> str:
    return _("City council videos")


@require_GET
def feed_rss(request: HttpRequest) -> HttpResponse:
    feed = MediaRssFeed(
        title=_feed_title(),
        link=publishing.absolute(reverse("public:videos")),
        description=_("Video stories published by the city council's press service."),
        language=get_language() or "uk",
        feed_url=publishing.absolute(reverse("public:feed_rss")),
    )
    for item, media in _feed_items(request):
        default = media.default_mp4
        contents = [
            {
                "url": m["url"],
                "type": "video/mp4",
                "medium": "video",
                "fileSize": str(m["size"]),
                "width": str(m["width"]),
                "height": str(m["height"]),
                **({"duration": str(round(media.duration))} if media.duration else {}),
                **({"isDefault": "true"} if m is default else {}),
            }
            for m in media.mp4
        ]
        categories = [_xml_safe(c) for c in _tags(item)]
        feed.add_item(
            title=_xml_safe(item.title),
            link=publishing.page_url(item),
            description=_xml_safe(item.description),
            unique_id=publishing.page_url(item),
            unique_id_is_permalink=True,
            pubdate=_public_at(item),
            categories=categories,
            enclosures=[Enclosure(default["url"], str(default["size"]), "video/mp4")]
            if default
            else None,
            media_contents=contents,
            media_thumbnail=media.poster_url,
        )
    response = HttpResponse(content_type="application/rss+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


@require_GET
def feed_json(request: HttpRequest) -> JsonResponse:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) with the MP4 as an attachment."""
    items = []
    for item, media in _feed_items(request):
        entry: dict[str, Any] = {
            "id": publishing.page_url(item),
            "url": publishing.page_url(item),
            "title": item.title,
            "content_text": item.description or item.title,
            "date_published": timezone.localtime(_public_at(item)).isoformat(),
            "tags": _tags(item),
            "_kadr": {"embed_url": publishing.embed_url(item), "hls_url": media.hls_url},
        }
        if media.poster_url:
            entry["image"] = media.poster_url
        if media.default_mp4:
            attachment: dict[str, Any] = {
                "url": media.default_mp4["url"],
                "mime_type": "video/mp4",
                "size_in_bytes": media.default_mp4["size"],
                "title": media.default_mp4["name"],
            }
            if media.duration:
                attachment["duration_in_seconds"] = round(media.duration, 1)
            entry["attachments"] = [attachment]
        items.append(entry)
    body = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": _feed_title(),
        "home_page_url": publishing.absolute(reverse("public:videos")),
        "feed_url": publishing.absolute(reverse("public:feed_json")),
        "language": get_language() or "uk",
        "items": items,
    }
    return JsonResponse(
        body, content_type="application/feed+json", json_dumps_params={"ensure_ascii": False}
    )


urlpatterns: list[URLPattern] = [
    path("videos/", videos, name="videos"),
    path("videos/feed.rss", feed_rss, name="feed_rss"),
    path("videos/feed.json", feed_json, name="feed_json"),
    path("videos/campaigns/<str:slug>/", campaign, name="campaign"),
    path("videos/<str:slug>/", video, name="video"),
    path("embed/<int:pk>/", embed, name="embed"),
]
