"""Residents' side: no login, published videos only."""

from crew.views import public

app_name = "public"
urlpatterns = [*public.urlpatterns]
