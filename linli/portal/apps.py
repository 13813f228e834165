from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "linli.portal"
    label = "portal"
