"""Template tags other pages use to reach tests and vaccinations: the workbench nav entry and
the button on the register's person page."""

from __future__ import annotations

from typing import Any

from django import template

from linli.accounts.roles import Perm
from linli.core.scoping import scope_for

register = template.Library()


@register.inclusion_tag("health/_nav.html", takes_context=True)
def health_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(user and user.is_authenticated and not scope_for(user, Perm.VIEW_HEALTH).is_empty)
    return {"show": show}


@register.inclusion_tag("health/_person_link.html", takes_context=True)
def health_person_link(context: dict[str, Any], person: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(user and scope_for(user, Perm.VIEW_HEALTH).covers(person.grid))
    return {"show": show, "person": person}
