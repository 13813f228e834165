from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "linli.notify"
    label = "notify"
