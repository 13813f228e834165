"""A small, explicit world for tests: one community with two sibling grids, built through
the same services the product uses."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from linli.accounts.models import User
from linli.accounts.services import user_create
from linli.areas.models import Area, AreaKind
from linli.core.identity import national_id_check_digit
from linli.register import services as reg
from linli.register.models import Building, Dwelling, Household, Person, Relation, Residency

PASSWORD = "test-pass-2026"
_seq = itertools.count(1)


def make_national_id(birth: dt.date = dt.date(1980, 5, 17), *, male: bool = True) -> str:
    """A valid, unique 18-digit national ID."""
    n = next(_seq) % 500
    seq = n * 2 + (1 if male else 0)
    first17 = f"370102{birth:%Y%m%d}{seq:03d}"
    return first17 + national_id_check_digit(first17)


def make_phone() -> str:
    return f"139{next(_seq):08d}"


@dataclass
class GridWorld:
    """What one grid holds in the test world."""

    grid: Area
    building: Building
    dwelling: Dwelling
    household: Household
    householder: Person
    member: Person
    worker: User
    householder_id_number: str = ""
    householder_phone: str = ""


@dataclass
class World:
    city: Area
    district: Area
    subdistrict: Area
    community: Area
    a: GridWorld
    b: GridWorld
    head: User
    admin: User
    users: dict[str, User] = field(default_factory=dict)


def make_area(kind: str, code: str, name: str, parent: Area | None = None) -> Area:
    return Area.objects.create(kind=kind, code=code, name=name, parent=parent)


def _grid_world(community: Area, estate, letter: str, index: int) -> GridWorld:  # type: ignore[no-untyped-def]
    grid = make_area(AreaKind.GRID, f"{community.code}{index:02d}", f"网格{letter}", community)
    building = reg.building_create(
        actor=None, estate=estate, grid=grid, name=f"{index}号楼", floors=6, sort_key=index
    )
    entrance = reg.entrance_create(actor=None, building=building, name="1单元")
    dwelling = reg.dwelling_create(
        actor=None, building=building, entrance=entrance, floor=3, number="301"
    )
    reg.dwelling_create(actor=None, building=building, entrance=entrance, floor=3, number="302")
    household = reg.household_create(actor=None, dwelling=dwelling)
    nid = make_national_id(dt.date(1950 + index, 3, 9))
    phone = make_phone()
    surname = "张" if letter == "A" else "李"
    head = reg.person_create(
        actor=None,
        name=f"{surname}建国",
        national_id=nid,
        phone=phone,
        household=household,
        relation=Relation.SELF,
        residency=Residency.REGISTERED,
    )
    member = reg.person_create(
        actor=None,
        name=f"{surname}小{letter}",
        national_id=make_national_id(dt.date(2012, 8, 1), male=False),
        household=household,
        relation=Relation.CHILD,
    )
    worker, _ = user_create(
        actor=None,
        username=f"grid{letter.lower()}",
        password=PASSWORD,
        role="grid_worker",
        area=grid,
        display_name=f"网格员{letter}",
    )
    household.refresh_from_db()
    return GridWorld(
        grid=grid,
        building=building,
        dwelling=dwelling,
        household=household,
        householder=head,
        member=member,
        worker=worker,
        householder_id_number=nid,
        householder_phone=phone,
    )


def make_world() -> World:
    city = make_area(AreaKind.CITY, "T1", "测试市")
    district = make_area(AreaKind.DISTRICT, "T101", "测试区", city)
    sub = make_area(AreaKind.SUBDISTRICT, "T101001", "测试街道", district)
    community = make_area(AreaKind.COMMUNITY, "T101001001", "测试社区", sub)
    estate = reg.estate_create(actor=None, community=community, name="测试小区")
    a = _grid_world(community, estate, "A", 1)
    b = _grid_world(community, estate, "B", 2)
    head, _ = user_create(
        actor=None, username="head", password=PASSWORD, role="community_head", area=community
    )
    admin, _ = user_create(
        actor=None, username="admin", password=PASSWORD, role="district_admin", area=district
    )
    return World(city, district, sub, community, a, b, head, admin)
