"""Builders for emergency tests: an event over the test world's community and its risk areas."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from linli.emergency import services as em
from linli.emergency.models import EmergencyEvent, RiskArea
from tests.factories import World

# A fixed moment (Asia/Shanghai 2026-03-02 09:00) so days and hours are exact.
T0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))
DAY0 = T0.date()


def at(days: int = 0, hour: int = 9, minute: int = 0) -> dt.datetime:
    """T0 moved by *days*, at the given local hour."""
    base = timezone.make_aware(dt.datetime.combine(DAY0 + dt.timedelta(days=days), dt.time()))
    return base + dt.timedelta(hours=hour, minutes=minute)


def make_event(world: World, *, areas: list | None = None, **kw: object) -> EmergencyEvent:  # type: ignore[type-arg]
    fields: dict[str, object] = {
        "name": "测试疫情",
        "kind": "epidemic",
        "measures": ["arrivals", "quarantine", "checkins"],
        "rule_days": {"home": 14, "home_monitoring": 7, "centralised": 14},
        "checkin_deadline_hour": 10,
        "now": at(-20),
    }
    fields.update(kw)
    return em.event_declare(actor=None, areas=areas or [world.community], **fields)  # type: ignore[arg-type]


def make_risk(event: EmergencyEvent, level: str = "high", name: str = "甲市乙区") -> RiskArea:
    return em.risk_area_add(
        actor=None,
        event=event,
        name=name,
        level=level,
        region_code="",
        from_date=DAY0 - dt.timedelta(days=30),
    )
