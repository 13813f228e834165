"""Template tags other faces use to show passes where they apply: on a person's workbench page,
their health code and a button to issue a resident pass, while an event covering their grid
runs passes or health-code checks."""

from __future__ import annotations

from typing import Any

from django import template

from linli.accounts.roles import Perm
from linli.core.scoping import scope_for
from linli.emergency.models import Measure
from linli.passes import selectors as sel
from linli.passes import services as ps

register = template.Library()


@register.inclusion_tag("passes/_person_links.html", takes_context=True)
def passes_person_links(context: dict[str, Any], person: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not scope_for(user, Perm.MANAGE_PASSES).covers(person.grid):
        return {"show": False}
    passes_on = ps.measure_on(person.grid, Measure.PASSES)
    health_on = ps.measure_on(person.grid, Measure.HEALTH_CODE)
    code = sel.health_codes_visible(user).filter(person=person).first() if health_on else None
    return {
        "show": passes_on or health_on,
        "person": person,
        "passes_on": passes_on and person.household_id is not None,
        "health_on": health_on,
        "code": code,
    }


@register.inclusion_tag("passes/_nav.html", takes_context=True)
def passes_nav(context: dict[str, Any]) -> dict[str, Any]:
    """The nav entry to "my duty" for whoever stands a gate shift that has not finished (or
    is asked to take one): volunteers on gate duty find their roster and gate page from any
    workbench page."""
    import datetime as dt

    from django.utils import timezone

    from linli.passes.models import DutyShift, ShiftSwap, SwapStatus

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    since = timezone.now() - dt.timedelta(hours=12)
    on_duty = DutyShift.objects.filter(user=user, ended_at__isnull=True, ends_at__gte=since)
    asked = ShiftSwap.objects.filter(to_user=user, status=SwapStatus.REQUESTED)
    return {"show": on_duty.exists() or asked.exists()}
