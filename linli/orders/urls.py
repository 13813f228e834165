"""Routes of work orders: the workbench (/w/orders/), the portal (/p/orders/), the photos, and
Open311 GeoReport v2 (/open311/v2/)."""

from django.urls import path

from linli.orders import open311, portal_views, views

app_name = "orders"

urlpatterns = [
    path("w/orders/", views.board, name="board"),
    path("w/orders/new/", views.order_create, name="order_create"),
    path("w/orders/stats/", views.stats, name="stats"),
    path("w/orders/categories/", views.category_list, name="category_list"),
    path("w/orders/categories/new/", views.category_create, name="category_create"),
    path("w/orders/categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("w/orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("w/orders/<int:pk>/<slug:action>/", views.order_action, name="order_action"),
    path("orders/photos/<int:pk>/", views.attachment, name="attachment"),
    path("p/orders/", portal_views.my_orders, name="portal_list"),
    path("p/orders/new/", portal_views.order_new, name="portal_new"),
    path("p/orders/<int:pk>/", portal_views.order_detail, name="portal_detail"),
    path("p/orders/<int:pk>/<slug:action>/", portal_views.order_action, name="portal_action"),
    path("open311/v2/services.json", open311.services, name="open311_services"),
    path("open311/v2/requests.json", open311.requests, name="open311_requests"),
    path(
        "open311/v2/requests/<str:request_id>.json",
        open311.request_detail,
        name="open311_request",
    ),
]
