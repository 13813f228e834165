"""Reads of the notify capability, each through the scoping layer (or the user's own inbox)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.roles import Perm
from linli.notify.models import Channel, MassMessage, Notification


def notifications_visible(user: Any) -> QuerySet[Notification]:
    """Messages sent to people of the user's nodes (rows without a grid are nobody's)."""
    return Notification.objects.restrict(user, Perm.VIEW_NOTIFICATIONS).select_related("grid")


def mass_messages_visible(user: Any) -> QuerySet[MassMessage]:
    return MassMessage.objects.restrict(user, Perm.SEND_NOTIFICATIONS).select_related(
        "grid", "building", "created_by"
    )


def inbox_for(user: Any) -> QuerySet[Notification]:
    """The user's own in-app messages: addressed to them, or to the register person they are.

    Not scoped by node: an inbox is personal, whatever the user's roles.
    """
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    q = Q(user_id=user.pk)
    if getattr(user, "person_id", None):
        q |= Q(person_id=user.person_id)
    return Notification.objects.filter(q, channel=Channel.IN_APP)


def inbox_unread(user: Any) -> int:
    return inbox_for(user).filter(read_at__isnull=True).count()
