from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "linli.notify"
    label = "notify"

    def ready(self) -> None:
        from linli.notify import checks  # noqa: F401  (registers the system checks)
