"""API v1 (PRODUCT.md "API contract"); each feature module owns its own routes."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crew.api import publishing, review, shoots, tracker
from media_pipeline import api as media_api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *tracker.urlpatterns,
    *shoots.urlpatterns,
    *review.urlpatterns,
    *publishing.urlpatterns,
    *media_api.urlpatterns,
]
