"""Areas, estates, buildings, dwellings and households over the API: exact answers per filter."""

from __future__ import annotations

import pytest

from linli.register import services as reg
from linli.register.models import Dwelling, DwellingUse
from tests.api.conftest import ApiClient, BOnly
from tests.factories import World

pytestmark = pytest.mark.django_db


def ids(answer: object) -> list[int]:
    assert answer.status == 200, answer.text  # type: ignore[attr-defined]
    return [item["id"] for item in answer.data["items"]]  # type: ignore[attr-defined]


def test_areas(world: World, head_api: ApiClient) -> None:
    a, b, c = world.a.grid, world.b.grid, world.community
    assert ids(head_api.get("/areas")) == [c.pk, a.pk, b.pk]
    assert ids(head_api.get("/areas", kind="grid")) == [a.pk, b.pk]
    assert ids(head_api.get("/areas", parent=c.pk)) == [a.pk, b.pk]
    assert ids(head_api.get(f"/areas/{c.pk}/children")) == [a.pk, b.pk]
    assert ids(head_api.get(f"/areas/{a.pk}/children")) == []
    detail = head_api.get(f"/areas/{a.pk}").data
    assert detail == {
        "id": a.pk,
        "kind": "grid",
        "code": a.code,
        "name": "网格A",
        "parent_id": c.pk,
        "depth": 4,
    }
    # Above the head's community: out of scope.
    assert head_api.get(f"/areas/{world.subdistrict.pk}").status == 404
    assert head_api.get(f"/areas/{world.subdistrict.pk}/children").status == 404
    assert head_api.get("/areas", kind="martian").status == 422


def test_estates(world: World, b_only: BOnly, head_api: ApiClient, a_api: ApiClient) -> None:
    shared = world.a.building.estate
    # Names sort by the database's collation: compare these as sets.
    assert set(ids(head_api.get("/estates"))) == {b_only.estate.pk, shared.pk}
    assert ids(head_api.get("/estates", area=world.a.grid.code)) == [shared.pk]
    assert set(ids(head_api.get("/estates", area=world.b.grid.code))) == {
        b_only.estate.pk,
        shared.pk,
    }
    assert set(ids(head_api.get("/estates", area=world.community.code))) == {
        b_only.estate.pk,
        shared.pk,
    }
    assert ids(head_api.get("/estates", q="乙")) == [b_only.estate.pk]
    assert head_api.get(f"/estates/{shared.pk}").data == {
        "id": shared.pk,
        "name": "测试小区",
        "address": "",
        "community_id": world.community.pk,
        "latitude": None,
        "longitude": None,
    }
    # The shared estate is visible to grid A's worker; the one only in grid B is not.
    assert ids(a_api.get("/estates")) == [shared.pk]
    assert a_api.get(f"/estates/{b_only.estate.pk}").status == 404


def test_buildings(world: World, b_only: BOnly, head_api: ApiClient) -> None:
    a, b = world.a.building, world.b.building
    shared = a.estate
    listed = ids(head_api.get("/buildings"))
    assert set(listed) == {b_only.building.pk, a.pk, b.pk}
    assert listed.index(a.pk) + 1 == listed.index(b.pk)  # same estate: by sort key
    assert ids(head_api.get("/buildings", estate=shared.pk)) == [a.pk, b.pk]
    assert set(ids(head_api.get("/buildings", grid=world.b.grid.code))) == {
        b_only.building.pk,
        b.pk,
    }
    assert ids(head_api.get("/buildings", grid=str(world.a.grid.pk))) == [a.pk]
    assert ids(head_api.get("/buildings", estate=shared.pk, grid=world.b.grid.code)) == [b.pk]
    assert head_api.get(f"/buildings/{a.pk}").data == {
        "id": a.pk,
        "estate_id": shared.pk,
        "estate_name": "测试小区",
        "name": "1号楼",
        "floors": 6,
        "grid_id": world.a.grid.pk,
        "grid_code": world.a.grid.code,
    }


def test_dwellings(world: World, b_only: BOnly, head_api: ApiClient) -> None:
    a301 = world.a.dwelling
    a302 = Dwelling.objects.get(building=world.a.building, number="302")
    rented = reg.dwelling_create(
        actor=None,
        building=world.a.building,
        entrance=a301.entrance,
        floor=4,
        number="401",
        use=DwellingUse.RENTED,
        floor_area="88.50",
    )
    assert ids(head_api.get("/dwellings", building=world.a.building.pk)) == [
        a301.pk,
        a302.pk,
        rented.pk,
    ]
    assert ids(head_api.get("/dwellings", use="rented")) == [rented.pk]
    assert ids(head_api.get("/dwellings", use="owner", building=world.a.building.pk)) == [
        a301.pk,
        a302.pk,
    ]
    assert ids(head_api.get("/dwellings", grid=world.b.grid.code)) == [
        world.b.dwelling.pk,
        Dwelling.objects.get(building=world.b.building, number="302").pk,
        b_only.dwelling.pk,
    ]
    assert head_api.get(f"/dwellings/{rented.pk}").data == {
        "id": rented.pk,
        "building_id": world.a.building.pk,
        "entrance": "1单元",
        "floor": 4,
        "number": "401",
        "use": "rented",
        "floor_area": 88.5,
        "address": "测试小区1号楼1单元401",
        "grid_id": world.a.grid.pk,
        "grid_code": world.a.grid.code,
    }
    assert head_api.get(f"/dwellings/{b_only.dwelling.pk}").data["entrance"] == ""


def test_households(world: World, head_api: ApiClient) -> None:
    a, b = world.a, world.b
    empty = reg.household_create(
        actor=None, dwelling=Dwelling.objects.get(building=a.building, number="302")
    )
    assert ids(head_api.get("/households")) == [a.household.pk, b.household.pk, empty.pk]
    assert ids(head_api.get("/households", dwelling=a.dwelling.pk)) == [a.household.pk]
    assert ids(head_api.get("/households", building=a.building.pk)) == [a.household.pk, empty.pk]
    assert ids(head_api.get("/households", grid=b.grid.code)) == [b.household.pk]
    reg.person_move_out(actor=None, person=b.member)
    reg.person_move_out(actor=None, person=b.householder)
    assert ids(head_api.get("/households", status="dissolved")) == [b.household.pk]
    assert ids(head_api.get("/households", status="active")) == [a.household.pk, empty.pk]
    detail = head_api.get(f"/households/{a.household.pk}").data
    assert {k: v for k, v in detail.items() if k != "members"} == {
        "id": a.household.pk,
        "dwelling_id": a.dwelling.pk,
        "address": "测试小区1号楼1单元301",
        "grid_id": a.grid.pk,
        "grid_code": a.grid.code,
        "status": "active",
        "householder_id": a.householder.pk,
    }
    assert [(m["id"], m["relation"]) for m in detail["members"]] == [
        (a.householder.pk, "self"),
        (a.member.pk, "child"),
    ]
    assert a.householder_id_number not in str(detail)
    # Members who left are not members any more.
    assert head_api.get(f"/households/{b.household.pk}").data["members"] == []
