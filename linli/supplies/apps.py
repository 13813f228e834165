from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliesConfig(AppConfig):
    name = "linli.supplies"
    label = "supplies"

    def ready(self) -> None:
        # The event page and the portal banner show supplies while an event runs the measure.
        from linli.accounts.roles import Perm
        from linli.emergency.measures import MeasureLink, register, workbench_url

        register(
            MeasureLink(
                measure="supplies",
                label=_("Supply requests"),
                url=workbench_url("supplies:request_board", event_arg=False),
                perm=Perm.VIEW_SUPPLIES,
            )
        )
        register(
            MeasureLink(
                measure="supplies",
                label=_("Community stock"),
                url=workbench_url("supplies:stock_list", event_arg=False),
                perm=Perm.MANAGE_STOCK,
            )
        )
        register(
            MeasureLink(
                measure="supplies",
                label=_("My shopping lists"),
                url=workbench_url("supplies:portal_list", event_arg=False),
                portal=True,
            )
        )
