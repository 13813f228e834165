"""Routes of tests and vaccinations: workbench pages under /w/health/, the resident's own
records under /p/health/ (one include in linli/urls.py)."""

from django.urls import path

from linli.health import views as v

app_name = "health"

urlpatterns = [
    path("w/health/rounds/", v.round_list, name="round_list"),
    path("w/health/rounds/new/", v.round_open, name="round_open"),
    path("w/health/rounds/<int:pk>/", v.round_detail, name="round_detail"),
    path("w/health/rounds/<int:pk>/missing/", v.round_missing, name="round_missing"),
    path("w/health/rounds/<int:pk>/close/", v.round_close, name="round_close"),
    path("w/health/rounds/<int:pk>/sample/", v.sampling, name="sampling"),
    path("w/health/rounds/<int:pk>/results/", v.results, name="results"),
    path("w/health/import/", v.import_view, name="import"),
    path("w/health/import/rejected.xlsx", v.import_rejects, name="import_rejects"),
    path("w/health/import/<int:pk>/", v.import_run, name="import_run"),
    path("w/health/import/<int:pk>/progress/", v.import_run_progress, name="import_run_progress"),
    path("w/health/import/<int:pk>/rejected.xlsx", v.import_run_rejects, name="import_run_rejects"),
    path("w/health/vaccinations/", v.coverage, name="coverage"),
    path("w/health/vaccinations/missing/", v.unvaccinated, name="unvaccinated"),
    path("w/health/persons/<int:pk>/", v.person_health, name="person"),
    path("w/health/alerts/", v.alert_list, name="alert_list"),
    path("w/health/alerts/<int:pk>/", v.alert_detail, name="alert_detail"),
    path("p/health/", v.portal_mine, name="portal_mine"),
]
