"""Routes of the resident portal (/p/)."""

from django.urls import path

from linli.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_phone, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", views.logout_view, name="logout"),
    path("correct/<int:person_id>/", views.correct, name="correct"),
]
