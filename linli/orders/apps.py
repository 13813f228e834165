from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "linli.orders"
    label = "orders"
