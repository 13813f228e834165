from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "linli.linkage"
    label = "linkage"
