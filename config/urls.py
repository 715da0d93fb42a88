from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import health
from crew.views import language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", include("crew.api.urls")),
    path("", include("media_pipeline.urls")),
    path("", include("crew.public_urls")),
    path("", include("crew.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
