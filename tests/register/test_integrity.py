"""Integrity rules found in review: no resurrection, no stale grids, no silent no-ops,
history kept on relation changes, audited refusals and confirmations."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from linli.accounts.models import User
from linli.audit.models import AuditEntry
from linli.register import services as reg
from linli.register.models import Dwelling, Household, Membership, Person, PersonStatus
from tests.factories import World

pytestmark = pytest.mark.django_db


def test_a_deceased_person_cannot_move_house(world: World) -> None:
    reg.person_record_death(
        actor=world.a.worker, person=world.a.member, occurred_on=timezone.localdate()
    )
    other = reg.household_create(
        actor=world.a.worker, dwelling=Dwelling.objects.get(building=world.a.building, number="302")
    )
    with pytest.raises(ValidationError):
        reg.person_move_house(
            actor=world.a.worker, person=world.a.member, to_household=other, relation="self"
        )
    assert Person.objects.get(pk=world.a.member.pk).status == PersonStatus.DECEASED


def test_a_stale_household_object_does_not_misplace_a_new_member(world: World) -> None:
    stale = Household.objects.get(pk=world.a.household.pk)  # loaded before the move
    target = Dwelling.objects.get(building=world.b.building, number="302")
    reg.household_move(actor=world.head, household=world.a.household, to_dwelling=target)
    person = reg.person_create(actor=world.head, name="新成员", household=stale, relation="child")
    assert person.grid == world.b.grid


def test_an_invalid_national_id_is_an_error_not_a_no_op(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        reg.person_update(actor=world.a.worker, person=world.a.member, data={"national_id": "1"})
    assert "national_id" in exc.value.message_dict


def test_a_relation_change_keeps_the_old_span(world: World) -> None:
    import datetime as dt

    Membership.objects.filter(person=world.a.member).update(
        started_on=timezone.localdate() - dt.timedelta(days=30)
    )
    reg.person_update(actor=world.a.worker, person=world.a.member, data={"relation": "grandchild"})
    spans = list(
        Membership.objects.filter(person=world.a.member)
        .order_by("id")
        .values_list("relation", "ended_on", "end_reason")
    )
    assert spans == [
        ("child", timezone.localdate(), "relation_change"),
        ("grandchild", None, ""),
    ]


def test_a_correction_is_applied_once(world: World) -> None:
    resident = User.objects.create(username="r", person=world.a.householder)
    proposal = reg.correction_propose(
        actor=resident, person=world.a.member, changes={"name": "张小改"}
    )
    reg.correction_review(actor=world.a.worker, proposal=proposal, accept=True)
    with pytest.raises(ValidationError):
        reg.correction_review(actor=world.a.worker, proposal=proposal, accept=True)


def test_a_duplicate_id_elsewhere_is_refused_neutrally_and_audited_there(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        reg.person_create(
            actor=world.a.worker,
            name="冒名",
            national_id=world.b.householder_id_number,
            grid=world.a.grid,
        )
    message = " ".join(exc.value.message_dict["national_id"])
    assert world.b.grid.name not in message and world.b.householder.name not in message
    entry = AuditEntry.objects.filter(action="refused").get()
    assert (entry.actor, entry.area, entry.object_id) == (
        world.a.worker,
        world.b.grid,
        str(world.b.householder.pk),
    )
    # Inside one's own jurisdiction the answer is plain.
    with pytest.raises(ValidationError) as exc:
        reg.person_create(
            actor=world.a.worker,
            name="重复",
            national_id=world.a.householder_id_number,
            grid=world.a.grid,
        )
    assert AuditEntry.objects.filter(action="refused").count() == 1


def test_confirming_details_is_audited(world: World) -> None:
    reg.person_confirm(actor=world.a.worker, person=world.a.member)
    assert AuditEntry.objects.filter(
        action="change", object_type="person", object_id=str(world.a.member.pk)
    ).exists()


def test_moves_across_grids_are_audited_in_both(world: World) -> None:
    reg.person_move_house(
        actor=world.head, person=world.a.member, to_household=world.b.household, relation="other"
    )
    areas = set(
        AuditEntry.objects.filter(
            action="event", object_type="person", object_id=str(world.a.member.pk)
        ).values_list("area_id", flat=True)
    )
    assert areas == {world.a.grid.pk, world.b.grid.pk}


def test_full_value_search_needs_reveal_and_is_audited(world: World) -> None:
    from linli.accounts.services import binding_grant
    from linli.register.selectors import person_search

    leader = User.objects.create(username="louzhang")
    binding_grant(actor=None, user=leader, role="building_leader", area=world.a.grid)
    full = world.a.householder_id_number
    assert not person_search(user=leader, q=full).exists()
    assert person_search(user=leader, q=full[-4:]).exists()  # last digits are fine
    assert list(person_search(user=world.a.worker, q=full)) == [world.a.householder]
    entry = AuditEntry.objects.filter(action="search", actor=world.a.worker).get()
    assert full not in entry.object_label and entry.object_label.endswith(full[-4:])
