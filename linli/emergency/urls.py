"""Routes of emergency mode: workbench pages under /w/e/, resident pages under /p/e/, and the
public certificate check under /verify/ (one include in linli/urls.py)."""

from django.urls import path

from linli.emergency import views_portal as p
from linli.emergency import views_workbench as w

app_name = "emergency"

urlpatterns = [
    path("w/e/", w.event_list, name="event_list"),
    path("w/e/new/", w.event_declare, name="event_declare"),
    path("w/e/<int:pk>/", w.event_detail, name="event_detail"),
    path("w/e/<int:pk>/edit/", w.event_change, name="event_change"),
    path("w/e/<int:pk>/end/", w.event_end, name="event_end"),
    path("w/e/<int:pk>/risk-areas/", w.risk_areas, name="risk_areas"),
    path("w/e/<int:pk>/arrivals/", w.arrival_list, name="arrival_list"),
    path("w/e/<int:pk>/arrivals/new/", w.arrival_create, name="arrival_create"),
    path("w/e/risk-areas/<int:pk>/", w.risk_area_edit, name="risk_area_edit"),
    path("w/e/arrivals/<int:pk>/", w.arrival_detail, name="arrival_detail"),
    path("w/e/quarantines/", w.quarantine_list, name="quarantine_list"),
    path("w/e/quarantines/<int:pk>/", w.quarantine_detail, name="quarantine_detail"),
    path("w/e/quarantines/<int:pk>/check-in/", w.checkin_create, name="checkin_create"),
    path("w/e/quarantines/<int:pk>/extend/", w.quarantine_extend, name="quarantine_extend"),
    path("w/e/quarantines/<int:pk>/transfer/", w.quarantine_transfer, name="quarantine_transfer"),
    path("w/e/quarantines/<int:pk>/release/", w.quarantine_release, name="quarantine_release"),
    path("w/e/quarantines/<int:pk>/certificate.pdf", w.certificate_pdf, name="certificate_pdf"),
    path("w/e/tasks/", w.task_list, name="task_list"),
    path("w/e/tasks/<int:pk>/done/", w.task_done, name="task_done"),
    path("w/e/posters/<int:pk>/", w.poster, name="poster"),
    path("w/e/persons/<int:pk>/measure/", w.person_measure, name="person_measure"),
    path("p/e/", p.home, name="portal_home"),
    path("p/e/phone/", p.phone, name="portal_phone"),
    path("p/e/code/", p.code, name="portal_code"),
    path("p/e/arrive/<str:token>/", p.arrive, name="arrive"),
    path("p/e/q/<int:pk>/check-in/", p.checkin, name="portal_checkin"),
    path("p/e/q/<int:pk>/certificate.pdf", p.certificate, name="portal_certificate"),
    path("verify/", p.verify, name="verify"),
    path("verify/<str:number>/", p.verify_online, name="verify_online"),
]
