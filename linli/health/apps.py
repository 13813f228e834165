from typing import Any

from django.apps import AppConfig
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _rounds_of_event(event: Any) -> str:
    return f"{reverse('health:round_list')}?event={event.pk}"


class HealthConfig(AppConfig):
    name = "linli.health"
    label = "health"

    def ready(self) -> None:
        # Buttons on the event page and the portal banner while an event runs "tests", and the
        # "tested" stage of the emergency closed loop (linli.emergency never imports us).
        from linli.accounts.roles import Perm
        from linli.emergency import selectors as emergency_selectors
        from linli.emergency.measures import MeasureLink, register, workbench_url
        from linli.health import selectors

        register(
            MeasureLink(
                measure="tests",
                label=_("Test rounds"),
                url=_rounds_of_event,
                perm=Perm.VIEW_HEALTH,
            )
        )
        register(
            MeasureLink(
                measure="tests",
                label=_("Vaccination coverage"),
                url=workbench_url("health:coverage", event_arg=False),
                perm=Perm.VIEW_HEALTH,
            )
        )
        register(
            MeasureLink(
                measure="tests",
                label=_("My tests and vaccinations"),
                url=workbench_url("health:portal_mine", event_arg=False),
                portal=True,
            )
        )
        emergency_selectors.register_stage("tested", selectors.tested_counts, selectors.was_tested)
