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
                shown_to=_under_quarantine,
            )
        )


def _under_quarantine(user: object) -> bool:
    """The portal link is for a resident whose household may post a list now."""
    from linli.supplies.selectors import own_active_quarantines

    person_id = getattr(user, "person_id", None)
    return bool(person_id) and bool(own_active_quarantines(phone_bidx="", person_id=person_id))
