"""Routes of passes and checkpoints: workbench pages under /w/passes/, resident pages under
/p/passes/ (one include in linli/urls.py)."""

from django.urls import path

from linli.passes import views_gate as g
from linli.passes import views_portal as p
from linli.passes import views_workbench as w

app_name = "passes"

urlpatterns = [
    path("w/passes/", w.home, name="home"),
    path("w/passes/checkpoints/new/", w.checkpoint_create, name="checkpoint_create"),
    path("w/passes/list/", w.pass_list, name="pass_list"),
    path("w/passes/<int:pk>/", w.pass_detail, name="pass_detail"),
    path("w/passes/<int:pk>/<str:action>/", w.pass_action, name="pass_action"),
    path("w/passes/households/<int:pk>/issue/", w.resident_pass_issue, name="resident_issue"),
    path("w/passes/scans/", w.scan_list, name="scan_list"),
    path("w/passes/gate/<int:pk>/", w.gate, name="gate"),
    path("w/passes/gate/<int:pk>/scans/", g.gate_sync, name="gate_sync"),
    path("w/passes/checkpoints/<int:pk>/roster/", w.roster, name="roster"),
    path("w/passes/duty/", w.duty, name="duty"),
    path("w/passes/shifts/<int:pk>/<str:action>/", w.shift_action, name="shift_action"),
    path("w/passes/swaps/<int:pk>/<str:action>/", w.swap_action, name="swap_action"),
    path("w/passes/persons/<int:pk>/health-code/", w.health_code, name="health_code"),
    path("p/passes/", p.home, name="portal_home"),
    path("p/passes/visitor/", p.visitor_new, name="portal_visitor"),
    path("p/passes/<int:pk>/", p.pass_page, name="portal_pass"),
]
