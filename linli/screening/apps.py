from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "linli.screening"
    label = "screening"

    def ready(self) -> None:
        # The event page shows the screening campaigns while an event runs the measure.
        from linli.accounts.roles import Perm
        from linli.emergency import selectors as emergency_selectors
        from linli.emergency.measures import MeasureLink, register
        from linli.screening import selectors

        register(
            MeasureLink(
                measure="screening",
                label=_("Screening campaigns"),
                url=_event_campaigns,
                perm=Perm.VIEW_SCREENING,
            )
        )
        # Its targets count in the emergency closed loop (the emergency app imports nothing).
        emergency_selectors.register_stage(
            "screened", selectors.screened_counts, selectors.was_screened
        )
        emergency_selectors.register_stage(
            "verified", selectors.verified_counts, selectors.was_verified
        )
        emergency_selectors.register_stage(
            "pending", selectors.pending_counts, selectors.is_pending
        )


def _event_campaigns(event: object) -> str:
    from django.urls import reverse

    return reverse("screening:campaign_list") + f"?event={getattr(event, 'pk', '')}"
