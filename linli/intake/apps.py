from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "linli.intake"
    label = "intake"
