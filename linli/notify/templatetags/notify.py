"""Template tags the navbars use: the "Messages" entry and the inbox bell with its count."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from linli.accounts.roles import Perm
from linli.core.scoping import scope_for
from linli.notify.selectors import inbox_unread

register = template.Library()


@register.inclusion_tag("notify/_nav.html", takes_context=True)
def notify_nav(context: dict[str, Any]) -> dict[str, Any]:
    user = getattr(context.get("request"), "user", None)
    show = (
        bool(user and user.is_authenticated)
        and not scope_for(user, Perm.VIEW_NOTIFICATIONS).is_empty
    )
    return {"show": show}


@register.inclusion_tag("notify/_bell.html", takes_context=True)
def notify_bell(context: dict[str, Any], btn: str = "") -> dict[str, Any]:
    """The bell: the signed-in user's unread in-app messages (one count query)."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    resident = getattr(user, "person_id", None) is not None
    return {
        "show": True,
        "unread": inbox_unread(user),
        "url": reverse("notify:portal_inbox" if resident else "notify:inbox"),
        "btn": btn,
    }
