"""Pages speak Ukrainian unless the person chose English with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a laptop
set up in English would show the council's staff an English Kadr. Pages follow
only the language cookie (set by the switch), then the signed-in person's choice
(crew/views/language.py), and otherwise LANGUAGE_CODE; the API keeps Django's
negotiation, since other systems ask for a language explicitly.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from crew.views.language import SESSION_KEY


class KadrLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith("/api/"):
            super().process_request(request)
            return
        # This browser's switch, else the person's own choice (set when they signed in).
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "") or request.session.get(
            SESSION_KEY, ""
        )
        available = {code for code, _name in settings.LANGUAGES}
        translation.activate(chosen if chosen in available else settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
