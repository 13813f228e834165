"""The demo jurisdiction: a deterministic register to try Linli on and to benchmark it.

Default: about 10,000 persons in 1 district, 2 subdistricts, 4 communities and 24 grids. With
``people`` larger, communities and subdistricts grow so that grids keep a realistic size (about
400 persons each). The same seed always gives the same register. Rows are written in bulk for
speed, through the same helpers the services use (sealing, blind indexes, pinyin), with the
same timeline events and memberships the services would have written.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max
from faker.providers.person.zh_CN import Provider as NameProvider

from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core import crypto
from linli.core.identity import mask_national_id, mask_phone, national_id_check_digit
from linli.register.models import (
    Building,
    Dwelling,
    DwellingUse,
    Entrance,
    Estate,
    EventKind,
    Household,
    Membership,
    Person,
    PersonTag,
    RegisterEvent,
    Relation,
    Residency,
    Tag,
)
from linli.register.naming import pinyin_forms

ROOT_CODE = "370100"
DEMO_PASSWORD = "linli-demo-2026"  # noqa: S105 (printed for the demo; documented)
REFERENCE_DAY = dt.date(2026, 1, 1)  # ages and dates are drawn relative to this day
PERSONS_PER_GRID = 420
GRIDS_PER_COMMUNITY = 6
REGION_CODES = ["370102", "370103", "370104", "370105", "370112", "410105", "130102", "320102"]
ESTATE_WORDS = [
    "幸福",
    "阳光",
    "和谐",
    "锦绣",
    "翠苑",
    "金桥",
    "绿洲",
    "春晖",
    "明珠",
    "东方",
    "嘉园",
    "华庭",
    "丽景",
    "泉城",
    "望湖",
    "书香",
    "康乐",
    "朝阳",
    "滨河",
    "兴隆",
]
ESTATE_SUFFIX = ["小区", "花园", "家园", "新村", "苑"]
SUBDISTRICT_NAMES = [
    "和平街道",
    "长安街道",
    "新华街道",
    "文化街道",
    "光明街道",
    "建设街道",
    "解放街道",
    "友谊街道",
    "胜利街道",
    "团结街道",
]
COMMUNITY_WORDS = [
    "春风",
    "桃园",
    "柳荫",
    "银杏",
    "松柏",
    "丁香",
    "海棠",
    "青年",
    "振兴",
    "百花",
    "红星",
    "新桥",
    "南湖",
    "北苑",
    "西关",
    "东岳",
]


@dataclass
class Counters:
    persons: int = 0
    households: int = 0
    dwellings: int = 0
    buildings: int = 0
    grids: int = 0
    ids: set[str] = field(default_factory=set)


@dataclass
class DemoAccount:
    username: str
    role: str
    area_code: str
    area_name: str


def demo_exists() -> bool:
    return Area.objects.filter(code=ROOT_CODE).exists()


def _plan(people: int) -> tuple[int, int]:
    grids = max(24, math.ceil(people / PERSONS_PER_GRID))
    communities = max(4, math.ceil(grids / GRIDS_PER_COMMUNITY))
    subdistricts = max(2, math.ceil(communities / 40))
    return subdistricts, communities


def seed_demo(
    *, people: int = 10_000, seed: int = 20200202, progress: Callable[[str], None] = print
) -> Counters:
    """Create the demo jurisdiction and its register. Call only when demo_exists() is False."""
    rng = random.Random(seed)
    subdistricts, communities = _plan(people)
    counters = Counters()
    tags = {t.code: t for t in Tag.objects.all()}
    with transaction.atomic():
        city = Area.objects.create(kind=AreaKind.CITY, code=ROOT_CODE, name="泉州示范市")
        district = Area.objects.create(
            kind=AreaKind.DISTRICT, code=ROOT_CODE + "01", name="邻里区", parent=city
        )
        subs = [
            Area.objects.create(
                kind=AreaKind.SUBDISTRICT,
                code=f"{district.code}{i + 1:03d}",
                name=SUBDISTRICT_NAMES[i % len(SUBDISTRICT_NAMES)]
                + ("" if i < len(SUBDISTRICT_NAMES) else str(i // len(SUBDISTRICT_NAMES) + 1)),
                parent=district,
            )
            for i in range(subdistricts)
        ]
    rows = _Rows()
    per_community = math.ceil(people / communities)
    remaining = people
    for c in range(communities):
        sub = subs[c % subdistricts]
        word = COMMUNITY_WORDS[c % len(COMMUNITY_WORDS)]
        suffix = "" if c < len(COMMUNITY_WORDS) else str(c // len(COMMUNITY_WORDS) + 1)
        target = min(per_community, remaining)
        remaining -= target
        with transaction.atomic():
            community = Area.objects.create(
                kind=AreaKind.COMMUNITY,
                code=f"{sub.code}{c + 1:03d}",
                name=f"{word}{suffix}社区",
                parent=sub,
            )
            _seed_community(rng, community, target, counters, tags, rows)
        progress(f"  {community.code} {community.name}: 累计 {counters.persons} 人")
    rows.finish()
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_label=f"demo register ({counters.persons} persons)",
        area=None,
        reason="linli seed_demo",
    )
    return counters


def _seed_community(
    rng: random.Random,
    community: Area,
    people: int,
    counters: Counters,
    tags: dict[str, Tag],
    rows: _Rows,
) -> None:
    grids = [
        Area.objects.create(
            kind=AreaKind.GRID,
            code=f"{community.code}{g + 1:02d}",
            name=f"第{g + 1}网格",
            parent=community,
        )
        for g in range(GRIDS_PER_COMMUNITY)
    ]
    counters.grids += len(grids)
    per_grid = math.ceil(people / len(grids))
    estate_names = rng.sample(ESTATE_WORDS, 2)
    estates = [
        Estate.objects.create(
            community=community,
            name=f"{w}{rng.choice(ESTATE_SUFFIX)}",
            address=f"{community.name}{w}路{rng.randint(1, 300)}号",
            latitude=round(36.65 + rng.uniform(-0.05, 0.05), 6),
            longitude=round(117.0 + rng.uniform(-0.05, 0.05), 6),
        )
        for w in estate_names
    ]
    left = people
    building_no = {e.pk: 0 for e in estates}
    for gi, grid in enumerate(grids):
        estate = estates[0] if gi < len(grids) // 2 else estates[1]
        quota = min(per_grid, left)
        left -= quota
        while quota > 0:
            building_no[estate.pk] += 1
            quota -= _seed_building(
                rng, estate, grid, building_no[estate.pk], quota, counters, tags, rows
            )
    rows.flush()


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _v: value


class _Rows:
    """Rows of the large tables, written with executemany and ids assigned here.

    The ORM's bulk_create spends most of its time preparing each value; the seed writes
    millions of rows, so it adapts values once per type and inserts plain tuples instead.
    Ids are taken above the current maximum (the seed is the only writer while it runs) and
    PostgreSQL sequences are moved past them by ``finish``.
    """

    MODELS = (Dwelling, Household, Person, Membership, RegisterEvent, PersonTag)

    def __init__(self) -> None:
        from django.utils import timezone

        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        self.next_id: dict[type[models.Model], int] = {}
        self.rows: dict[type[models.Model], list[tuple[Any, ...]]] = {m: [] for m in self.MODELS}
        self.columns: dict[type[models.Model], list[tuple[str, Callable[[Any], Any]]]] = {}
        for model in self.MODELS:
            self.next_id[model] = (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1
            cols: list[tuple[str, Callable[[Any], Any]]] = []
            for f in model._meta.concrete_fields:
                adapt: Callable[[Any], Any]
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    adapt = _constant(now)
                elif isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
                    adapt = lambda v: None if v is None else ops.adapt_datefield_value(v)  # noqa: E731
                elif isinstance(f, models.JSONField):
                    adapt = lambda v: json.dumps(v if v is not None else {}, ensure_ascii=False)  # noqa: E731
                elif isinstance(f, models.DecimalField):
                    adapt = lambda v: None if v is None else str(v)  # noqa: E731
                else:
                    adapt = lambda v: v  # noqa: E731
                cols.append((f.attname, adapt))
            self.columns[model] = cols
        self.defaults = {
            model: {f.attname: f.get_default() for f in model._meta.concrete_fields}
            for model in self.MODELS
        }

    def add(self, model: Any, **values: Any) -> int:
        pk = self.next_id[model]
        self.next_id[model] = pk + 1
        values["id"] = pk
        defaults = self.defaults[model]
        self.rows[model].append(
            tuple(adapt(values.get(name, defaults[name])) for name, adapt in self.columns[model])
        )
        return pk

    def flush(self) -> None:
        with connection.cursor() as cur:
            for model in self.MODELS:
                rows = self.rows[model]
                if not rows:
                    continue
                cols = ", ".join(
                    connection.ops.quote_name(model._meta.get_field(n).column)  # type: ignore[union-attr,arg-type]
                    for n, _ in self.columns[model]
                )
                marks = ", ".join(["%s"] * len(self.columns[model]))
                table = connection.ops.quote_name(model._meta.db_table)
                # Identifiers come from model metadata, values travel as parameters.
                sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
                cur.executemany(sql, rows)
                rows.clear()

    def finish(self) -> None:
        from django.core.management.color import no_style

        self.flush()
        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(self.MODELS)):
                cur.execute(sql)


def _seed_building(
    rng: random.Random,
    estate: Estate,
    grid: Area,
    number: int,
    quota: int,
    counters: Counters,
    tags: dict[str, Tag],
    rows: _Rows,
) -> int:
    floors = rng.choice([6, 6, 7, 11, 18])
    per_floor = 2
    entrances_n = 2 if floors <= 7 else 1
    building = Building.objects.create(
        estate=estate, grid=grid, name=f"{number}号楼", floors=floors, sort_key=number
    )
    counters.buildings += 1
    placed = 0
    for e in range(entrances_n):
        ent = Entrance.objects.create(building=building, name=f"{e + 1}单元", sort_key=e + 1)
        for floor in range(1, floors + 1):
            for k in range(1, per_floor + 1):
                num = f"{floor}{k:02d}"
                use = rng.choices(_USES, cum_weights=_USE_CUM)[0]
                address = f"{estate.name}{building.name}{ent.name}{num}室"
                dwelling_id = rows.add(
                    Dwelling,
                    building_id=building.pk,
                    entrance_id=ent.pk,
                    grid_id=grid.pk,
                    floor=floor,
                    number=num,
                    use=use,
                    floor_area=rng.choice([56, 68, 75, 89, 96, 110, 128, 143]),
                    address=address,
                )
                counters.dwellings += 1
                if use == DwellingUse.VACANT or placed >= quota:
                    continue
                size = min(rng.choices([1, 2, 3, 4, 5], cum_weights=_SIZE_CUM)[0], quota - placed)
                placed += size
                _seed_household(
                    rng,
                    dwelling_id,
                    address,
                    use == DwellingUse.RENTED,
                    size,
                    grid,
                    counters,
                    tags,
                    rows,
                )
    return placed


_USES = [DwellingUse.OWNER_OCCUPIED, DwellingUse.RENTED, DwellingUse.VACANT]
_USE_CUM = list(itertools.accumulate([74, 18, 8]))
_SIZE_CUM = list(itertools.accumulate([14, 30, 30, 18, 8]))


def _seed_household(
    rng: random.Random,
    dwelling_id: int,
    address: str,
    tenant: bool,
    size: int,
    grid: Area,
    counters: Counters,
    tags: dict[str, Tag],
    rows: _Rows,
) -> None:
    family = _family(rng, size, tenant, counters)
    household_id = rows.next_id[Household]
    head_id = rows.next_id[Person]
    rows.add(Household, dwelling_id=dwelling_id, grid_id=grid.pk, householder_id=head_id)
    counters.households += 1
    since = REFERENCE_DAY - dt.timedelta(days=rng.randint(30, 365 * 25))
    for values in family:
        values.update(household_id=household_id, grid_id=grid.pk)
        person_id = rows.add(Person, **values)
        counters.persons += 1
        rows.add(
            Membership,
            person_id=person_id,
            household_id=household_id,
            relation=values["relation"],
            started_on=since,
        )
        rows.add(
            RegisterEvent,
            kind=EventKind.MOVE_IN,
            occurred_on=since,
            person_id=person_id,
            household_id=household_id,
            dwelling_id=dwelling_id,
            grid_id=grid.pk,
            summary=f"迁入 {address}",
            data={"source": "demo"},
        )
        for code in _tags_for(rng, values["birth_date"], values["sex"], len(family)):
            if code in tags:
                rows.add(PersonTag, person_id=person_id, tag_id=tags[code].pk, source="demo")


def _national_id(rng: random.Random, birth: dt.date, sex: str, counters: Counters) -> str:
    while True:
        seq = rng.randint(0, 99) * 10 + rng.choice(
            [1, 3, 5, 7, 9] if sex == "M" else [0, 2, 4, 6, 8]
        )
        first17 = f"{rng.choice(REGION_CODES)}{birth:%Y%m%d}{seq:03d}"
        number = first17 + national_id_check_digit(first17)
        if number not in counters.ids:
            counters.ids.add(number)
            return number


def _person(
    rng: random.Random,
    *,
    surname: str,
    age: int,
    sex: str,
    relation: str,
    residency: str,
    counters: Counters,
) -> dict[str, Any]:
    given_pool = _GIVEN_MALE if sex == "M" else _GIVEN_FEMALE
    given = rng.choice(given_pool)
    if len(given) == 1 and rng.random() < 0.6:
        given += rng.choice(_GIVEN_SINGLE)
    birth = REFERENCE_DAY - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    nid = _national_id(rng, birth, sex, counters)
    sp, si = pinyin_forms(surname)
    gp, gi = pinyin_forms(given)
    values: dict[str, Any] = {
        "name": surname + given,
        "name_pinyin": sp + gp,
        "name_initials": si + gi,
        "id_sealed": crypto.seal(nid),
        "id_bidx": crypto.blind_index("national_id", nid),
        "id_masked": mask_national_id(nid),
        "id_tail": nid[-4:],
        "birth_date": birth,
        "sex": sex,
        "residency": residency,
        "relation": relation,
        "provenance": _PROVENANCE,
    }
    if age >= 14:
        phone = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
        values.update(
            phone_sealed=crypto.seal(phone),
            phone_bidx=crypto.blind_index("phone", phone),
            phone_masked=mask_phone(phone),
            phone_tail=phone[-4:],
        )
    return values


_PROVENANCE = {
    f: {"source": "demo", "confirmed_at": "2025-12-01T09:00:00+08:00", "by": None}
    for f in ("name", "national_id", "phone", "residency", "relation")
}
_SURNAMES = list(NameProvider.last_names)
_SURNAME_CUM = list(itertools.accumulate(NameProvider.last_names.values()))
_GIVEN_MALE = list(NameProvider.first_names_male)
_GIVEN_FEMALE = list(NameProvider.first_names_female)
_GIVEN_SINGLE = [n for n in NameProvider.first_names if len(n) == 1]


def _surname(rng: random.Random) -> str:
    return rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]


def _family(
    rng: random.Random, size: int, tenant: bool, counters: Counters
) -> list[dict[str, Any]]:
    surname = _surname(rng)
    if tenant:
        residency = rng.choices([Residency.TENANT, Residency.FLOATING], weights=[6, 4])[0]
    else:
        residency = rng.choices(
            [Residency.REGISTERED, Residency.LONG_TERM, Residency.FLOATING], weights=[82, 12, 6]
        )[0]
    head_age = rng.choices(
        [rng.randint(22, 40), rng.randint(41, 60), rng.randint(61, 92)], weights=[35, 40, 25]
    )[0]
    head_sex = rng.choice("MF")
    fam = [
        _person(
            rng,
            surname=surname,
            age=head_age,
            sex=head_sex,
            relation=Relation.SELF,
            residency=residency,
            counters=counters,
        )
    ]
    if size >= 2:
        spouse_sex = "F" if head_sex == "M" else "M"
        spouse_surname = _surname(rng)
        fam.append(
            _person(
                rng,
                surname=spouse_surname,
                age=max(20, head_age + rng.randint(-4, 4)),
                sex=spouse_sex,
                relation=Relation.SPOUSE,
                residency=residency,
                counters=counters,
            )
        )
    for _i in range(size - 2):
        if head_age > 55 and rng.random() < 0.5:
            rel, age = Relation.GRANDCHILD, rng.randint(1, 16)
        elif head_age < 45 and rng.random() < 0.3:
            rel, age = Relation.PARENT, min(95, head_age + rng.randint(24, 32))
        else:
            rel, age = Relation.CHILD, max(0, head_age - rng.randint(22, 34))
        fam.append(
            _person(
                rng,
                surname=surname,
                age=age,
                sex=rng.choice("MF"),
                relation=rel,
                residency=residency,
                counters=counters,
            )
        )
    return fam


def _tags_for(rng: random.Random, birth: dt.date, sex: str, family_size: int) -> list[str]:
    age = (REFERENCE_DAY - birth).days // 365
    codes = []
    if age >= 60:
        codes.append("elderly")
        if family_size == 1:
            codes.append("elderly_alone")
    if age < 18:
        codes.append("minor")
    r = rng.random()
    if age >= 18 and r < 0.06:
        codes.append("party_member")
    if rng.random() < 0.02:
        codes.append("disabled")
    if rng.random() < 0.025:
        codes.append("low_income")
    if age >= 25 and sex == "M" and rng.random() < 0.02:
        codes.append("veteran")
    if age >= 45 and rng.random() < 0.1:
        codes.append("chronic_illness")
    if age >= 18 and rng.random() < 0.003:
        codes.append("key_person")
    return codes


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, role, area code) of the demo staff accounts, the first grids side by side."""
    district = Area.objects.get(code=ROOT_CODE + "01")
    sub = district.children.order_by("code").first()
    assert sub is not None
    community = sub.children.order_by("code").first()
    assert community is not None
    grids = list(community.children.order_by("code")[:2])
    return [
        ("admin", "district_admin", district.code),
        ("jiedao", "subdistrict_officer", sub.code),
        ("shuji", "community_head", community.code),
        ("shegong", "community_worker", community.code),
        ("wangge1", "grid_worker", grids[0].code),
        ("wangge2", "grid_worker", grids[1].code),
        ("louzhang", "building_leader", grids[0].code),
        ("bumen", "department", district.code),
    ]


def demo_resident_phone() -> str:
    """The phone of a demo householder in the first grid, for trying the portal.

    Printed by `linli serve --demo` only, and audited as a reveal like any other.
    """
    from linli.audit.models import AuditAction as Action

    user = demo_accounts()[4]
    grid = Area.objects.get(code=user[2])
    person = (
        Person.objects.filter(
            grid=grid, status="living", relation=Relation.SELF, phone_sealed__isnull=False
        )
        .order_by("id")
        .first()
    )
    if person is None:
        return ""
    audit_record(
        actor=None,
        action=Action.REVEAL,
        obj=person,
        field="phone",
        reason="demo accounts banner (linli serve --demo)",
    )
    return person.reveal_phone()
