"""Grid B's notify objects for the cross-grid walk (tests/test_scoping_walk.py)."""

from __future__ import annotations

from typing import Any

from linli.notify.models import Channel, MassMessage, MassTarget, Notification
from linli.notify.services import notify
from tests.factories import World


def notify_extras(world: World) -> dict[str, Any]:
    """An SMS to B's householder, in-app messages to B's worker and householder, and a mass
    message over grid B."""
    b = world.b
    notify(channel=Channel.SMS, kind="walk", text="乙网格通知", person=b.householder)
    inbox_b = notify(channel=Channel.IN_APP, kind="walk", text="乙网格员消息", user=b.worker)
    notify(channel=Channel.IN_APP, kind="walk", text="乙居民消息", person=b.householder)
    mass_b = MassMessage.objects.create(
        token="walk-b",
        target=MassTarget.GRID,
        grid=b.grid,
        channel=Channel.SMS,
        text="乙网格群发",
        created_by=b.worker,
    )
    return {"notify_inbox_b": inbox_b, "notify_mass_b": mass_b}


def notify_snapshot() -> tuple[Any, ...]:
    return (
        list(Notification.objects.order_by("pk").values_list("pk", "status", "read_at")),
        list(MassMessage.objects.order_by("pk").values_list("pk", "status", "done")),
    )
