"""Workbench routes of the intake (/w/intake/)."""

from django.urls import path

from linli.intake import views

app_name = "intake"

urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.batch_detail, name="batch_detail"),
    path("<int:pk>/mapping/", views.batch_mapping, name="batch_mapping"),
    path("<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("<int:pk>/preview/", views.batch_preview, name="batch_preview"),
    path("<int:pk>/commit/", views.batch_commit, name="batch_commit"),
    path("<int:pk>/rejected.csv", views.batch_rejected, name="batch_rejected"),
    path("profiles/", views.profile_list, name="profile_list"),
    path("profiles/<int:pk>/delete/", views.profile_delete, name="profile_delete"),
]
