from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "linli.passes"
    label = "passes"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from linli.accounts.roles import Perm
        from linli.emergency.measures import (
            MeasureLink,
            register,
            register_end_hook,
            workbench_url,
        )
        from linli.passes.services import event_ended

        register(
            MeasureLink(
                measure="passes",
                label=_("Checkpoints and passes"),
                url=workbench_url("passes:home", event_arg=False),
                perm=Perm.VIEW_PASSES,
            )
        )
        register(
            MeasureLink(
                measure="passes",
                label=_("My passes"),
                url=workbench_url("passes:portal_home", event_arg=False),
                portal=True,
            )
        )
        # Ending an event, or stopping its passes measure, closes the passes issued under it
        # and cancels later gate shifts.
        register_end_hook(event_ended, measure="passes")
