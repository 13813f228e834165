"""Routes of supplies: workbench pages under /w/supplies/, the household's under /p/supplies/."""

from django.urls import path

from linli.supplies import views as v

app_name = "supplies"

urlpatterns = [
    path("w/supplies/", v.request_board, name="request_board"),
    path("w/supplies/<int:pk>/", v.request_detail, name="request_detail"),
    path("w/supplies/stock/", v.stock_list, name="stock_list"),
    path("w/supplies/stock/new/", v.stock_item_create, name="stock_item_create"),
    path("w/supplies/stock/<int:pk>/", v.stock_item_detail, name="stock_detail"),
    path("w/supplies/stock/<int:pk>/receive/", v.stock_receive, name="stock_receive"),
    path("w/supplies/stock/<int:pk>/issue/", v.stock_issue, name="stock_issue"),
    path("w/supplies/stock/<int:pk>/adjust/", v.stock_adjust, name="stock_adjust"),
    path("w/supplies/movements/<int:pk>/reverse/", v.movement_reverse, name="movement_reverse"),
    path("p/supplies/", v.portal_list, name="portal_list"),
    path("p/supplies/q/<int:pk>/new/", v.portal_new, name="portal_new"),
    path("p/supplies/<int:pk>/receive/", v.portal_receive, name="portal_receive"),
]
