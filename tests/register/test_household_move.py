"""Moving a whole household (register.services.household_move): what changes, what the history
keeps, who may do it, and which dates and dwellings are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from linli.audit.models import AuditAction, AuditEntry
from linli.register import services as reg
from linli.register.models import (
    Dwelling,
    EventKind,
    Household,
    HouseholdStatus,
    Membership,
    Person,
    RegisterEvent,
    Relation,
)
from tests.factories import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    # Event summaries and messages are written in the actor's language; the tests read English.
    with translation.override("en"):
        yield


def _spare(building: Any) -> Dwelling:
    """The empty dwelling 302 every grid of the test world has next to its household's 301."""
    return Dwelling.objects.get(building=building, number="302")


def _snapshot() -> tuple[Any, ...]:
    return (
        list(
            Household.objects.order_by("pk").values_list("pk", "dwelling_id", "grid_id", "status")
        ),
        list(Person.objects.order_by("pk").values_list("pk", "grid_id", "household_id", "status")),
        list(Membership.objects.order_by("pk").values_list("pk", "started_on", "ended_on")),
        RegisterEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def test_the_whole_household_moves_and_the_history_keeps_the_old_dwelling(world: World) -> None:
    a = world.a
    old, new = a.dwelling, _spare(a.building)
    spans = list(Membership.objects.filter(household=a.household).values())
    first_events = set(RegisterEvent.objects.values_list("pk", flat=True))
    day = timezone.localdate()

    moved = reg.household_move(actor=a.worker, household=a.household, to_dwelling=new)

    assert (moved.pk, moved.dwelling_id, moved.grid_id) == (a.household.pk, new.pk, a.grid.pk)
    row = Household.objects.get(pk=a.household.pk)
    assert (row.dwelling_id, row.grid_id, row.status, row.householder_id) == (
        new.pk,
        a.grid.pk,
        HouseholdStatus.ACTIVE,
        a.householder.pk,
    )
    # Same household, same spans: nobody joined or left.
    assert list(Membership.objects.filter(household=a.household).values()) == spans
    data = {
        "from_dwelling": old.pk,
        "to_dwelling": new.pk,
        "from_address": old.address,
        "to_address": new.address,
    }
    events = list(
        RegisterEvent.objects.exclude(pk__in=first_events)
        .order_by("pk")
        .values_list("kind", "occurred_on", "grid_id", "household_id", "dwelling_id", "person_id")
    )
    assert events == [
        (EventKind.MOVE_HOUSE, day, a.grid.pk, a.household.pk, new.pk, None),
        # The dwelling left behind records the departure (not linked to the household).
        (EventKind.MOVE_OUT, day, a.grid.pk, None, old.pk, None),
        (EventKind.MOVE_HOUSE, day, a.grid.pk, a.household.pk, new.pk, a.householder.pk),
        (EventKind.MOVE_HOUSE, day, a.grid.pk, a.household.pk, new.pk, a.member.pk),
    ]
    new_events = RegisterEvent.objects.exclude(pk__in=first_events).order_by("pk")
    assert [e.data for e in new_events] == [data, data, data, data]
    assert [e.actor_id for e in new_events] == [a.worker.pk] * 4
    # Summaries are in the deployment's language (Chinese), whatever the actor reads.
    assert [e.summary for e in new_events] == [
        f"整户从 {old.address} 搬至 {new.address}",
        f"整户从 {old.address} 搬至 {new.address}",
        f"随户从 {old.address} 搬至 {new.address}",
        f"随户从 {old.address} 搬至 {new.address}",
    ]
    # The move-in at the old dwelling is still there, untouched.
    assert RegisterEvent.objects.filter(
        household=a.household, dwelling=old, kind=EventKind.MOVE_IN, person=None
    ).exists()
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (entry.action, entry.object_type, entry.object_id, entry.actor_id, entry.area_id) == (
        AuditAction.EVENT,
        "household",
        str(a.household.pk),
        a.worker.pk,
        a.grid.pk,
    )
    assert entry.changes == {
        "event": "household_move",
        "address": {"from": old.address, "to": new.address},
        "members": 2,
    }
    assert AuditEntry.objects.filter(object_type="household", action=AuditAction.EVENT).count() == 1


def test_moving_to_another_grid_moves_every_living_member_there(world: World) -> None:
    a, b = world.a, world.b
    reg.person_move_out(actor=a.worker, person=a.member)  # left earlier: stays where they were
    target = _spare(b.building)

    reg.household_move(actor=world.head, household=a.household, to_dwelling=target)

    assert Household.objects.get(pk=a.household.pk).grid_id == b.grid.pk
    grids = dict(Person.objects.values_list("pk", "grid_id"))
    assert (grids[a.householder.pk], grids[a.member.pk]) == (b.grid.pk, a.grid.pk)
    moved = RegisterEvent.objects.filter(kind=EventKind.MOVE_HOUSE).order_by("pk")
    assert [(e.person_id, e.grid_id) for e in moved] == [
        (None, b.grid.pk),
        (a.householder.pk, b.grid.pk),
    ]
    # Grid B's worker now sees the household and its householder; grid A's worker no longer.
    assert Household.objects.restrict(b.worker).filter(pk=a.household.pk).exists()
    assert Person.objects.restrict(b.worker).filter(pk=a.householder.pk).exists()
    assert not Household.objects.restrict(a.worker).filter(pk=a.household.pk).exists()


def test_actor_needs_to_change_the_register_in_both_grids(world: World) -> None:
    a, b = world.a, world.b
    before = _snapshot()
    # A's worker: their own household, a dwelling of grid B.
    with pytest.raises(PermissionDenied):
        reg.household_move(actor=a.worker, household=a.household, to_dwelling=_spare(b.building))
    # B's worker: grid A's household into their own grid.
    with pytest.raises(PermissionDenied):
        reg.household_move(actor=b.worker, household=a.household, to_dwelling=_spare(b.building))
    # B's worker: grid A's household inside grid A.
    with pytest.raises(PermissionDenied):
        reg.household_move(actor=b.worker, household=a.household, to_dwelling=_spare(a.building))
    assert _snapshot() == before


def _household_since(world: World, days_ago: int) -> Household:
    """A household that moved into a new dwelling of grid A *days_ago* days ago."""
    today = timezone.localdate()
    dwelling = reg.dwelling_create(
        actor=None, building=world.a.building, entrance=None, floor=5, number="501"
    )
    household = reg.household_create(
        actor=None, dwelling=dwelling, occurred_on=today - dt.timedelta(days=days_ago)
    )
    reg.person_create(
        actor=None,
        name="王老五",
        household=household,
        relation=Relation.SELF,
        occurred_on=today - dt.timedelta(days=days_ago),
    )
    return household


def test_dates_in_the_future_or_before_the_latest_move_in_are_refused(world: World) -> None:
    today = timezone.localdate()
    household = _household_since(world, 30)
    target = _spare(world.a.building)
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        reg.household_move(
            actor=world.a.worker,
            household=household,
            to_dwelling=target,
            occurred_on=today + dt.timedelta(days=1),
        )
    assert exc.value.message_dict == {"occurred_on": ["The date cannot be in the future."]}
    too_early = today - dt.timedelta(days=31)
    with pytest.raises(ValidationError) as exc:
        reg.household_move(
            actor=world.a.worker, household=household, to_dwelling=target, occurred_on=too_early
        )
    since = (today - dt.timedelta(days=30)).isoformat()
    assert exc.value.message_dict == {
        "occurred_on": [f"The date cannot be before {since}, when the household last moved in."]
    }
    assert _snapshot() == before
    # The day of the latest move-in itself is allowed, and then becomes the new bound.
    day = today - dt.timedelta(days=30)
    reg.household_move(
        actor=world.a.worker, household=household, to_dwelling=target, occurred_on=day
    )
    assert (
        RegisterEvent.objects.filter(
            household=household, kind=EventKind.MOVE_HOUSE, occurred_on=day
        ).count()
        == 2
    )


def test_a_member_who_joined_later_bounds_the_date(world: World) -> None:
    today = timezone.localdate()
    household = _household_since(world, 30)
    newcomer = reg.person_create(
        actor=None, name="赵六", grid=world.a.grid, occurred_on=today - dt.timedelta(days=60)
    )
    reg.person_move_house(
        actor=world.a.worker,
        person=newcomer,
        to_household=household,
        relation=Relation.SPOUSE,
        occurred_on=today - dt.timedelta(days=5),
    )
    with pytest.raises(ValidationError) as exc:
        reg.household_move(
            actor=world.a.worker,
            household=household,
            to_dwelling=_spare(world.a.building),
            occurred_on=today - dt.timedelta(days=10),
        )
    assert list(exc.value.message_dict) == ["occurred_on"]
    reg.household_move(
        actor=world.a.worker,
        household=household,
        to_dwelling=_spare(world.a.building),
        occurred_on=today - dt.timedelta(days=5),
    )
    assert Person.objects.get(pk=newcomer.pk).household_id == household.pk


def test_a_later_move_is_bounded_by_the_earlier_move(world: World) -> None:
    today = timezone.localdate()
    household = _household_since(world, 30)
    reg.household_move(
        actor=world.a.worker,
        household=household,
        to_dwelling=_spare(world.a.building),
        occurred_on=today - dt.timedelta(days=10),
    )
    # Membership spans all start 30 days ago; only the events know about the move.
    with pytest.raises(ValidationError) as exc:
        reg.household_move(
            actor=world.a.worker,
            household=household,
            to_dwelling=world.a.dwelling,
            occurred_on=today - dt.timedelta(days=20),
            allow_shared=True,
        )
    assert list(exc.value.message_dict) == ["occurred_on"]


def test_a_dissolved_household_cannot_move(world: World) -> None:
    a = world.a
    reg.person_move_out(actor=a.worker, person=a.member)
    reg.person_move_out(actor=a.worker, person=a.householder)
    household = Household.objects.get(pk=a.household.pk)
    assert household.status == HouseholdStatus.DISSOLVED
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        reg.household_move(actor=a.worker, household=household, to_dwelling=_spare(a.building))
    assert exc.value.messages == ["This household is dissolved; it cannot move."]
    assert _snapshot() == before


def test_the_same_dwelling_is_refused(world: World) -> None:
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        reg.household_move(
            actor=world.a.worker, household=world.a.household, to_dwelling=world.a.dwelling
        )
    assert exc.value.message_dict == {"dwelling": ["The household already lives in this dwelling."]}
    assert _snapshot() == before


def test_an_inhabited_dwelling_needs_allow_shared(world: World) -> None:
    a = world.a
    target = _spare(a.building)
    other = reg.household_create(actor=None, dwelling=target)
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        reg.household_move(actor=a.worker, household=a.household, to_dwelling=target)
    assert exc.value.message_dict == {
        "dwelling": ["Another household lives in this dwelling. Confirm the dwelling is shared."]
    }
    assert _snapshot() == before
    reg.household_move(actor=a.worker, household=a.household, to_dwelling=target, allow_shared=True)
    assert set(
        Household.objects.filter(dwelling=target, status=HouseholdStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    ) == {a.household.pk, other.pk}


def test_a_dwelling_whose_household_was_dissolved_counts_as_free(world: World) -> None:
    b = world.b
    reg.person_move_out(actor=b.worker, person=b.member)
    reg.person_move_out(actor=b.worker, person=b.householder)
    reg.household_move(actor=world.head, household=world.a.household, to_dwelling=b.dwelling)
    assert Household.objects.get(pk=world.a.household.pk).dwelling_id == b.dwelling.pk


def test_the_dwelling_left_behind_records_the_departure(world: World) -> None:
    from linli.register.models import Dwelling, RegisterEvent
    from linli.register.selectors import dwelling_timeline

    target = Dwelling.objects.get(building=world.a.building, number="302")
    reg.household_move(actor=world.a.worker, household=world.a.household, to_dwelling=target)
    left = list(dwelling_timeline(user=world.a.worker, dwelling=world.a.dwelling))
    assert left[0].kind == "move_out" and left[0].household is None
    assert "302" in left[0].summary
    assert RegisterEvent.objects.filter(dwelling=world.a.dwelling, kind="move_out").count() == 1


def test_the_household_timeline_shows_a_household_move_once(world: World) -> None:
    from linli.register.models import Dwelling
    from linli.register.selectors import household_timeline, person_timeline

    target = Dwelling.objects.get(building=world.a.building, number="302")
    reg.household_move(actor=world.a.worker, household=world.a.household, to_dwelling=target)
    kinds = [e.kind for e in household_timeline(user=world.a.worker, household=world.a.household)]
    assert kinds.count("move_house") == 1
    member_kinds = [e.kind for e in person_timeline(user=world.a.worker, person=world.a.member)]
    assert member_kinds.count("move_house") == 1
