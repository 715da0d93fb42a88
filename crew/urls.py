"""The signed-in pages; each feature module owns its own routes."""

from crew.views import publishing, review, shoots, tracker

app_name = "crew"
urlpatterns = [
    *tracker.urlpatterns,
    *shoots.urlpatterns,
    *review.urlpatterns,
    *publishing.urlpatterns,
]
