from django.urls import path

from media_pipeline import views

urlpatterns = [
    path("m/<str:token>/<path:path>", views.media_file, name="media-file"),
]
