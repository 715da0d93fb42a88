"""The language switch: pages follow the cookie it sets, and a signed-in person's choice
is remembered on their profile, so that the e-mails Kadr sends them speak it and a
browser they sign in on later (no cookie yet) does too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.i18n import set_language as django_set_language

from crew.models import Profile

SESSION_KEY = "kadr_language"


def set_language(request: HttpRequest) -> HttpResponse:
    response = django_set_language(request)
    chosen = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and chosen in {code for code, _name in settings.LANGUAGES}
    ):
        Profile.objects.update_or_create(user=request.user, defaults={"language": chosen})
        request.session[SESSION_KEY] = chosen
    return response


def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """The user_logged_in signal: the profile's language for this session's pages."""
    chosen = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    if request is not None and chosen:
        request.session[SESSION_KEY] = chosen
