from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "linli.areas"
    label = "areas"
