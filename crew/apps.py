from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrewConfig(AppConfig):
    name = "crew"
    verbose_name = _("Production tracker")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from crew.views import language

        user_logged_in.connect(language.on_login, dispatch_uid="kadr-language-on-login")
