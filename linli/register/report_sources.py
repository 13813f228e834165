"""The register's row sets for report templates (found by linli.reports at start-up).

``register.person`` (实有人口), ``register.household`` (户) and ``register.dwelling`` (房屋):
their columns, filters and the per-render lookups (tags, household size, occupants).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linli.areas.models import Area
from linli.core import crypto
from linli.register.models import (
    Dwelling,
    DwellingUse,
    Household,
    HouseholdStatus,
    Person,
    PersonStatus,
    PersonTag,
    Relation,
    Residency,
    Sex,
    Tag,
)
from linli.reports.registry import Aux, Column, Filter, Measure, Row, RowSet, register_rowset


def _under(qs: QuerySet[Any], area: Area, lookup: str = "grid_id") -> QuerySet[Any]:
    return qs.filter(
        **{f"{lookup}__in": Area.objects.filter(path__startswith=area.path).values("id")}
    )


def _label(choices: Any, value: Any) -> str:
    return str(dict(choices.choices).get(value, value or ""))


def _years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _age(birth: dt.date | None) -> int | str:
    if not birth:
        return ""
    today = timezone.localdate()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _unseal(value: Any) -> str:
    return crypto.unseal(bytes(value)) if value else ""


def _tag_choices() -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in Tag.objects.order_by("sort_key", "code")]


def _date_q(path: str, cmp: str) -> Any:
    return lambda v: Q(**{f"{path}__{cmp}": dt.date.fromisoformat(str(v))})


# --- persons -------------------------------------------------------------------------------


def _person_base(user: Any, area: Area) -> QuerySet[Person]:
    qs = Person.objects.all() if user is None else Person.objects.restrict(user)
    return _under(qs, area)


def _person_tags(qs: QuerySet[Any]) -> dict[Any, Any]:
    tags: dict[int, list[str]] = {}
    rows = (
        PersonTag.objects.filter(person_id__in=qs.values("id"))
        .order_by("tag__sort_key", "tag__code")
        .values_list("person_id", "tag__name")
    )
    for pid, name in rows.iterator(chunk_size=5000):
        tags.setdefault(pid, []).append(name)
    return tags


def _household_sizes(qs: QuerySet[Any]) -> dict[Any, Any]:
    return dict(
        Person.objects.filter(
            household_id__in=qs.values("household_id"), status=PersonStatus.LIVING
        )
        .values("household_id")
        .annotate(n=Count("id"))
        .values_list("household_id", "n")
    )


def _tags_cell(key: str, field: str = "id") -> Any:
    return lambda r, a: "、".join(a[key].get(r[field], []))


PERSON = RowSet(
    key="register.person",
    label="实有人口",
    unit="人",
    capability="register",
    base=_person_base,
    tag_path="person_tags__tag__code",
    default_order=("grid__path", "household__dwelling__address", "household_id", "id"),
    aux={"tags": _person_tags, "household_size": _household_sizes},
    columns={
        c.key: c
        for c in [
            Column("name", "姓名", ("name",), order="name_pinyin", width=10),
            Column(
                "sex", "性别", ("sex",), lambda r, a: _label(Sex, r["sex"]), order="sex", width=6
            ),
            Column(
                "birth_date", "出生日期", ("birth_date",), kind="date", order="birth_date", width=12
            ),
            Column(
                "age",
                "年龄",
                ("birth_date",),
                lambda r, a: _age(r["birth_date"]),
                kind="int",
                order="-birth_date",
                width=6,
            ),
            Column("national_id", "公民身份号码", ("id_masked",), width=21),
            Column(
                "national_id_full",
                "公民身份号码（完整）",
                ("id_sealed",),
                lambda r, a: _unseal(r["id_sealed"]),
                width=21,
                reveal=True,
                masked_key="national_id",
            ),
            Column("phone", "联系电话", ("phone_masked",), width=14),
            Column(
                "phone_full",
                "联系电话（完整）",
                ("phone_sealed",),
                lambda r, a: _unseal(r["phone_sealed"]),
                width=14,
                reveal=True,
                masked_key="phone",
            ),
            Column(
                "residency",
                "人口类别",
                ("residency",),
                lambda r, a: _label(Residency, r["residency"]),
                order="residency",
                width=12,
            ),
            Column(
                "status",
                "人员状态",
                ("status",),
                lambda r, a: _label(PersonStatus, r["status"]),
                order="status",
                width=10,
            ),
            Column(
                "relation",
                "与户主关系",
                ("relation",),
                lambda r, a: _label(Relation, r["relation"]),
                order="relation",
                width=10,
            ),
            Column(
                "address",
                "现住址",
                ("household__dwelling__address",),
                order="household__dwelling__address",
                width=30,
            ),
            Column(
                "estate",
                "小区",
                ("household__dwelling__building__estate__name",),
                order="household__dwelling__building__estate__name",
                width=14,
            ),
            Column("grid", "所属网格", ("grid__name",), order="grid__path", width=12),
            Column(
                "community",
                "所属社区",
                ("grid__parent__name",),
                order="grid__parent__path",
                width=14,
            ),
            Column(
                "householder",
                "户主姓名",
                ("household__householder__name",),
                order="household_id",
                width=10,
            ),
            Column(
                "household_size",
                "家庭人数",
                ("household_id",),
                lambda r, a: a["household_size"].get(r["household_id"], 0),
                aux=("household_size",),
                kind="int",
                width=8,
            ),
            Column(
                "dwelling_use",
                "房屋用途",
                ("household__dwelling__use",),
                lambda r, a: (
                    _label(DwellingUse, r["household__dwelling__use"])
                    if r["household__dwelling__use"]
                    else ""
                ),
                width=10,
            ),
            Column("tags", "人员类别标签", ("id",), _tags_cell("tags"), aux=("tags",), width=20),
            Column(
                "registered_on",
                "登记日期",
                ("created_at",),
                lambda r, a: timezone.localtime(r["created_at"]).date(),
                kind="date",
                order="created_at",
                width=12,
            ),
            Column("notes", "备注", ("notes",), width=20),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter("status", "人员状态", "choice", lambda v: Q(status=v), PersonStatus.choices),
            Filter(
                "residency", "人口类别", "multi", lambda v: Q(residency__in=v), Residency.choices
            ),
            Filter("sex", "性别", "choice", lambda v: Q(sex=v), Sex.choices),
            Filter(
                "tags_any",
                "带有任一标签",
                "multi",
                lambda v: Q(pk__in=PersonTag.objects.filter(tag__code__in=v).values("person_id")),
                _tag_choices,
            ),
            Filter("age_min", "年龄不小于", "int", lambda v: Q(birth_date__lte=_years_ago(int(v)))),
            Filter(
                "age_max",
                "年龄不大于",
                "int",
                lambda v: Q(birth_date__gt=_years_ago(int(v) + 1)),
            ),
            Filter("registered_from", "登记日期起", "date", _date_q("created_at__date", "gte")),
            Filter("registered_to", "登记日期止", "date", _date_q("created_at__date", "lte")),
            Filter(
                "dwelling_use",
                "房屋用途",
                "multi",
                lambda v: Q(household__dwelling__use__in=v),
                DwellingUse.choices,
            ),
            Filter(
                "relation", "与户主关系", "multi", lambda v: Q(relation__in=v), Relation.choices
            ),
        ]
    },
)


# --- households ----------------------------------------------------------------------------


def _household_base(user: Any, area: Area) -> QuerySet[Household]:
    qs = Household.objects.all() if user is None else Household.objects.restrict(user)
    return _under(qs, area)


def _members_by_household(qs: QuerySet[Any]) -> dict[Any, Any]:
    sizes: dict[int, list[str]] = {}
    rows = (
        Person.objects.filter(household_id__in=qs.values("id"), status=PersonStatus.LIVING)
        .order_by("household_id", "id")
        .values_list("household_id", "name")
    )
    for hid, name in rows.iterator(chunk_size=5000):
        sizes.setdefault(hid, []).append(name)
    return sizes


HOUSEHOLD = RowSet(
    key="register.household",
    label="户",
    unit="户",
    capability="register",
    base=_household_base,
    tag_path="members__person_tags__tag__code",
    default_order=("grid__path", "dwelling__address", "id"),
    aux={"members": _members_by_household},
    columns={
        c.key: c
        for c in [
            Column("address", "住址", ("dwelling__address",), order="dwelling__address", width=30),
            Column(
                "estate",
                "小区",
                ("dwelling__building__estate__name",),
                order="dwelling__building__estate__name",
                width=14,
            ),
            Column("grid", "所属网格", ("grid__name",), order="grid__path", width=12),
            Column(
                "householder",
                "户主姓名",
                ("householder__name",),
                order="householder__name_pinyin",
                width=10,
            ),
            Column("householder_id", "户主身份号码", ("householder__id_masked",), width=21),
            Column(
                "householder_id_full",
                "户主身份号码（完整）",
                ("householder__id_sealed",),
                lambda r, a: _unseal(r["householder__id_sealed"]),
                width=21,
                reveal=True,
                masked_key="householder_id",
            ),
            Column("householder_phone", "户主电话", ("householder__phone_masked",), width=14),
            Column(
                "householder_residency",
                "户主人口类别",
                ("householder__residency",),
                lambda r, a: (
                    _label(Residency, r["householder__residency"])
                    if r["householder__residency"]
                    else ""
                ),
                width=12,
            ),
            Column(
                "size",
                "家庭人数",
                ("id",),
                lambda r, a: len(a["members"].get(r["id"], [])),
                aux=("members",),
                kind="int",
                width=8,
            ),
            Column(
                "members",
                "家庭成员",
                ("id",),
                lambda r, a: "、".join(a["members"].get(r["id"], [])),
                aux=("members",),
                width=30,
            ),
            Column(
                "dwelling_use",
                "房屋用途",
                ("dwelling__use",),
                lambda r, a: _label(DwellingUse, r["dwelling__use"]) if r["dwelling__use"] else "",
                order="dwelling__use",
                width=10,
            ),
            Column(
                "status",
                "户状态",
                ("status",),
                lambda r, a: _label(HouseholdStatus, r["status"]),
                order="status",
                width=8,
            ),
            Column("notes", "备注", ("notes",), width=20),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter("status", "户状态", "choice", lambda v: Q(status=v), HouseholdStatus.choices),
            Filter(
                "dwelling_use",
                "房屋用途",
                "multi",
                lambda v: Q(dwelling__use__in=v),
                DwellingUse.choices,
            ),
            Filter(
                "member_tags_any",
                "有成员带有任一标签",
                "multi",
                lambda v: Q(
                    pk__in=Person.objects.filter(
                        person_tags__tag__code__in=v, status=PersonStatus.LIVING
                    ).values("household_id")
                ),
                _tag_choices,
            ),
        ]
    },
)


# --- dwellings -----------------------------------------------------------------------------


def _dwelling_base(user: Any, area: Area) -> QuerySet[Dwelling]:
    qs = Dwelling.objects.all() if user is None else Dwelling.objects.restrict(user)
    return _under(qs, area)


def _occupants(qs: QuerySet[Any]) -> dict[Any, Any]:
    """dwelling id -> (living residents, of whom floating or tenants, householder names)."""
    out: dict[int, list[Any]] = {}
    rows = (
        Person.objects.filter(
            household__dwelling_id__in=qs.values("id"), status=PersonStatus.LIVING
        )
        .order_by("household__dwelling_id", "household_id", "id")
        .values_list("household__dwelling_id", "residency", "relation", "name")
    )
    for did, residency, relation, name in rows.iterator(chunk_size=5000):
        entry = out.setdefault(did, [0, 0, []])
        entry[0] += 1
        if residency in (Residency.FLOATING, Residency.TENANT):
            entry[1] += 1
        if relation == Relation.SELF:
            entry[2].append(name)
    return out


def _occupancy(r: Row, a: Aux) -> str:
    living = a["occupants"].get(r["id"], [0, 0, []])[0]
    if not living:
        return "空置"
    return "出租" if r["use"] == DwellingUse.RENTED else "自住/其他"


def _occupied_q(value: Any) -> Q:
    lived = Person.objects.filter(status=PersonStatus.LIVING).values("household__dwelling_id")
    return Q(pk__in=lived) if value == "yes" else ~Q(pk__in=lived)


DWELLING = RowSet(
    key="register.dwelling",
    label="房屋",
    unit="套",
    capability="register",
    base=_dwelling_base,
    default_order=("grid__path", "building__estate__name", "building__sort_key", "address"),
    aux={"occupants": _occupants},
    measures={"floor_area": Measure("floor_area", "建筑面积（㎡）", "floor_area")},
    columns={
        c.key: c
        for c in [
            Column("address", "房屋地址", ("address",), order="address", width=30),
            Column(
                "estate",
                "小区",
                ("building__estate__name",),
                order="building__estate__name",
                width=14,
            ),
            Column("building", "楼栋", ("building__name",), order="building__sort_key", width=8),
            Column("entrance", "单元", ("entrance__name",), width=8),
            Column("floor", "楼层", ("floor",), kind="int", order="floor", width=6),
            Column("number", "房号", ("number",), order="number", width=8),
            Column("grid", "所属网格", ("grid__name",), order="grid__path", width=12),
            Column(
                "use",
                "房屋用途",
                ("use",),
                lambda r, a: _label(DwellingUse, r["use"]),
                order="use",
                width=10,
            ),
            Column("floor_area", "建筑面积（㎡）", ("floor_area",), kind="decimal", width=10),
            Column(
                "occupancy",
                "入住情况",
                ("id", "use"),
                _occupancy,
                aux=("occupants",),
                width=10,
            ),
            Column(
                "residents",
                "居住人数",
                ("id",),
                lambda r, a: a["occupants"].get(r["id"], [0, 0, []])[0],
                aux=("occupants",),
                kind="int",
                width=8,
            ),
            Column(
                "tenants",
                "其中流动/租住人数",
                ("id",),
                lambda r, a: a["occupants"].get(r["id"], [0, 0, []])[1],
                aux=("occupants",),
                kind="int",
                width=10,
            ),
            Column(
                "householders",
                "户主/承租人",
                ("id",),
                lambda r, a: "、".join(a["occupants"].get(r["id"], [0, 0, []])[2]),
                aux=("occupants",),
                width=16,
            ),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter("use", "房屋用途", "multi", lambda v: Q(use__in=v), DwellingUse.choices),
            Filter(
                "occupied",
                "是否有人居住",
                "choice",
                _occupied_q,
                [("yes", "有人居住"), ("no", "无人居住")],
            ),
        ]
    },
)

for _rs in (PERSON, HOUSEHOLD, DWELLING):
    register_rowset(_rs)
