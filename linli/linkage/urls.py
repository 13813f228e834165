"""Workbench routes of the linkage app (/w/linkage/)."""

from django.urls import path

from linli.linkage import views

app_name = "linkage"

urlpatterns = [
    path("review/", views.review, name="review"),
    path("review/refresh/", views.review_refresh, name="review_refresh"),
    path("review/<int:pk>/merge/", views.candidate_merge, name="candidate_merge"),
    path("review/<int:pk>/keep-apart/", views.candidate_keep_apart, name="candidate_keep_apart"),
    path("review/<int:pk>/undo/", views.candidate_undo, name="candidate_undo"),
    path("followups/", views.followups, name="followups"),
    path("followups/<int:pk>/<str:action>/", views.flag_action, name="flag_action"),
    path("lists/", views.lists, name="lists"),
    path("lists/new/", views.list_upload, name="list_upload"),
    path("lists/<int:pk>/", views.list_detail, name="list_detail"),
    path("lists/runs/<int:pk>/", views.list_run, name="list_run"),
    path("lists/runs/<int:pk>/progress/", views.list_run_progress, name="list_run_progress"),
    path("lists/<int:pk>/not-found.csv", views.list_report, name="list_report"),
    path("categories/", views.category_list, name="category_list"),
    path("categories/new/", views.category_edit, name="category_create"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
]
