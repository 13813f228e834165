"""Grid B's emergency objects for the cross-grid walk (tests/test_scoping_walk.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linli.emergency import services as em
from linli.emergency.models import (
    Arrival,
    CheckIn,
    EmergencyEvent,
    FollowUpTask,
    Quarantine,
    RiskArea,
)
from tests.factories import World


def emergency_extras(world: World) -> dict[str, Any]:
    """An event over grid B only, with a risk area, an arrival that started a quarantine for
    B's householder, and an alert task."""
    event = em.event_declare(
        actor=None,
        name="乙网格事件",
        kind="epidemic",
        areas=[world.b.grid],
        measures=["arrivals", "quarantine", "checkins"],
    )
    risk = em.risk_area_add(
        actor=None, event=event, name="乙风险地", level="high", from_date=timezone.localdate()
    )
    arrival = em.arrival_register(
        actor=None,
        event=event,
        grid=world.b.grid,
        name=world.b.householder.name,
        phone=world.b.householder_phone,
        arrived_on=timezone.localdate(),
        travel_mode="train",
        risk_area=risk,
        source="self",
    )
    quarantine = Quarantine.objects.get(arrival=arrival)
    em.checkin_record(actor=None, quarantine=quarantine, temperature="38.2", by_self=True)
    return {
        "event_b": event,
        "risk_b": risk,
        "arrival_b": arrival,
        "quarantine_b": quarantine,
        "task_b": FollowUpTask.objects.get(quarantine=quarantine),
    }


def emergency_snapshot() -> tuple[Any, ...]:
    """Everything a refused emergency write could change."""
    return (
        list(EmergencyEvent.objects.values_list("pk", "name", "status", "measures", "level")),
        list(RiskArea.objects.values_list("pk", "name", "level", "to_date")),
        list(Arrival.objects.values_list("pk", "decision", "verified_at")),
        list(Quarantine.objects.values_list("pk", "status", "planned_end")),
        CheckIn.objects.count(),
        list(FollowUpTask.objects.values_list("pk", "status")),
    )
