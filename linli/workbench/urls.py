"""Workbench routes (/w/)."""

from django.urls import path

from linli.workbench.views import admin, auth, households, persons, tree

app_name = "workbench"

urlpatterns = [
    path("login/", auth.WorkbenchLoginView.as_view(), name="login"),
    path("logout/", auth.WorkbenchLogoutView.as_view(), name="logout"),
    path("", tree.home, name="home"),
    path("areas/<int:pk>/", tree.area_detail, name="area_detail"),
    path("estates/<int:pk>/", tree.estate_detail, name="estate_detail"),
    path("buildings/<int:pk>/", tree.building_detail, name="building_detail"),
    path("dwellings/<int:pk>/", tree.dwelling_detail, name="dwelling_detail"),
    path("dwellings/<int:pk>/households/new/", tree.household_open, name="household_open"),
    path("households/<int:pk>/", households.household_detail, name="household_detail"),
    path("households/<int:pk>/move/", households.household_move, name="household_move"),
    path("persons/", persons.person_list, name="person_list"),
    path("persons/new/", persons.person_create, name="person_create"),
    path("persons/<int:pk>/", persons.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", persons.person_edit, name="person_edit"),
    path("persons/<int:pk>/reveal/<str:field>/", persons.person_reveal, name="person_reveal"),
    path("persons/<int:pk>/confirm/", persons.person_confirm, name="person_confirm"),
    path("persons/<int:pk>/move-out/", persons.person_move_out, name="person_move_out"),
    path("persons/<int:pk>/death/", persons.person_death, name="person_death"),
    path("persons/<int:pk>/move-house/", persons.person_move_house, name="person_move_house"),
    path("corrections/", admin.correction_list, name="correction_list"),
    path("corrections/<int:pk>/review/", admin.correction_review, name="correction_review"),
    path("audit/", admin.audit_list, name="audit_list"),
    path("users/", admin.user_list, name="user_list"),
    path("users/new/", admin.user_create, name="user_create"),
    path("users/<int:pk>/", admin.user_detail, name="user_detail"),
    path("bindings/<int:pk>/revoke/", admin.binding_revoke, name="binding_revoke"),
    path("tags/", admin.tag_list, name="tag_list"),
    path("tags/new/", admin.tag_create, name="tag_create"),
    path("tags/<int:pk>/edit/", admin.tag_edit, name="tag_edit"),
    path("tags/<int:pk>/toggle/", admin.tag_toggle, name="tag_toggle"),
]
