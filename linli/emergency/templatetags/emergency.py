"""Template tags other faces use to show emergency mode where it applies: the workbench nav
entry, the portal home banner and the command view card."""

from __future__ import annotations

from typing import Any

from django import template

from linli.accounts.roles import Perm
from linli.core.scoping import scope_for
from linli.emergency import selectors as sel
from linli.emergency.measures import links_for
from linli.emergency.models import Measure

register = template.Library()


@register.inclusion_tag("emergency/_nav.html", takes_context=True)
def emergency_nav(context: dict[str, Any]) -> dict[str, Any]:
    """The nav entry: red with the number of active events while the user's nodes are in
    emergency mode; plain for those who may declare one."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or scope_for(user, Perm.VIEW_EMERGENCY).is_empty:
        return {"show": False}
    active = sel.events_active_for(user)
    return {"show": True, "active": len(active), "events": active}


@register.inclusion_tag("emergency/_portal_banner.html", takes_context=True)
def emergency_portal_banner(context: dict[str, Any]) -> dict[str, Any]:
    """On the portal home: the measures in force where the resident lives."""
    request = context.get("request")
    person = getattr(getattr(request, "user", None), "person", None)
    if person is None:
        return {"events": []}
    events = sel.events_for_area(person.grid)
    return {
        "events": [
            {
                "event": e,
                "measures": [Measure(m).label for m in e.measures],
                "links": links_for(e, portal=True, viewer=getattr(request, "user", None)),
            }
            for e in events
        ]
    }


@register.inclusion_tag("emergency/_command_card.html", takes_context=True)
def emergency_command_card(context: dict[str, Any], area: Any = None) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return {"cards": []}
    return {"cards": sel.command_card(user=user, area=area)}


@register.inclusion_tag("emergency/_person_link.html", takes_context=True)
def emergency_person_link(context: dict[str, Any], person: Any) -> dict[str, Any]:
    """On a person's page: their current measure, or a button to start one while their grid
    is in an emergency that runs quarantine."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not scope_for(user, Perm.ACT_EMERGENCY).covers(person.grid):
        return {"show": False}
    events = [e for e in sel.events_for_area(person.grid) if e.has(Measure.QUARANTINE)]
    current = (
        sel.quarantines_visible(user).filter(person=person, status="active").first()
        if events
        else None
    )
    return {"show": bool(events), "person": person, "current": current}
