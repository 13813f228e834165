from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "linli.register"
    label = "register"
