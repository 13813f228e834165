from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "linli.notify"
    label = "notify"

    def ready(self) -> None:
        from django.urls import reverse
        from django.utils.translation import gettext_lazy as _

        from linli.accounts.roles import Perm
        from linli.emergency.measures import MeasureLink, register
        from linli.notify import checks  # noqa: F401  (registers the system checks)

        # On the event page of an event with daily check-ins: remind who has not checked in.
        register(
            MeasureLink(
                measure="checkins",
                label=_("Remind who has not checked in today"),
                url=lambda event: reverse("notify:mass_new") + "?target=quarantine&reminder=1",
                perm=Perm.SEND_NOTIFICATIONS,
            )
        )
