"""Tests and vaccinations for report templates: the people of the latest test round covering
them (核酸检测轮次统计表) and the people with their vaccination doses (疫苗接种情况统计表).

Rows are living persons read through ``restrict(user, health.view)`` under the area, so the
forms keep the pages' scoping; only masked ID and phone are offered as columns.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.health.models import TestRecord, TestResult, TestRound, Vaccination
from linli.health.selectors import _years_before, doses_subquery
from linli.register.models import Person, PersonStatus
from linli.reports.registry import (
    Column,
    Filter,
    RowSet,
    register_rowset,
    register_template,
    under_area,
)


def _persons(user: Any, area: Any) -> QuerySet[Person]:
    qs = Person.objects.all() if user is None else Person.objects.restrict(user, Perm.VIEW_HEALTH)
    return under_area(qs.filter(status=PersonStatus.LIVING), area)


def _latest_round(area: Any) -> Any:
    """The latest round whose area covers the person's grid (the round they are due in).

    Worked out once per query for every area under *area* (a few hundred grids, a handful of
    rounds) and given to the database as a CASE on the grid id: a statistics table refers to
    the round in every measure's condition, and a correlated subquery there ran once per
    person and measure."""
    rounds = list(TestRound.objects.order_by("-date", "-id").values_list("pk", "area__path"))
    by_round: dict[int, list[int]] = {}
    for grid_id, path in Area.objects.filter(path__startswith=area.path).values_list("id", "path"):
        latest = next((pk for pk, round_path in rounds if path.startswith(round_path)), None)
        if latest is not None:
            by_round.setdefault(latest, []).append(grid_id)
    if not by_round:
        return Value(None, output_field=IntegerField())
    return Case(
        *(When(grid_id__in=ids, then=Value(pk)) for pk, ids in by_round.items()),
        default=Value(None),
        output_field=IntegerField(),
    )


def _round_base(user: Any, area: Any) -> QuerySet[Person]:
    return _persons(user, area).annotate(_round=_latest_round(area)).filter(_round__isnull=False)


def _record(**kw: Any) -> Exists:
    return Exists(TestRecord.objects.filter(person=OuterRef("pk"), round=OuterRef("_round"), **kw))


def _state_q(values: list[str]) -> Q:
    q = Q(pk__in=[])
    for v in values:
        if v == "sampled":
            q |= Q(_record())
        elif v == "missing":
            q |= ~Q(_record())
        elif v in TestResult.values:
            q |= Q(_record(result=v))
    return q


_STATES = [
    ("sampled", _("Sampled")),
    ("negative", _("Negative")),
    ("positive", _("Positive")),
    ("pending", _("Result pending")),
    ("missing", _("Not tested")),
]


def _age_filters() -> list[Filter]:
    return [
        Filter(
            "age_min",
            _("Age at least"),
            "int",
            lambda v: Q(birth_date__lte=_years_before(timezone.localdate(), int(v))),
        ),
        Filter(
            "age_max",
            _("Age at most"),
            "int",
            lambda v: Q(birth_date__gt=_years_before(timezone.localdate(), int(v) + 1)),
        ),
    ]


def _person_columns() -> list[Column]:
    return [
        Column("name", _("Name"), ("name",), order="name", width=10),
        Column("national_id", _("National ID (masked)"), ("id_masked",), width=21),
        Column("phone", _("Phone (masked)"), ("phone_masked",), width=14),
        Column(
            "address",
            _("Address"),
            ("household__dwelling__address",),
            width=28,
            value=lambda r, a: r["household__dwelling__address"] or "",
        ),
        Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
    ]


ROUND_PERSON = RowSet(
    key="health.round_person",
    label=_("People of the latest test round (health)"),
    unit=_("persons"),
    capability="health",
    perm=Perm.VIEW_HEALTH,
    base=_round_base,
    default_order=("grid__path", "name", "id"),
    columns={c.key: c for c in _person_columns()},
    filters={
        f.key: f
        for f in [
            Filter("state", _("State in the round"), "multi", _state_q, _STATES),
            *_age_filters(),
        ]
    },
)


def _vaccination_base(user: Any, area: Any) -> QuerySet[Person]:
    return _persons(user, area).annotate(_doses=Coalesce(doses_subquery(), 0))


def _doses_at_least(value: Any) -> Q:
    """Persons whose highest dose is at least *value* (``_doses >= value``), written as
    membership in the persons with such a dose: an uncorrelated subquery PostgreSQL hashes
    once, where a condition on ``_doses`` re-ran the per-person subquery in every measure of
    a statistics table."""
    n = int(value)
    if n <= 0:
        return Q()
    return Q(pk__in=Vaccination.objects.filter(dose__gte=n).values("person_id"))


def _doses_at_most(value: Any) -> Q:
    """Persons whose highest dose is at most *value* (``_doses <= value``; no dose is 0)."""
    n = int(value)
    if n < 0:
        return Q(pk__in=[])
    return ~Q(pk__in=Vaccination.objects.filter(dose__gt=n).values("person_id"))


VACCINATION_PERSON = RowSet(
    key="health.vaccination_person",
    label=_("People and their vaccination doses (health)"),
    unit=_("persons"),
    capability="health",
    perm=Perm.VIEW_HEALTH,
    base=_vaccination_base,
    default_order=("grid__path", "name", "id"),
    columns={
        c.key: c
        for c in [
            *_person_columns(),
            Column("doses", _("Doses received"), ("_doses",), kind="int", width=8),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter("doses_min", _("Doses at least"), "int", _doses_at_least),
            Filter("doses_max", _("Doses at most"), "int", _doses_at_most),
            *_age_filters(),
        ]
    },
)

for _rs in (ROUND_PERSON, VACCINATION_PERSON):
    register_rowset(_rs)


# --- library templates ---------------------------------------------------------------------

_INFO = ["填报单位：{area}", "填报人：", "联系电话：", "填报日期：{date}"]
_FOOTER = ["负责人（签字）：", "审核人：", "填报人："]

register_template(
    "test-round-statistics",
    {
        "kind": "statistics",
        "rowset": "health.round_person",
        "header": {
            "title": "{area}核酸检测轮次统计表",
            "subtitle": "按最近一轮覆盖本辖区的核酸检测统计",
            "department": "疫情防控指挥部 / 卫生健康部门",
            "info": _INFO,
            "unit": "单位：人",
            "footer": _FOOTER,
        },
        "dimension": "child_area",
        "dimension_label": "辖区",
        "measures": [
            {"key": "people", "label": "应检人数"},
            {"key": "sampled", "label": "已采样", "where": {"state": ["sampled"]}},
            {
                "key": "negative",
                "label": "阴性",
                "where": {"state": ["negative"]},
                "group": "检测结果",
            },
            {
                "key": "positive",
                "label": "阳性",
                "where": {"state": ["positive"]},
                "group": "检测结果",
            },
            {
                "key": "pending",
                "label": "待出结果",
                "where": {"state": ["pending"]},
                "group": "检测结果",
            },
            {"key": "missing", "label": "未检人数", "where": {"state": ["missing"]}},
        ],
    },
)


def _band(key: str, label: str, where: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": f"{key}_people", "label": "人数", "where": where, "group": label},
        {
            "key": f"{key}_d1",
            "label": "接种≥1剂",
            "where": {**where, "doses_min": 1},
            "group": label,
        },
        {
            "key": f"{key}_d2",
            "label": "接种≥2剂",
            "where": {**where, "doses_min": 2},
            "group": label,
        },
        {"key": f"{key}_b", "label": "加强针", "where": {**where, "doses_min": 3}, "group": label},
    ]


register_template(
    "vaccination-coverage-statistics",
    {
        "kind": "statistics",
        "rowset": "health.vaccination_person",
        "header": {
            "title": "{area}新冠疫苗接种情况统计表",
            "department": "卫生健康部门",
            "info": _INFO,
            "unit": "单位：人",
            "footer": _FOOTER,
        },
        "orientation": "landscape",
        "dimension": "child_area",
        "dimension_label": "辖区",
        "measures": [
            *_band("all", "全部人口", {}),
            {"key": "none", "label": "未接种", "where": {"doses_max": 0}, "group": "全部人口"},
            *_band("minor", "0–17岁", {"age_max": 17}),
            *_band("adult", "18–59岁", {"age_min": 18, "age_max": 59}),
            *_band("elder", "60岁及以上", {"age_min": 60}),
        ],
    },
)
