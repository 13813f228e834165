"""Grid B's passes objects for the cross-grid walks (tests/test_scoping_walk.py and
tests/api/test_scoping.py), and the snapshot of everything a refused write could change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from linli.emergency import services as em
from linli.emergency.models import EmergencyEvent
from linli.passes import services as ps
from linli.passes.models import (
    AccessPass,
    Checkpoint,
    DutyShift,
    GateScan,
    HealthCode,
    PassEvent,
    ShiftSwap,
)
from tests.factories import World
from tests.volunteers.factories import resident_user


def passes_event(world: World, areas: list[Any] | None = None) -> EmergencyEvent:
    """An event over the community (or *areas*) running passes and health-code checks."""
    return em.event_declare(
        actor=None,
        name="封控演练",
        kind="epidemic",
        areas=areas or [world.community],
        measures=["passes", "health_code"],
    )


def passes_extras(world: World) -> dict[str, Any]:
    """Grid B's gate, a visitor pass (approved) and a resident pass, a scan, a health code, a
    shift with a swap asked — all under an event over grid B only."""
    if not ps.measure_on(world.b.grid, "passes"):
        passes_event(world, [world.b.grid])
    estate = world.b.building.estate
    cp = Checkpoint.objects.filter(grid=world.b.grid).first() or ps.checkpoint_create(
        actor=None, estate=estate, grid=world.b.grid, name="乙门"
    )
    host = world.b.householder
    now = timezone.now()
    visitor = ps.visitor_pass_apply(
        actor=resident_user(host),
        host=host,
        visitor_name="乙访客",
        visitor_phone="13900002222",
        reason="探亲",
        valid_from=now - dt.timedelta(hours=1),
        valid_until=now + dt.timedelta(hours=5),
    )
    ps.pass_decide(actor=None, access_pass=visitor, approve=True)
    resident = ps.resident_pass_issue(actor=None, household=world.b.household)
    visitor.refresh_from_db()
    scan, _ = ps.gate_scan_record(
        actor=None,
        checkpoint=cp,
        token=ps.pass_token(visitor),
        direction="in",
        client_id="walk-b-1",
    )
    code = ps.health_code_set(actor=None, person=world.b.member, colour="yellow", source="walk")
    shift = ps.shift_create(
        actor=None,
        checkpoint=cp,
        user=world.b.worker,
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=4),
    )
    swap = ps.swap_request(actor=world.b.worker, shift=shift, to_user=world.head)
    return {
        "swap_b": swap,
        "checkpoint_b": cp,
        "pass_b": visitor,
        "resident_pass_b": resident,
        "scan_b": scan,
        "health_b": code,
        "shift_b": shift,
    }


def passes_snapshot() -> tuple[Any, ...]:
    """Everything a refused passes write could change."""
    return (
        list(Checkpoint.objects.values_list("pk", "name", "is_active")),
        list(AccessPass.objects.values_list("pk", "status", "valid_until")),
        PassEvent.objects.count(),
        GateScan.objects.count(),
        list(HealthCode.objects.values_list("pk", "colour")),
        list(DutyShift.objects.values_list("pk", "user_id", "ended_at")),
        list(ShiftSwap.objects.values_list("pk", "status")),
    )
