"""The press head's publishing pages: the publish package, recording a publication per
channel, takedowns, the publish job's retry, and the information campaigns."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crew import permissions, publishing, selectors, workflow
from crew.exceptions import KadrError
from crew.models import Campaign, Channel, Publication, ShootRequest, Status


def request_url(pk: int) -> str:
    """The request page (the tracker's); the publish page until that exists."""
    try:
        return reverse("crew:request", kwargs={"pk": pk})
    except NoReverseMatch:
        return reverse("crew:publish", kwargs={"pk": pk})


def request_section(request_obj: ShootRequest, user: Any) -> dict[str, Any]:
    """Context for this feature's part of the request page (its partial template)."""
    publications = list(
        request_obj.publications.select_related("channel", "version", "created_by", "taken_down_by")
    )
    is_press = permissions.can_triage(user)
    publishable = request_obj.status in (Status.APPROVED, Status.PUBLISHED)
    section: dict[str, Any] = {
        "publications": publications,
        "can_publish": is_press and publishable,
        "can_take_down": is_press,
        "publish_url": reverse("crew:publish", kwargs={"pk": request_obj.pk}),
        "embed_code": "",
        "public_url": "",
        "job": None,
    }
    if not publications and not publishable:
        return {"publishing": None}
    if publishable and permissions.is_crew(user):
        version = workflow.approved_version(request_obj)
        if version is not None:
            section["job"] = publishing.job_state(version.media)
            section["retry_url"] = reverse("crew:publish_retry", kwargs={"pk": request_obj.pk})
            is_public = publishing.public_videos().filter(pk=request_obj.pk).exists()
            if is_public:
                section["embed_code"] = publishing.embed_code(request_obj, version.media)
                section["public_url"] = publishing.page_url(request_obj)
                section["public_iri"] = publishing.page_iri(request_obj)
    return {"publishing": section}


class PublishForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.all(), to_field_name="slug", widget=forms.HiddenInput
    )
    url = forms.CharField(
        label=gettext_lazy("Address of the post"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    published_at = forms.DateTimeField(
        label=gettext_lazy("Published at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Empty: now."),
    )
    planned_at = forms.DateTimeField(
        label=gettext_lazy("Or planned for"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    caption = forms.CharField(
        label=gettext_lazy("Caption"),
        required=False,
        max_length=10000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def clean_url(self) -> str:
        value = self.cleaned_data["url"].strip()
        if value:
            problem = publishing.http_url_problem(value)
            if problem:
                raise forms.ValidationError(problem)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("url") and not data.get("planned_at") and not self.errors:
            self.add_error("url", _("Give the address of the post (or a planned time)."))
        return data


def _require_press_service(user: Any) -> None:
    if not permissions.is_crew(user):
        raise Http404(_("No such request."))


@login_required
def publish_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The package for the approved cut and a form per channel (press head records posts)."""
    request_obj = selectors.access_request(request.user, pk)
    _require_press_service(request.user)
    if request_obj.status not in (Status.APPROVED, Status.PUBLISHED):
        messages.error(request, _("Only an approved request can be published."))
        return redirect(request_url(request_obj.pk))
    bound: PublishForm | None = None
    if request.method == "POST":
        permissions.require(permissions.can_triage(request.user))
        bound = PublishForm(request.POST)
        if bound.is_valid():
            data = bound.cleaned_data
            try:
                workflow.publish(
                    request_obj,
                    by=request.user,
                    channel=data["channel"],
                    url=data["url"],
                    published_at=data["published_at"],
                    planned_at=data["planned_at"],
                    caption=data["caption"],
                )
            except KadrError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Recorded the publication on %(channel)s.") % {"channel": data["channel"]},
                )
                return redirect("crew:publish", pk=request_obj.pk)
    package = publishing.build_package(request_obj)
    published: dict[int, list[Publication]] = {}
    for p in request_obj.publications.select_related("channel").filter(taken_down_at__isnull=True):
        published.setdefault(p.channel_id, []).append(p)
    rows = []
    for caption in package.captions:
        form = PublishForm(
            initial={"channel": caption.channel.slug, "caption": caption.text},
            prefix=None,
        )
        if bound is not None and bound.data.get("channel") == caption.channel.slug:
            form = bound
        rows.append(
            {
                "caption": caption,
                "form": form,
                "publications": published.get(caption.channel.pk, []),
            }
        )
    context = {
        "request_obj": request_obj,
        "package": package,
        "rows": rows,
        "can_publish": permissions.can_triage(request.user),
        "request_url": request_url(request_obj.pk),
        "embed_code": publishing.embed_code(request_obj, package.version.media)
        if publishing.public_videos().filter(pk=request_obj.pk).exists()
        else "",
        "public_url": publishing.page_url(request_obj),
        "public_iri": publishing.page_iri(request_obj),
    }
    status = 400 if bound is not None and not bound.is_valid() else 200
    return render(request, "crew/publishing/publish.html", context, status=status)


@login_required
@require_POST
def retry_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the publish renditions again after a failure."""
    request_obj = selectors.access_request(request.user, pk)
    try:
        publishing.retry_publish_job(request_obj, by=request.user)
    except KadrError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The publishing renditions are queued again."))
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("crew:publish", pk=pk)


class TakedownForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is it taken down?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("Say why the video is taken down.")},
    )
    everywhere = forms.BooleanField(
        label=gettext_lazy("Take it down on every channel (and from the public video pages)"),
        required=False,
        initial=True,
    )


@login_required
def takedown_page(request: HttpRequest, pk: int) -> HttpResponse:
    publication = get_object_or_404(
        Publication.objects.select_related("request", "channel", "created_by"),
        pk=pk,
        request__in=selectors.requests_visible_to(request.user),
    )
    permissions.require(permissions.can_triage(request.user))
    request_obj = publication.request
    form = TakedownForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        targets = [publication]
        if form.cleaned_data["everywhere"]:
            targets += list(
                request_obj.publications.filter(taken_down_at__isnull=True).exclude(
                    pk=publication.pk
                )
            )
        try:
            with transaction.atomic():
                for target in targets:
                    workflow.take_down(target, by=request.user, reason=form.cleaned_data["reason"])
        except KadrError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Taken down."))
            return redirect(request_url(request_obj.pk))
    others = request_obj.publications.filter(taken_down_at__isnull=True).exclude(pk=publication.pk)
    return render(
        request,
        "crew/publishing/takedown.html",
        {
            "publication": publication,
            "request_obj": request_obj,
            "others": others.select_related("channel"),
            "form": form,
            "request_url": request_url(request_obj.pk),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@login_required
def campaigns_page(request: HttpRequest) -> HttpResponse:
    visible = selectors.requests_visible_to(request.user)
    campaigns = Campaign.objects.annotate(
        total=Count("requests", filter=Q(requests__in=visible), distinct=True),
        published=Count(
            "requests",
            filter=Q(requests__in=visible, requests__status=Status.PUBLISHED),
            distinct=True,
        ),
    )
    return render(request, "crew/publishing/campaigns.html", {"campaigns": campaigns})


@login_required
def campaign_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign's requests and their states, for the press service."""
    campaign = get_object_or_404(Campaign, pk=pk)
    requests = (
        selectors.requests_visible_to(request.user)
        .filter(campaign=campaign)
        .select_related("department")
        .order_by("-created_at")
    )
    public_ids = set(
        publishing.public_videos().filter(campaign=campaign).values_list("pk", flat=True)
    )
    rows = [
        {
            "request": r,
            "url": request_url(r.pk),
            "public_url": publishing.page_url(r) if r.pk in public_ids else "",
        }
        for r in requests
    ]
    counts: dict[str, int] = {}
    for r in requests:
        counts[r.get_status_display()] = counts.get(r.get_status_display(), 0) + 1
    public_page = ""
    if public_ids:
        public_page = reverse("public:campaign", kwargs={"slug": campaign.slug})
    return render(
        request,
        "crew/publishing/campaign.html",
        {"campaign": campaign, "rows": rows, "counts": counts, "public_page": public_page},
    )


urlpatterns: list[URLPattern] = [
    path("requests/<int:pk>/publish/", publish_page, name="publish"),
    path("requests/<int:pk>/publish/retry/", retry_publish, name="publish_retry"),
    path("publications/<int:pk>/takedown/", takedown_page, name="takedown"),
    path("campaigns/", campaigns_page, name="campaigns"),
    path("campaigns/<int:pk>/", campaign_page, name="campaign"),
]
