"""Emergency mode's rows for report templates: arrivals (来返人员登记表) and quarantines with
their check-ins (居家隔离健康监测表).

Rows are read through ``restrict(user, emergency.view)`` under the area, exactly like the
emergency pages; the register's rules for masked values apply (only masked ID and phone).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.emergency.models import (
    Arrival,
    ArrivalDecision,
    CheckIn,
    EventStatus,
    Quarantine,
    QuarantineKind,
    QuarantineStatus,
    RiskLevel,
    TravelMode,
)
from linli.reports.registry import (
    Aux,
    Column,
    Filter,
    Row,
    RowSet,
    choice_label,
    register_rowset,
    register_template,
    under_area,
)


def _date_q(path: str, cmp: str) -> Any:
    return lambda v: Q(**{f"{path}__{cmp}": dt.date.fromisoformat(str(v))})


# --- arrivals ------------------------------------------------------------------------------


def _arrival_base(user: Any, area: Any) -> QuerySet[Arrival]:
    qs = (
        Arrival.objects.all()
        if user is None
        else Arrival.objects.restrict(user, Perm.VIEW_EMERGENCY)
    )
    return under_area(qs, area)


def _arrival_measures(qs: QuerySet[Any]) -> dict[Any, Any]:
    """arrival id -> the kinds of the measures started from it."""
    out: dict[int, list[str]] = {}
    rows = (
        Quarantine.objects.filter(arrival_id__in=qs.values("id"))
        .order_by("arrival_id", "starts_on", "id")
        .values_list("arrival_id", "kind")
    )
    labels = {k: str(v) for k, v in QuarantineKind.choices}
    for aid, kind in rows.iterator(chunk_size=5000):
        out.setdefault(aid, []).append(labels.get(kind, kind))
    return out


def _measure_taken(r: Row, a: Aux) -> str:
    kinds = a["measures"].get(r["id"])
    if kinds:
        return "、".join(kinds)
    return choice_label(ArrivalDecision, r["decision"], a)


ARRIVAL = RowSet(
    key="emergency.arrival",
    label=_("Arrivals (emergency)"),
    unit=_("arrivals"),
    capability="emergency",
    perm=Perm.VIEW_EMERGENCY,
    base=_arrival_base,
    default_order=("grid__path", "arrived_on", "id"),
    aux={"measures": _arrival_measures},
    columns={
        c.key: c
        for c in [
            Column("name", _("Arrival's name"), ("name",), order="name", width=10),
            Column("national_id", _("Arrival's national ID"), ("id_masked",), width=21),
            Column("phone", _("Arrival's phone"), ("phone_masked",), width=14),
            Column(
                "coming_from",
                _("Coming from"),
                ("risk_area__name", "from_text"),
                lambda r, a: r["risk_area__name"] or r["from_text"],
                order="from_text",
                width=16,
            ),
            Column(
                "risk_level",
                _("Risk level of the place"),
                ("risk_area__level",),
                lambda r, a: choice_label(RiskLevel, r["risk_area__level"], a),
                width=10,
            ),
            Column("arrived_on", _("Arrived on"), ("arrived_on",), kind="date", order="arrived_on"),
            Column(
                "travel_mode",
                _("Travel mode"),
                ("travel_mode",),
                lambda r, a: choice_label(TravelMode, r["travel_mode"], a),
                order="travel_mode",
                width=8,
            ),
            Column(
                "staying_at",
                _("Staying at"),
                ("address", "dwelling__address"),
                lambda r, a: r["address"] or r["dwelling__address"] or "",
                width=28,
            ),
            Column(
                "measure",
                _("Measure taken"),
                ("id", "decision"),
                _measure_taken,
                aux=("measures",),
                width=14,
            ),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
            Column("event", _("Emergency event"), ("event__name",), order="event_id", width=14),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter(
                "decision",
                _("Decision on the arrival"),
                "multi",
                lambda v: Q(decision__in=v),
                ArrivalDecision.choices,
            ),
            Filter(
                "event_active",
                _("Event under way"),
                "choice",
                lambda v: (
                    Q(event__status=EventStatus.ACTIVE)
                    if v == "yes"
                    else ~Q(event__status=EventStatus.ACTIVE)
                ),
                [("yes", _("Under way")), ("no", _("Ended"))],
            ),
            Filter("arrived_from", _("Arrived on or after"), "date", _date_q("arrived_on", "gte")),
            Filter("arrived_to", _("Arrived on or before"), "date", _date_q("arrived_on", "lte")),
        ]
    },
)


# --- quarantines ---------------------------------------------------------------------------


def _quarantine_base(user: Any, area: Any) -> QuerySet[Quarantine]:
    qs = (
        Quarantine.objects.all()
        if user is None
        else Quarantine.objects.restrict(user, Perm.VIEW_EMERGENCY)
    )
    return under_area(qs, area)


def _check_ins(qs: QuerySet[Any]) -> dict[Any, Any]:
    """quarantine id -> (days checked in, last day, temperature on the last check-in)."""
    counts = dict(
        CheckIn.objects.filter(quarantine_id__in=qs.values("id"))
        .values("quarantine_id")
        .annotate(n=Count("day", distinct=True))
        .values_list("quarantine_id", "n")
    )
    out: dict[int, tuple[int, Any, Any]] = {}
    last_rows = (
        CheckIn.objects.filter(quarantine_id__in=qs.values("id"))
        .order_by("quarantine_id", "-day", "-at", "-id")
        .values_list("quarantine_id", "day", "temperature")
    )
    for qid, day, temp in last_rows.iterator(chunk_size=5000):
        if qid not in out:
            out[qid] = (counts.get(qid, 0), day, temp)
    return out


def _ci(index: int) -> Any:
    return lambda r, a: (a["check_ins"].get(r["id"]) or (0, "", ""))[index]


QUARANTINE = RowSet(
    key="emergency.quarantine",
    label=_("Quarantine and health monitoring (emergency)"),
    unit=_("persons under a measure"),
    capability="emergency",
    perm=Perm.VIEW_EMERGENCY,
    base=_quarantine_base,
    default_order=("grid__path", "starts_on", "id"),
    aux={"check_ins": _check_ins},
    columns={
        c.key: c
        for c in [
            Column("name", _("Name of the person under a measure"), ("name",), order="name"),
            Column("phone", _("Contact phone (masked)"), ("phone_masked",), width=14),
            Column(
                "kind",
                _("Kind of measure"),
                ("kind",),
                lambda r, a: choice_label(QuarantineKind, r["kind"], a),
                order="kind",
                width=12,
            ),
            Column("address", _("Place of the measure"), ("address",), width=28),
            Column(
                "starts_on", _("Measure starts on"), ("starts_on",), kind="date", order="starts_on"
            ),
            Column(
                "planned_end",
                _("Planned end of the measure"),
                ("planned_end",),
                kind="date",
                order="planned_end",
            ),
            Column(
                "status",
                _("State of the measure"),
                ("status",),
                lambda r, a: choice_label(QuarantineStatus, r["status"], a),
                order="status",
                width=10,
            ),
            Column(
                "last_day",
                _("Last check-in day"),
                ("id",),
                _ci(1),
                aux=("check_ins",),
                kind="date",
            ),
            Column(
                "last_temperature",
                _("Last temperature (°C)"),
                ("id",),
                _ci(2),
                aux=("check_ins",),
                kind="decimal",
                width=8,
            ),
            Column(
                "days_checked_in",
                _("Days checked in"),
                ("id",),
                _ci(0),
                aux=("check_ins",),
                kind="int",
                width=8,
            ),
            Column(
                "responsible",
                _("Responsible worker"),
                ("responsible__display_name", "responsible__username"),
                lambda r, a: r["responsible__display_name"] or r["responsible__username"] or "",
                width=10,
            ),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter(
                "status",
                _("State of the measure"),
                "multi",
                lambda v: Q(status__in=v),
                QuarantineStatus.choices,
            ),
            Filter(
                "kind",
                _("Kind of measure"),
                "multi",
                lambda v: Q(kind__in=v),
                QuarantineKind.choices,
            ),
        ]
    },
)

for _rs in (ARRIVAL, QUARANTINE):
    register_rowset(_rs)


# --- library templates ---------------------------------------------------------------------

_INFO = ["填报单位：{area}", "填报人：", "联系电话：", "填报日期：{date}"]
_FOOTER = ["负责人（签字）：", "审核人：", "填报人："]


def _col(source: str, label: str, group: str = "", width: int | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"source": source, "label": label}
    if group:
        c["group"] = group
    if width:
        c["width"] = width
    return c


register_template(
    "arrivals-register",
    {
        "kind": "ledger",
        "rowset": "emergency.arrival",
        "header": {
            "title": "{community}来返人员登记表",
            "department": "疫情防控指挥部",
            "info": _INFO,
            "footer": _FOOTER,
        },
        "columns": [
            _col("seq", "序号"),
            _col("name", "姓名", "人员信息"),
            _col("national_id", "公民身份号码", "人员信息"),
            _col("phone", "联系电话", "人员信息"),
            _col("coming_from", "来自何地", "行程信息"),
            _col("arrived_on", "抵达日期", "行程信息"),
            _col("travel_mode", "交通方式", "行程信息"),
            _col("staying_at", "现居住地址"),
            _col("measure", "采取措施"),
            _col("grid", "所属网格"),
            _col("manual", "备注", width=12),
        ],
        "group_by": "grid",
        "subtotals": True,
    },
)

register_template(
    "home-quarantine-monitoring",
    {
        "kind": "ledger",
        "rowset": "emergency.quarantine",
        "header": {
            "title": "{community}居家隔离人员健康监测表",
            "department": "疫情防控指挥部 / 卫生健康部门",
            "info": _INFO,
            "footer": _FOOTER,
        },
        "filters": {"status": ["active"], "kind": ["home", "home_monitoring"]},
        "columns": [
            _col("seq", "序号"),
            _col("name", "姓名"),
            _col("phone", "联系电话"),
            _col("kind", "管控措施"),
            _col("address", "隔离地址"),
            _col("starts_on", "开始日期", "隔离期限"),
            _col("planned_end", "预计解除日期", "隔离期限"),
            _col("status", "状态"),
            _col("last_day", "最近打卡日期", "健康监测"),
            _col("last_temperature", "最近体温（℃）", "健康监测"),
            _col("days_checked_in", "已打卡天数", "健康监测"),
            _col("responsible", "责任人"),
            _col("grid", "所属网格"),
        ],
        "group_by": "grid",
        "subtotals": True,
    },
)
