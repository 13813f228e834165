from django.apps import AppConfig


class CommandConfig(AppConfig):
    name = "linli.command"
    label = "command"
