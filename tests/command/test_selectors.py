"""command_counts: exact numbers for each user's jurisdiction, never a neighbour's."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from linli.accounts.services import binding_grant, user_create
from linli.command.selectors import command_counts, command_estates
from linli.register import services as reg
from linli.register.models import DwellingUse, Tag
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.django_db


def _ages(counts: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {b["band"]: (b["male"], b["female"]) for b in counts["age_bands"]}


def _breakdown(counts: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(r["name"], r["persons"], r["households"]) for r in counts["breakdown"]]


def _residency(counts: dict[str, Any]) -> dict[str, int]:
    return {r["code"]: r["count"] for r in counts["residency"]}


def test_grid_worker_counts_are_exactly_grid_a(world: World) -> None:
    counts = command_counts(user=world.a.worker)
    assert counts["area"] == world.a.grid
    assert [r.pk for r in counts["roots"]] == [world.a.grid.pk]
    assert counts["persons"] == 2
    assert counts["households"] == 1
    assert counts["dwellings"] == 2
    assert counts["occupancy"] == {"occupied": 1, "rented": 0, "vacant": 1}
    assert _residency(counts) == {"registered": 2, "long_term": 0, "floating": 0, "tenant": 0}
    # Below a grid the breakdown is per building: only grid A's building.
    assert counts["breakdown_kind"] == "building"
    assert _breakdown(counts) == [("测试小区 1号楼", 2, 1)]
    # Householder born 1951 (male), child born 2012 (female).
    assert _ages(counts) == {
        "0-6": (0, 0),
        "7-17": (0, 1),
        "18-34": (0, 0),
        "35-59": (0, 0),
        "60-79": (1, 0),
        "80+": (0, 0),
    }
    assert {t["code"]: t["count"] for t in counts["tags"]}["elderly"] == 0
    assert sum(t["count"] for t in counts["tags"]) == 0


def test_grid_worker_never_sees_grid_b(world: World) -> None:
    # Grid B grows; grid A's worker sees exactly the same numbers as before.
    hh = reg.household_create(actor=None, dwelling=world.b.building.dwellings.get(number="302"))
    reg.person_create(actor=None, name="李新", household=hh, relation="self", residency="tenant")
    a = command_counts(user=world.a.worker)
    assert (a["persons"], a["households"], a["dwellings"]) == (2, 1, 2)
    assert _residency(a)["tenant"] == 0
    b = command_counts(user=world.b.worker)
    assert (b["persons"], b["households"], b["dwellings"]) == (3, 2, 2)
    assert b["occupancy"] == {"occupied": 2, "rented": 0, "vacant": 0}
    assert _residency(b)["tenant"] == 1


def test_grid_worker_cannot_select_grid_b_or_above(world: World) -> None:
    for area in (world.b.grid, world.b.grid.pk, str(world.b.grid.pk), world.community, "x", 0):
        with pytest.raises(Http404):
            command_counts(user=world.a.worker, area=area)


def test_community_head_rolls_up_per_grid(world: World) -> None:
    counts = command_counts(user=world.head)
    assert counts["persons"] == 4
    assert counts["households"] == 2
    assert counts["occupancy"] == {"occupied": 2, "rented": 0, "vacant": 2}
    assert counts["breakdown_kind"] == "area"
    # The head's root is the community; its children are the grids.
    assert _breakdown(counts) == [("网格A", 2, 1), ("网格B", 2, 1)]
    assert _ages(counts)["60-79"] == (2, 0)
    assert _ages(counts)["7-17"] == (0, 2)


def test_drill_down_to_grid_b(world: World) -> None:
    counts = command_counts(user=world.head, area=world.b.grid.pk)
    assert counts["area"] == world.b.grid
    assert [a.pk for a in counts["breadcrumb"]] == [world.community.pk, world.b.grid.pk]
    assert (counts["persons"], counts["households"], counts["dwellings"]) == (2, 1, 2)
    assert _breakdown(counts) == [("测试小区 2号楼", 2, 1)]


def test_district_admin_rolls_up_to_subdistrict(world: World) -> None:
    counts = command_counts(user=world.admin)
    assert _breakdown(counts) == [("测试街道", 4, 2)]
    counts = command_counts(user=world.admin, area=world.community)
    assert _breakdown(counts) == [("网格A", 2, 1), ("网格B", 2, 1)]
    assert [a.pk for a in counts["breadcrumb"]] == [
        world.district.pk,
        world.subdistrict.pk,
        world.community.pk,
    ]


def test_scope_of_several_nodes(world: World) -> None:
    user, _ = user_create(
        actor=None, username="two", password=PASSWORD, role="grid_worker", area=world.a.grid
    )
    binding_grant(actor=None, user=user, role="department", area=world.b.grid)
    counts = command_counts(user=user)
    assert [r.pk for r in counts["roots"]] == [world.a.grid.pk, world.b.grid.pk]
    assert counts["persons"] == 4
    assert _breakdown(counts) == [("网格A", 2, 1), ("网格B", 2, 1)]
    # Either root may be selected; their common parent may not.
    assert command_counts(user=user, area=world.b.grid)["persons"] == 2
    with pytest.raises(Http404):
        command_counts(user=user, area=world.community)


def test_tags_count_only_people_in_scope(world: World) -> None:
    elderly = Tag.objects.get(code="elderly")
    disabled = Tag.objects.get(code="disabled")
    reg.person_tag_set(actor=None, person=world.a.householder, tags=[elderly])
    reg.person_tag_set(actor=None, person=world.b.householder, tags=[elderly, disabled])
    reg.person_tag_set(actor=None, person=world.b.member, tags=[disabled])

    def nonzero(user: Any) -> dict[str, int]:
        return {t["code"]: t["count"] for t in command_counts(user=user)["tags"] if t["count"]}

    assert nonzero(world.a.worker) == {"elderly": 1}
    assert nonzero(world.b.worker) == {"elderly": 1, "disabled": 2}
    assert nonzero(world.head) == {"elderly": 2, "disabled": 2}
    # Every active tag is listed, in the configured order, even at zero.
    codes = [t["code"] for t in command_counts(user=world.a.worker)["tags"]]
    assert codes == list(Tag.objects.filter(is_active=True).values_list("code", flat=True))


def test_moved_out_and_rented(world: World) -> None:
    reg.person_move_out(actor=None, person=world.a.member)
    world.a.dwelling.use = DwellingUse.RENTED
    world.a.dwelling.save()
    counts = command_counts(user=world.a.worker)
    assert counts["persons"] == 1
    assert counts["occupancy"] == {"occupied": 0, "rented": 1, "vacant": 1}
    assert _ages(counts)["7-17"] == (0, 0)
    # The last member leaving dissolves the household and empties the dwelling.
    reg.person_move_out(actor=None, person=world.a.householder)
    counts = command_counts(user=world.a.worker)
    assert (counts["persons"], counts["households"]) == (0, 0)
    assert counts["occupancy"] == {"occupied": 0, "rented": 0, "vacant": 2}


def test_users_without_the_permission_see_nothing(world: World) -> None:
    from linli.accounts.models import User

    nobody = User.objects.create(username="nobody")
    counts = command_counts(user=nobody)
    assert (counts["persons"], counts["households"], counts["dwellings"]) == (0, 0, 0)
    assert counts["breakdown"] == []


def test_query_count_does_not_grow_with_data(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    command_counts(user=world.head)  # the user's scope is then cached for the request
    with CaptureQueriesContext(connection) as before:
        command_counts(user=world.head)
    for i in range(5):
        hh = reg.household_create(actor=None, dwelling=world.b.building.dwellings.get(number="302"))
        reg.person_create(actor=None, name=f"新{i}", household=hh, relation="self")
    with CaptureQueriesContext(connection) as after:
        command_counts(user=world.head)
    assert len(after) == len(before) <= 14


def test_estates_for_the_map(world: World) -> None:
    estate = world.a.building.estate
    assert command_estates(user=world.a.worker) == []
    estate.latitude, estate.longitude = 36.65, 117.0
    estate.save()
    rows = command_estates(user=world.a.worker, area=world.a.grid)
    assert [(r["name"], r["lat"], r["lng"]) for r in rows] == [("测试小区", 36.65, 117.0)]
    assert command_estates(user=world.head, area=world.b.grid)[0]["id"] == estate.pk
