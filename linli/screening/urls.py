"""Routes of screening campaigns: workbench pages under /w/screening/."""

from django.urls import path

from linli.screening import views as v

app_name = "screening"

urlpatterns = [
    path("w/screening/", v.campaign_list, name="campaign_list"),
    path("w/screening/new/", v.campaign_create, name="campaign_create"),
    path("w/screening/mine/", v.my_targets, name="my_targets"),
    path("w/screening/<int:pk>/", v.campaign_detail, name="campaign_detail"),
    path("w/screening/targets/<int:pk>/", v.target_detail, name="target_detail"),
    path("w/screening/targets/<int:pk>/record/", v.target_record, name="target_record"),
    path("w/screening/targets/<int:pk>/verify/", v.target_verify, name="target_verify"),
    path("w/screening/targets/<int:pk>/call/", v.target_call, name="target_call"),
]
