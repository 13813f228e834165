"""The register's indexes after decision 0047: no pattern_ops copies on the tables an import
writes in volume, the ID still unique, and the searches still served by an index."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from linli.register.models import Person
from tests.factories import World

IMPORT_TABLES = (
    "register_person",
    "register_dwelling",
    "register_household",
    "register_membership",
    "register_registerevent",
)


def _postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes; run with DATABASE_URL")


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cur.fetchall())


@pytest.mark.django_db
def test_no_pattern_ops_copies_on_the_tables_an_import_writes() -> None:
    _postgres()
    for table in IMPORT_TABLES:
        copies = [n for n, d in _indexes(table).items() if "pattern_ops" in d]
        assert copies == [], table


@pytest.mark.django_db
def test_the_person_table_keeps_one_index_per_query_it_serves() -> None:
    _postgres()
    columns = sorted(d.split("USING btree ", 1)[1] for d in _indexes("register_person").values())
    assert columns == sorted(
        [
            "(id)",
            "(id_bidx)",
            "(id_bidx, status, grid_id)",
            "(grid_id, status)",
            "(name)",
            "(name_pinyin)",
            "(name_initials)",
            "(id_tail)",
            "(phone_bidx)",
            "(phone_tail)",
            "(birth_date)",
            "(household_id)",
            "(merged_into_id) WHERE (merged_into_id IS NOT NULL)",
        ]
    )


def test_a_national_id_is_registered_once(world: World) -> None:
    Person.objects.create(name="甲", grid=world.a.grid, id_bidx="b" * 32)
    Person.objects.create(name="无证一", grid=world.a.grid, id_bidx=None)
    Person.objects.create(name="无证二", grid=world.a.grid, id_bidx=None)  # many without an ID
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(name="乙", grid=world.a.grid, id_bidx="b" * 32)


@pytest.mark.django_db
def test_the_searchs_conditions_are_served_by_the_plain_indexes() -> None:
    """A prefix is a range (person_search's _prefix_q) and a tail is compared whole: both use
    the plain btree, so the pattern_ops copies were not needed."""
    _postgres()
    from django.db.models import Q

    from linli.register.selectors import _prefix_q

    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask what could be used
    for condition, index in (
        (_prefix_q("name_initials", "yj"), "register_person_initials"),
        (_prefix_q("name_pinyin", "yan"), "register_person_pinyin"),
        (Q(id_tail="1234"), "register_person_id_tail"),
        (Q(phone_tail="1234"), "register_person_phone_tail"),
    ):
        plan = Person.objects.filter(condition).explain()
        assert index in plan, plan
