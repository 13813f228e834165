"""Routes of the command view (/c/)."""

from django.urls import path

from linli.command import views

app_name = "command"
urlpatterns = [
    path("", views.home, name="home"),
]
