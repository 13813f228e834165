"""Inserts: rows written as tuples, ids taken so that the ORM's later rows never collide."""

from __future__ import annotations

import datetime as dt

import pytest

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


LOOKUP = {Person: ("id", "status"), Membership: ("id",)}


def _add_people(inserts: Inserts, world: World, n: int) -> None:
    for i in range(n):
        inserts.add(Person, name=f"析{i}", grid_id=world.a.grid.pk)
    inserts.flush()


def test_analyze_grown_analyses_a_table_once_it_doubled(world: World) -> None:
    """PostgreSQL: the table is analysed inside the open transaction once the rows written
    since its last analysis reach the minimum and what it then held; the statistics count
    the transaction's own rows."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE is run on PostgreSQL only; run with DATABASE_URL")
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'register_person'::regclass")
        held = max(int(cur.fetchone()[0]), 0)  # as of the table's last analysis, if any
    inserts = Inserts([Membership, Person])
    _add_people(inserts, world, 2)
    assert inserts.analyze_grown(LOOKUP, minimum=3) == []  # 2 rows < the minimum
    _add_people(inserts, world, max(1, held - 2))
    assert inserts.analyze_grown(LOOKUP, minimum=3) == ["register_person"]  # not the memberships
    with connection.cursor() as cur:
        # The statistics count the rows this transaction wrote.
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'register_person'::regclass")
        assert cur.fetchone()[0] == Person.objects.count()
    assert inserts.analyze_grown(LOOKUP, minimum=3) == []  # nothing written since
    now = Person.objects.count()
    _add_people(inserts, world, now - 1)
    assert inserts.analyze_grown(LOOKUP, minimum=3) == []  # not yet doubled
    _add_people(inserts, world, 1)
    assert inserts.analyze_grown(LOOKUP, minimum=3) == ["register_person"]


def test_analyze_grown_does_nothing_on_sqlite(world: World) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    inserts = Inserts([Person])
    _add_people(inserts, world, 3)
    assert inserts.analyze_grown({Person: ("id",)}, minimum=1) == []
