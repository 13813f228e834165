from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.emergency.models import EmergencyEvent
from linli.passes import services as ps
from linli.passes.models import AccessPass, Checkpoint
from tests.factories import World, make_world
from tests.passes.walk import passes_event
from tests.volunteers.factories import resident_user


@dataclass
class PassWorld:
    w: World
    event: EmergencyEvent
    gate_a: Checkpoint
    gate_b: Checkpoint
    host: User  # grid A's householder's portal account

    def visitor(self, *, approve: bool = True, hours: int = 6, **kw: Any) -> AccessPass:
        now = timezone.now()
        p = ps.visitor_pass_apply(
            actor=self.host,
            host=self.w.a.householder,
            visitor_name=kw.pop("name", "王来访"),
            visitor_phone=kw.pop("phone", "13900001111"),
            reason=kw.pop("reason", "送药"),
            valid_from=kw.pop("valid_from", now - dt.timedelta(minutes=5)),
            valid_until=kw.pop("valid_until", now + dt.timedelta(hours=hours)),
        )
        if approve:
            p = ps.pass_decide(actor=self.w.a.worker, access_pass=p, approve=True)
        return p


@pytest.fixture
def world(db: None) -> World:
    return make_world()


@pytest.fixture
def pw(world: World) -> PassWorld:
    event = passes_event(world)
    estate = world.a.building.estate
    gate_a = ps.checkpoint_create(
        actor=world.a.worker, estate=estate, grid=world.a.grid, name="东门"
    )
    gate_b = ps.checkpoint_create(
        actor=world.b.worker, estate=estate, grid=world.b.grid, name="西门"
    )
    return PassWorld(world, event, gate_a, gate_b, resident_user(world.a.householder))
