from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "linli.screening"
    label = "screening"

    def ready(self) -> None:
        # The event page shows the screening campaigns while an event runs the measure.
        from linli.accounts.roles import Perm
        from linli.emergency.measures import MeasureLink, register

        register(
            MeasureLink(
                measure="screening",
                label=_("Screening campaigns"),
                url=_event_campaigns,
                perm=Perm.VIEW_SCREENING,
            )
        )


def _event_campaigns(event: object) -> str:
    from django.urls import reverse

    return reverse("screening:campaign_list") + f"?event={getattr(event, 'pk', '')}"
