"""Publishing reads: the publish package for an approved cut, and what residents may see.

The package and the public pages use the *publish* purpose's outputs only (the full
ladder, made from the original); until that job is ready they say how far it got.
Writes (recording a publication, a takedown) are crew.workflow's.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import uri_to_iri
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crew.exceptions import Conflict
from crew.models import Channel, Publication, ShootRequest, Status, Version, VersionState
from media_pipeline import services, storage
from media_pipeline.models import AssetStatus, MediaAsset, ProcessingJob, Purpose, Rendition

PUBLISH = Purpose.PUBLISH

# Caption styles per channel slug: the platform's caption limit, whether a link to the
# public page belongs in the text (Instagram captions do not link), hashtags on/off.
CAPTION_STYLES: dict[str, dict[str, Any]] = {
    "website": {"limit": None, "link": False, "hashtags": False},
    "youtube": {"limit": 5000, "link": True, "hashtags": True},
    "facebook": {"limit": 63206, "link": True, "hashtags": True},
    "telegram": {"limit": 1024, "link": True, "hashtags": True},
    "instagram": {"limit": 2200, "link": False, "hashtags": True},
}
DEFAULT_STYLE: dict[str, Any] = {"limit": None, "link": True, "hashtags": True}
YOUTUBE_TITLE_LIMIT = 100


# --- URLs -------------------------------------------------------------------------------


def http_url_problem(value: str) -> str:
    """Why a post's address is unusable, or "": only http(s) with a host (no javascript:)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return _("Enter a valid http(s) address.")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return _("The address must start with http:// or https:// and name a site.")
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return _("The address must not contain spaces.")
    return ""


def absolute(url: str) -> str:
    """Feeds, Open Graph tags and embed codes need absolute URLs."""
    if url.startswith("/"):
        return settings.SITE_URL + url
    return url


def public_url(key: str) -> str:
    """A URL residents may load: the CDN when configured, else a long-lived presigned one."""
    backend = storage.get_storage()
    helper = getattr(backend, "public_url", None)
    if helper is not None:
        return absolute(str(helper(key)))
    if settings.KADR_MEDIA_PUBLIC_BASE_URL:
        return f"{settings.KADR_MEDIA_PUBLIC_BASE_URL}/{key}"
    return absolute(backend.url(key, ttl=settings.KADR_PUBLIC_URL_TTL))


def page_url(request: ShootRequest) -> str:
    """The public video page, once the request has its slug (first publication)."""
    if not request.slug:
        return ""
    return absolute(reverse("public:video", kwargs={"slug": request.slug}))


def page_iri(request: ShootRequest) -> str:
    """The public page's address as people read it (Cyrillic, not percent-escapes)."""
    return uri_to_iri(page_url(request))


def embed_url(request: ShootRequest) -> str:
    return absolute(reverse("public:embed", kwargs={"pk": request.pk}))


def embed_code(request: ShootRequest, asset: MediaAsset | None = None) -> str:
    """A responsive <iframe> snippet for the city website; keeps the video's aspect ratio."""
    width, height = 16, 9
    if asset is not None and asset.width and asset.height:
        width, height = asset.width, asset.height
    ratio = round(100 * height / width, 4)
    return (
        f'<div style="position:relative;padding-top:{ratio}%">'
        f'<iframe src="{html.escape(embed_url(request))}" title="{html.escape(request.title)}" '
        'style="position:absolute;inset:0;width:100%;height:100%;border:0" '
        'allow="fullscreen; picture-in-picture" allowfullscreen loading="lazy"></iframe></div>'
    )


# --- The publish purpose's outputs --------------------------------------------------------


def publish_job(asset: MediaAsset) -> ProcessingJob | None:
    return services.job_for(asset, PUBLISH)


def renditions_of(job: ProcessingJob | None) -> list[Rendition]:
    """The current generation's renditions, largest first (an older set is being replaced)."""
    if job is None:
        return []
    return list(job.renditions.filter(generation=job.generation).order_by("-height"))


def web_rendition(renditions: list[Rendition]) -> Rendition | None:
    """The MP4 a feed or a plain <video> offers: 720p where there is one, else the nearest."""
    if not renditions:
        return None
    fitting = [r for r in renditions if r.height <= 720]
    return fitting[0] if fitting else renditions[-1]


@dataclass
class JobState:
    """Where the publish outputs are, as the press head sees it."""

    job: ProcessingJob | None
    ready: bool
    failed: bool
    progress: int
    stage: str
    problem: str  # "" when ready


def job_state(asset: MediaAsset) -> JobState:
    job = publish_job(asset)
    problem = services.purpose_not_ready_reason(asset, PUBLISH)
    return JobState(
        job=job,
        ready=not problem,
        failed=job is not None and job.status == AssetStatus.FAILED,
        progress=job.progress if job else 0,
        stage=job.stage if job else "",
        problem=problem,
    )


# --- Captions ---------------------------------------------------------------------------


def hashtags(request: ShootRequest) -> list[str]:
    """The campaign's hashtags, each as one #word (spaces inside a tag are dropped)."""
    campaign = request.campaign
    if campaign is None or not campaign.hashtag.strip():
        return []
    tags = []
    for part in re.split(r"[,#]+", campaign.hashtag):
        word = re.sub(r"[^\w]+", "", part, flags=re.UNICODE)
        if word:
            tags.append(f"#{word}")
    return tags


def credit(request: ShootRequest) -> str:
    return _("Department: %(department)s") % {"department": request.department.name}


def draft_caption(request: ShootRequest, channel: Channel, *, link: str = "") -> str:
    """A caption for the channel from the request; the press head edits it before posting."""
    style = CAPTION_STYLES.get(channel.slug, DEFAULT_STYLE)
    title = request.title.strip()
    description = request.description.strip()
    if channel.slug == "youtube":
        # YouTube takes the title separately (100 characters) and rejects < > in descriptions.
        title = title[:YOUTUBE_TITLE_LIMIT]
        description = description.replace("<", "").replace(">", "")
    tail: list[str] = [credit(request)]
    if request.campaign is not None and not style["hashtags"]:
        tail.append(_("Campaign: %(name)s") % {"name": request.campaign.name})
    if style["hashtags"]:
        tags = hashtags(request)
        if tags:
            tail.append(" ".join(tags))
    if style["link"] and link:
        tail.append(link)
    limit = style["limit"]
    head = title
    fixed = "\n\n".join([head, *tail])
    if description:
        if limit is not None:
            room = limit - len(fixed) - 2
            if room < len(description):
                description = description[: max(room - 1, 0)].rstrip() + "…" if room > 1 else ""
        if description:
            return "\n\n".join([head, description, *tail])
    return fixed


def caption_limit(channel: Channel) -> int | None:
    limit = CAPTION_STYLES.get(channel.slug, DEFAULT_STYLE)["limit"]
    return int(limit) if limit is not None else None


# --- The package --------------------------------------------------------------------------


@dataclass
class Download:
    label: str
    size: int
    url: str
    width: int | None = None
    height: int | None = None


@dataclass
class Caption:
    channel: Channel
    text: str
    limit: int | None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Package:
    request: ShootRequest
    version: Version
    state: JobState
    downloads: list[Download] = field(default_factory=list)
    poster_url: str = ""
    thumbnail_urls: list[str] = field(default_factory=list)
    hls_url: str = ""
    captions: list[Caption] = field(default_factory=list)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


def limit_warnings(channel: Channel, asset: MediaAsset, downloads: list[Download]) -> list[str]:
    """Where a file or the video itself exceeds what the channel is known to accept."""
    warnings = []
    if channel.max_upload_bytes:
        too_big = [d for d in downloads if d.size > channel.max_upload_bytes]
        fits = [d for d in downloads if 0 < d.size <= channel.max_upload_bytes]
        for d in too_big:
            warnings.append(
                _("%(file)s (%(size)s) is over %(channel)s's upload limit of %(limit)s.")
                % {
                    "file": d.label,
                    "size": _human_size(d.size),
                    "channel": channel.name,
                    "limit": _human_size(channel.max_upload_bytes),
                }
            )
        if too_big and fits:
            warnings.append(_("Upload %(file)s instead.") % {"file": fits[0].label})
    if channel.max_duration_seconds and asset.duration:
        if asset.duration > channel.max_duration_seconds:
            warnings.append(
                _("The video is %(minutes)s min long; %(channel)s accepts at most %(limit)s min.")
                % {
                    "minutes": round(asset.duration / 60, 1),
                    "channel": channel.name,
                    "limit": round(channel.max_duration_seconds / 60, 1),
                }
            )
    return warnings


def _download_base(request: ShootRequest) -> str:
    return (request.slug or slugify(request.title) or f"video-{request.pk}")[:80]


def package_version(request: ShootRequest) -> Version:
    """The cut to publish: the approved one (or, once published, the one already out)."""
    version = (
        request.versions.filter(state=VersionState.APPROVED)
        .select_related("media")
        .order_by("-number")
        .first()
    )
    if version is None:
        raise Conflict(_("There is no approved cut to publish."), status=request.status)
    return version


def build_package(request: ShootRequest) -> Package:
    """Everything the press head needs to post the approved cut on each channel."""
    request.refresh_from_db(fields=["status", "slug"])
    if request.status not in (Status.APPROVED, Status.PUBLISHED):
        raise Conflict(_("Only an approved request has a publish package."), status=request.status)
    version = package_version(request)
    asset = version.media
    state = job_state(asset)
    package = Package(request=request, version=version, state=state)
    channels = list(Channel.objects.all())
    if not state.ready or state.job is None:
        return package
    job, backend, base = state.job, storage.get_storage(), _download_base(request)
    for rendition in renditions_of(job):
        package.downloads.append(
            Download(
                label=rendition.name,
                size=rendition.size,
                width=rendition.width,
                height=rendition.height,
                url=backend.url(rendition.key, download_name=f"{base}-{rendition.name}.mp4"),
            )
        )
    if asset.original_key:
        suffix = PurePosixPath(asset.original_name).suffix.lower()[:8] or ".mp4"
        package.downloads.append(
            Download(
                label=_("original"),
                size=asset.size,
                width=asset.width,
                height=asset.height,
                url=backend.url(asset.original_key, download_name=f"{base}-original{suffix}"),
            )
        )
    if job.poster_key:
        package.poster_url = backend.url(job.poster_key, download_name=f"{base}-poster.jpg")
    package.thumbnail_urls = [
        backend.url(key, download_name=f"{base}-thumbnail-{n}{PurePosixPath(key).suffix}")
        for n, key in enumerate(job.thumbnail_keys or [], start=1)
    ]
    if job.hls_key:
        package.hls_url = backend.url(job.hls_key)
    link = page_iri(request)
    for channel in channels:
        package.captions.append(
            Caption(
                channel=channel,
                text=draft_caption(request, channel, link=link),
                limit=caption_limit(channel),
                warnings=limit_warnings(channel, asset, package.downloads),
            )
        )
    return package


# --- What residents may see -------------------------------------------------------------------


def live_publications() -> QuerySet[Publication]:
    """Publications that are out now: not taken down, published (or planned) in the past."""
    now = timezone.now()
    return Publication.objects.filter(taken_down_at__isnull=True).filter(
        Q(published_at__lte=now) | Q(published_at__isnull=True, planned_at__lte=now)
    )


def public_videos() -> QuerySet[ShootRequest]:
    """Published requests with a live publication, newest first, with `public_at`."""
    live = live_publications().filter(request=OuterRef("pk"))
    first = live.annotate(at=Coalesce("published_at", "planned_at")).order_by("at").values("at")
    return (
        ShootRequest.objects.filter(status=Status.PUBLISHED, slug__isnull=False)
        .filter(Exists(live))
        .annotate(public_at=Subquery(first[:1]))
        .select_related("department", "campaign")
        .order_by(F("public_at").desc(nulls_last=True), "-pk")
    )


@dataclass
class PublicMedia:
    """The URLs a public page plays and shows; empty when the outputs are not there."""

    hls_url: str = ""
    poster_url: str = ""
    mp4: list[dict[str, Any]] = field(default_factory=list)
    default_mp4: dict[str, Any] | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None

    @property
    def playable(self) -> bool:
        return bool(self.hls_url or self.mp4)


def published_version(request: ShootRequest) -> Version | None:
    """The cut that went out: the newest live publication's version."""
    publication = live_publications().filter(request=request).select_related("version").first()
    return publication.version if publication else None


def public_media_for(requests: list[ShootRequest]) -> dict[int, PublicMedia]:
    """What the public pages show for each request, in three queries for any number."""
    assets: dict[int, MediaAsset] = {}
    # Oldest first, so the newest live publication's cut wins.
    for p in (
        live_publications()
        .filter(request__in=requests)
        .select_related("version__media")
        .order_by(F("published_at").asc(nulls_first=True), "created_at")
    ):
        assets[p.request_id] = p.version.media
    jobs = {
        job.asset_id: job
        for job in ProcessingJob.objects.filter(
            asset_id__in=[a.pk for a in assets.values()], purpose=PUBLISH
        )
    }
    renditions: dict[int, list[Rendition]] = {}
    for r in Rendition.objects.filter(job__in=list(jobs.values())).order_by("-height"):
        renditions.setdefault(r.job_id, []).append(r)
    out = {}
    for request_id, asset in assets.items():
        media = PublicMedia(duration=asset.duration, width=asset.width, height=asset.height)
        job = jobs.get(asset.pk)
        if job is not None:
            _fill(
                media,
                job,
                [r for r in renditions.get(job.pk, []) if r.generation == job.generation],
            )
        out[request_id] = media
    return out


def _fill(media: PublicMedia, job: ProcessingJob, renditions: list[Rendition]) -> None:
    default = web_rendition(renditions)
    for r in renditions:
        item = {
            "name": r.name,
            "width": r.width,
            "height": r.height,
            "size": r.size,
            "url": public_url(r.key),
        }
        media.mp4.append(item)
        if r is default:
            media.default_mp4 = item
    if job.hls_key:
        media.hls_url = public_url(job.hls_key)
    if job.poster_key:
        media.poster_url = public_url(job.poster_key)


def public_media(request: ShootRequest) -> PublicMedia:
    return public_media_for([request]).get(request.pk) or PublicMedia()


def public_posters(requests: list[ShootRequest]) -> dict[int, str]:
    """Poster URLs for a page of the grid."""
    return {pk: m.poster_url for pk, m in public_media_for(requests).items() if m.poster_url}


def retry_publish_job(request: ShootRequest, *, by: Any) -> ProcessingJob:
    """Queue the approved cut's publish renditions again (after a failure). Press head."""
    from crew import permissions

    permissions.require(permissions.can_triage(by))
    version = package_version(request)
    return services.request_processing(version.media, PUBLISH)
