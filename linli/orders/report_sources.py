"""Work orders' rows for report templates: the order ledger and the statistics table
工单办理情况统计表 (by child area and by category).

Rows are read through ``restrict(user, orders.view)`` under the area, like the staff boards.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.orders.models import Level, Source, Status, WorkOrder
from linli.orders.workflow import OPEN_STATES
from linli.reports.registry import (
    Column,
    Filter,
    Measure,
    RowSet,
    choice_label,
    register_rowset,
    register_template,
    under_area,
)


def _base(user: Any, area: Any) -> QuerySet[WorkOrder]:
    qs = (
        WorkOrder.objects.all()
        if user is None
        else WorkOrder.objects.restrict(user, Perm.VIEW_ORDERS)
    )
    return under_area(qs, area)


def _local_date(value: dt.datetime | None) -> dt.date | str:
    return timezone.localdate(value) if value else ""


def _hours_to_done(values: tuple[Any, ...]) -> float | None:
    submitted, done = values
    if submitted is None or done is None:
        return None
    return (done - submitted).total_seconds() / 3600


def _yes_no(yes: Q) -> Any:
    return lambda v: yes if v == "yes" else ~yes


def _overdue_q(v: Any) -> Q:
    # Evaluated when the template renders: open and past its time limit now.
    late = Q(status__in=list(OPEN_STATES), due_at__lt=timezone.now())
    return late if v == "yes" else ~late


_YES_NO = [("yes", _("Yes")), ("no", _("No"))]

ORDER = RowSet(
    key="orders.order",
    label=_("Work orders"),
    unit=_("orders"),
    capability="orders",
    perm=Perm.VIEW_ORDERS,
    base=_base,
    default_order=("grid__path", "submitted_at", "id"),
    measures={
        m.key: m
        for m in [
            Measure("rating", _("Rating (stars)"), "rating_stars"),
            Measure(
                "hours_to_done",
                _("Hours from submission to done"),
                fields=("submitted_at", "done_at"),
                value=_hours_to_done,
            ),
        ]
    },
    columns={
        c.key: c
        for c in [
            Column("number", _("Order number"), ("number",), order="number", width=16),
            Column("title", _("Title"), ("title",), width=24),
            Column(
                "category",
                _("Category"),
                ("category__name",),
                order="category__sort_key",
                width=12,
            ),
            Column(
                "status",
                _("Order status"),
                ("status",),
                lambda r, a: choice_label(Status, r["status"], a),
                order="status",
                width=12,
            ),
            Column(
                "level",
                _("Level"),
                ("level",),
                lambda r, a: choice_label(Level, r["level"], a),
                order="level",
                width=8,
            ),
            Column(
                "source",
                _("Source"),
                ("source",),
                lambda r, a: choice_label(Source, r["source"], a),
                order="source",
                width=10,
            ),
            Column(
                "submitted_on",
                _("Submitted on"),
                ("submitted_at",),
                lambda r, a: _local_date(r["submitted_at"]),
                kind="date",
                order="submitted_at",
            ),
            Column(
                "done_on",
                _("Done on"),
                ("done_at",),
                lambda r, a: _local_date(r["done_at"]),
                kind="date",
                order="done_at",
            ),
            Column(
                "rating",
                _("Rating (stars)"),
                ("rating_stars",),
                kind="int",
                order="rating_stars",
                width=6,
            ),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter("status", _("Order status"), "multi", lambda v: Q(status__in=v), Status.choices),
            Filter("done", _("Done already"), "choice", _yes_no(Q(done_at__isnull=False)), _YES_NO),
            Filter(
                "open", _("Still open"), "choice", _yes_no(Q(status__in=list(OPEN_STATES))), _YES_NO
            ),
            Filter("overdue", _("Overdue now"), "choice", _overdue_q, _YES_NO),
            Filter("rated", _("Rated"), "choice", _yes_no(Q(rating_stars__isnull=False)), _YES_NO),
            Filter(
                "submitted_from",
                _("Submitted on or after"),
                "date",
                lambda v: Q(submitted_at__date__gte=dt.date.fromisoformat(str(v))),
            ),
            Filter(
                "submitted_to",
                _("Submitted on or before"),
                "date",
                lambda v: Q(submitted_at__date__lte=dt.date.fromisoformat(str(v))),
            ),
        ]
    },
)

register_rowset(ORDER)


_INFO = ["填报单位：{area}", "填报人：", "联系电话：", "填报日期：{date}"]
_FOOTER = ["负责人（签字）：", "审核人：", "填报人："]
_MEASURES: list[dict[str, Any]] = [
    {"key": "submitted", "label": "受理总数"},
    {"key": "done", "label": "已办结", "where": {"done": "yes"}, "group": "办理情况"},
    {"key": "open", "label": "办理中", "where": {"open": "yes"}, "group": "办理情况"},
    {"key": "overdue", "label": "超期未办结", "where": {"overdue": "yes"}, "group": "办理情况"},
    {
        "key": "cancelled",
        "label": "已撤销",
        "where": {"status": ["cancelled"]},
        "group": "办理情况",
    },
    {"key": "rated", "label": "已评价", "where": {"rated": "yes"}, "group": "群众评价"},
    {
        "key": "avg_rating",
        "label": "平均评分（星）",
        "agg": "avg",
        "measure": "rating",
        "group": "群众评价",
    },
    {
        "key": "median_hours",
        "label": "办结时长中位数（小时）",
        "agg": "median",
        "measure": "hours_to_done",
        "width": 12,
    },
]


def _statistics(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "statistics",
        "rowset": "orders.order",
        "header": {
            "title": title,
            "info": _INFO,
            "unit": "单位：件",
            "footer": _FOOTER,
            "department": "街道办事处（12345热线办）",
        },
        "measures": _MEASURES,
        **extra,
    }


register_template(
    "work-order-statistics",
    _statistics("{area}工单办理情况统计表", dimension="child_area", dimension_label="辖区（网格）"),
)
register_template(
    "work-order-by-category",
    _statistics(
        "{area}工单办理情况分类统计表",
        dimension="field",
        dimension_field="category",
        dimension_label="工单类别",
    ),
)
