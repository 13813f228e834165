"""Routes of the reports pages (/w/reports/)."""

from django.urls import path

from linli.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/export/", views.template_export, name="template_export"),
    path("templates/<int:pk>/copy/", views.template_copy, name="template_copy"),
    path("templates/import/", views.template_import, name="template_import"),
    path("renders/new/", views.render_create, name="render_create"),
    path("renders/<int:pk>/", views.render_detail, name="render_detail"),
    path("renders/<int:pk>/download/", views.render_download, name="render_download"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/render-due/", views.request_render_due, name="request_render_due"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
]
