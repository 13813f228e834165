"""The register's row sets for report templates (loaded by linli.reports at start-up).

``register.person`` (实有人口), ``register.household`` (户) and ``register.dwelling`` (房屋):
their columns, filters and the per-render lookups (tags, household size, occupants).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


def _label(choices: Any, value: Any, aux: Aux) -> str:
    """The display label of a choice. Called for every cell of a ledger, so the label map is
    built once per render (in the active language) and kept in the render's aux maps."""
    if not value:
        return ""
    cache = aux.setdefault("_labels", {})
    labels = cache.get(choices)
    if labels is None:
        labels = cache[choices] = {k: str(v) for k, v in choices.choices}
    return str(labels.get(value, value))


@functools.lru_cache(maxsize=4)
def _zone(name: str) -> Any:
    return zoneinfo.ZoneInfo(name)


def _local_date(value: dt.datetime) -> dt.date:
    return value.astimezone(_zone(settings.TIME_ZONE)).date()


def _years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _age(birth: dt.date | None, aux: Aux) -> int | str:
    """Age in whole years today. Today is read once per render and kept in its aux maps
    (timezone.localdate() per cell was a tenth of a ledger's Python time)."""
    if not birth:
        return ""
    cache = aux.setdefault("_today", {})
    today: dt.date | None = cache.get("date")
    if today is None:
        today = cache["date"] = timezone.localdate()
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


def _household_size() -> Any:
    """The living persons of the row's household, counted by the database for each row (an
    indexed correlated count in the ledger's own query). A lookup over the whole queryset
    re-ran the scoped filter as a subquery and read every person of the register."""
    members = (
        Person.objects.filter(household_id=OuterRef("household_id"), status=PersonStatus.LIVING)
        .order_by()
        .values("household_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(members, output_field=IntegerField()), 0)


def _tags_cell(key: str, field: str = "id") -> Any:
    return lambda r, a: "、".join(a[key].get(r[field], []))


PERSON = RowSet(
    key="register.person",
    label=_("Residents"),
    unit=_("persons"),
    capability="register",
    base=_person_base,
    tag_path="person_tags__tag__code",
    tag_once=True,  # PersonTag is unique per (person, tag)
    default_order=("grid__path", "household__dwelling__address", "household_id", "id"),
    aux={"tags": _person_tags},
    annotations={"_household_size": _household_size},
    columns={
        c.key: c
        for c in [
            Column("name", _("Name"), ("name",), order="name_pinyin", width=10),
            Column(
                "sex",
                _("Sex"),
                ("sex",),
                lambda r, a: _label(Sex, r["sex"], a),
                order="sex",
                width=6,
            ),
            Column(
                "birth_date",
                _("Birth date"),
                ("birth_date",),
                kind="date",
                order="birth_date",
                width=12,
            ),
            Column(
                "age",
                _("Age"),
                ("birth_date",),
                lambda r, a: _age(r["birth_date"], a),
                kind="int",
                order="-birth_date",
                width=6,
            ),
            Column("national_id", _("National ID"), ("id_masked",), width=21),
            Column(
                "national_id_full",
                _("National ID (full)"),
                ("id_sealed",),
                lambda r, a: _unseal(r["id_sealed"]),
                width=21,
                reveal=True,
                masked_key="national_id",
            ),
            Column("phone", _("Phone"), ("phone_masked",), width=14),
            Column(
                "phone_full",
                _("Phone (full)"),
                ("phone_sealed",),
                lambda r, a: _unseal(r["phone_sealed"]),
                width=14,
                reveal=True,
                masked_key="phone",
            ),
            Column(
                "residency",
                _("Residency"),
                ("residency",),
                lambda r, a: _label(Residency, r["residency"], a),
                order="residency",
                width=12,
            ),
            Column(
                "status",
                _("Person status"),
                ("status",),
                lambda r, a: _label(PersonStatus, r["status"], a),
                order="status",
                width=10,
            ),
            Column(
                "relation",
                _("Relation to householder"),
                ("relation",),
                lambda r, a: _label(Relation, r["relation"], a),
                order="relation",
                width=10,
            ),
            Column(
                "address",
                _("Current address"),
                ("household__dwelling__address",),
                order="household__dwelling__address",
                width=30,
            ),
            Column(
                "hukou_address",
                _("Hukou address"),
                ("hukou_address",),
                order="hukou_address",
                width=30,
            ),
            Column(
                "current_address_written",
                _("Current address as written"),
                ("current_address",),
                order="current_address",
                width=30,
            ),
            Column(
                "estate",
                _("Estate"),
                ("household__dwelling__building__estate__name",),
                order="household__dwelling__building__estate__name",
                width=14,
            ),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
            Column(
                "community",
                _("Community"),
                ("grid__parent__name",),
                order="grid__parent__path",
                width=14,
            ),
            Column(
                "householder",
                _("Householder"),
                ("household__householder__name",),
                order="household_id",
                width=10,
            ),
            Column(
                "household_size", _("Household size"), ("_household_size",), kind="int", width=8
            ),
            Column(
                "dwelling_use",
                _("Dwelling use"),
                ("household__dwelling__use",),
                lambda r, a: (
                    _label(DwellingUse, r["household__dwelling__use"], a)
                    if r["household__dwelling__use"]
                    else ""
                ),
                width=10,
            ),
            Column("tags", _("Tags"), ("id",), _tags_cell("tags"), aux=("tags",), width=20),
            Column(
                "registered_on",
                _("Registered on"),
                ("created_at",),
                lambda r, a: _local_date(r["created_at"]),
                kind="date",
                order="created_at",
                width=12,
            ),
            Column("notes", _("Notes"), ("notes",), width=20),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter(
                "status", _("Person status"), "choice", lambda v: Q(status=v), PersonStatus.choices
            ),
            Filter(
                "residency",
                _("Residency"),
                "multi",
                lambda v: Q(residency__in=v),
                Residency.choices,
            ),
            Filter("sex", _("Sex"), "choice", lambda v: Q(sex=v), Sex.choices),
            Filter(
                "tags_any",
                _("Has any of the tags"),
                "multi",
                lambda v: Q(pk__in=PersonTag.objects.filter(tag__code__in=v).values("person_id")),
                _tag_choices,
            ),
            Filter(
                "age_min", _("Age at least"), "int", lambda v: Q(birth_date__lte=_years_ago(int(v)))
            ),
            Filter(
                "age_max",
                _("Age at most"),
                "int",
                lambda v: Q(birth_date__gt=_years_ago(int(v) + 1)),
            ),
            Filter(
                "registered_from",
                _("Registered on or after"),
                "date",
                _date_q("created_at__date", "gte"),
            ),
            Filter(
                "registered_to",
                _("Registered on or before"),
                "date",
                _date_q("created_at__date", "lte"),
            ),
            Filter(
                "dwelling_use",
                _("Dwelling use"),
                "multi",
                lambda v: Q(household__dwelling__use__in=v),
                DwellingUse.choices,
            ),
            Filter(
                "relation",
                _("Relation to householder"),
                "multi",
                lambda v: Q(relation__in=v),
                Relation.choices,
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
    label=_("Households"),
    unit=_("households"),
    capability="register",
    base=_household_base,
    tag_path="members__person_tags__tag__code",
    default_order=("grid__path", "dwelling__address", "id"),
    aux={"members": _members_by_household},
    columns={
        c.key: c
        for c in [
            Column(
                "address", _("Address"), ("dwelling__address",), order="dwelling__address", width=30
            ),
            Column(
                "estate",
                _("Estate"),
                ("dwelling__building__estate__name",),
                order="dwelling__building__estate__name",
                width=14,
            ),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
            Column(
                "householder",
                _("Householder"),
                ("householder__name",),
                order="householder__name_pinyin",
                width=10,
            ),
            Column(
                "householder_id",
                _("Householder national ID"),
                ("householder__id_masked",),
                width=21,
            ),
            Column(
                "householder_id_full",
                _("Householder national ID (full)"),
                ("householder__id_sealed",),
                lambda r, a: _unseal(r["householder__id_sealed"]),
                width=21,
                reveal=True,
                masked_key="householder_id",
            ),
            Column(
                "householder_phone",
                _("Householder phone"),
                ("householder__phone_masked",),
                width=14,
            ),
            Column(
                "householder_residency",
                _("Householder residency"),
                ("householder__residency",),
                lambda r, a: (
                    _label(Residency, r["householder__residency"], a)
                    if r["householder__residency"]
                    else ""
                ),
                width=12,
            ),
            Column(
                "size",
                _("Household size"),
                ("id",),
                lambda r, a: len(a["members"].get(r["id"], [])),
                aux=("members",),
                kind="int",
                width=8,
            ),
            Column(
                "members",
                _("Household members"),
                ("id",),
                lambda r, a: "、".join(a["members"].get(r["id"], [])),
                aux=("members",),
                width=30,
            ),
            Column(
                "dwelling_use",
                _("Dwelling use"),
                ("dwelling__use",),
                lambda r, a: (
                    _label(DwellingUse, r["dwelling__use"], a) if r["dwelling__use"] else ""
                ),
                order="dwelling__use",
                width=10,
            ),
            Column(
                "status",
                _("Household status"),
                ("status",),
                lambda r, a: _label(HouseholdStatus, r["status"], a),
                order="status",
                width=8,
            ),
            Column("notes", _("Notes"), ("notes",), width=20),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter(
                "status",
                _("Household status"),
                "choice",
                lambda v: Q(status=v),
                HouseholdStatus.choices,
            ),
            Filter(
                "dwelling_use",
                _("Dwelling use"),
                "multi",
                lambda v: Q(dwelling__use__in=v),
                DwellingUse.choices,
            ),
            Filter(
                "member_tags_any",
                _("A member has any of the tags"),
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
        return str(_("Empty"))
    return str(_("Rented") if r["use"] == DwellingUse.RENTED else _("Owner-occupied / other"))


def _occupied_q(value: Any) -> Q:
    lived = Person.objects.filter(status=PersonStatus.LIVING).values("household__dwelling_id")
    return Q(pk__in=lived) if value == "yes" else ~Q(pk__in=lived)


DWELLING = RowSet(
    key="register.dwelling",
    label=_("Dwellings"),
    unit=_("dwellings"),
    capability="register",
    base=_dwelling_base,
    default_order=("grid__path", "building__estate__name", "building__sort_key", "address"),
    aux={"occupants": _occupants},
    measures={"floor_area": Measure("floor_area", _("Floor area (m²)"), "floor_area")},
    columns={
        c.key: c
        for c in [
            Column("address", _("Dwelling address"), ("address",), order="address", width=30),
            Column(
                "estate",
                _("Estate"),
                ("building__estate__name",),
                order="building__estate__name",
                width=14,
            ),
            Column(
                "building", _("Building"), ("building__name",), order="building__sort_key", width=8
            ),
            Column("entrance", _("Entrance"), ("entrance__name",), width=8),
            Column("floor", _("Floor"), ("floor",), kind="int", order="floor", width=6),
            Column("number", _("Room number"), ("number",), order="number", width=8),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
            Column(
                "use",
                _("Dwelling use"),
                ("use",),
                lambda r, a: _label(DwellingUse, r["use"], a),
                order="use",
                width=10,
            ),
            Column("floor_area", _("Floor area (m²)"), ("floor_area",), kind="decimal", width=10),
            Column(
                "occupancy",
                _("Occupancy"),
                ("id", "use"),
                _occupancy,
                aux=("occupants",),
                width=10,
            ),
            Column(
                "residents",
                _("Residents living there"),
                ("id",),
                lambda r, a: a["occupants"].get(r["id"], [0, 0, []])[0],
                aux=("occupants",),
                kind="int",
                width=8,
            ),
            Column(
                "tenants",
                _("Of whom floating or tenants"),
                ("id",),
                lambda r, a: a["occupants"].get(r["id"], [0, 0, []])[1],
                aux=("occupants",),
                kind="int",
                width=10,
            ),
            Column(
                "householders",
                _("Householders / tenants"),
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
            Filter("use", _("Dwelling use"), "multi", lambda v: Q(use__in=v), DwellingUse.choices),
            Filter(
                "occupied",
                _("Lived in"),
                "choice",
                _occupied_q,
                [("yes", _("Lived in (yes)")), ("no", _("Nobody lives there"))],
            ),
        ]
    },
)

for _rs in (PERSON, HOUSEHOLD, DWELLING):
    register_rowset(_rs)
