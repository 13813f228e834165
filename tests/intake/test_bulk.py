"""Inserts: rows written as tuples, ids taken so that the ORM's later rows never collide."""

from __future__ import annotations

import datetime as dt

from linli.intake.bulk import Inserts
from linli.register.models import Membership, Person, Relation
from tests.factories import World


def test_rows_point_at_each_other_and_ids_do_not_collide(world: World) -> None:
    inserts = Inserts([Membership, Person])  # the membership first: foreign keys are deferred
    pk = inserts.next_id(Person)
    inserts.add(
        Membership,
        person_id=pk,
        household_id=world.a.household.pk,
        relation=Relation.CHILD,
        started_on=dt.date(2026, 1, 2),
    )
    assert (
        inserts.add(Person, id=pk, name="林一", grid_id=world.a.grid.pk, provenance={"x": 1}) == pk
    )
    inserts.flush()
    person = Person.objects.get(pk=pk)
    assert (person.name, person.grid, person.provenance, person.status) == (
        "林一",
        world.a.grid,
        {"x": 1},
        "living",
    )
    assert person.created_at is not None and person.notes == "" and person.id_bidx is None
    span = Membership.objects.get(person=person)
    assert (span.household, span.started_on) == (world.a.household, dt.date(2026, 1, 2))
    later = Person.objects.create(name="林二", grid=world.a.grid)
    assert later.pk > pk
    assert Inserts([Person]).next_id(Person) > later.pk
