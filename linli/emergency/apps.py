from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "linli.emergency"
    label = "emergency"
