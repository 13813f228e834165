"""Supplies' rows for report templates: shopping lists and their delivery (物资代购配送台账).

Rows are read through ``restrict(user, supplies.view)`` under the area, like the board; the
household's phone is never a column (the order keeps it sealed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.orders.models import Status
from linli.reports.registry import (
    Column,
    Filter,
    RowSet,
    choice_label,
    register_rowset,
    under_area,
)
from linli.supplies.models import SupplyItem, SupplyRequest


def _base(user: Any, area: Any) -> QuerySet[SupplyRequest]:
    qs = (
        SupplyRequest.objects.all()
        if user is None
        else SupplyRequest.objects.restrict(user, Perm.VIEW_SUPPLIES)
    )
    return under_area(qs, area)


def _items(qs: QuerySet[Any]) -> dict[Any, Any]:
    """request id -> "大米 1袋、鸡蛋 10个"."""
    out: dict[int, list[str]] = {}
    rows = (
        SupplyItem.objects.filter(request_id__in=qs.values("id"))
        .order_by("request_id", "id")
        .values_list("request_id", "name", "quantity", "unit")
    )
    for rid, name, qty, unit in rows.iterator(chunk_size=5000):
        out.setdefault(rid, []).append(f"{name} {qty}{unit}")
    return {k: "、".join(v) for k, v in out.items()}


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _at(path: str) -> Any:
    return lambda r, a: _local(r[path])


SUPPLY_REQUEST = RowSet(
    key="supplies.request",
    label=_("Shopping lists of closed households"),
    unit=_("lists"),
    capability="supplies",
    perm=Perm.VIEW_SUPPLIES,
    base=_base,
    default_order=("grid__path", "created_at", "id"),
    aux={"items": _items},
    columns={
        c.key: c
        for c in [
            Column("household", _("Household"), ("quarantine__name",), width=10),
            Column(
                "address",
                _("Where to leave it"),
                ("quarantine__address", "delivery_note"),
                lambda r, a: " · ".join(
                    x for x in (r["quarantine__address"], r["delivery_note"]) if x
                ),
                width=28,
            ),
            Column(
                "items",
                _("Items"),
                ("id",),
                lambda r, a: a["items"].get(r["id"], ""),
                aux=("items",),
                width=30,
            ),
            Column("order", _("Work order"), ("order__number",), order="order__number", width=18),
            Column(
                "status",
                _("Status"),
                ("order__status",),
                lambda r, a: choice_label(Status, r["order__status"], a),
                width=12,
            ),
            Column(
                "taken_by",
                _("Taken by"),
                ("order__assignee__display_name", "order__assignee__username"),
                lambda r, a: (
                    r["order__assignee__display_name"] or r["order__assignee__username"] or ""
                ),
                width=12,
            ),
            Column(
                "posted_at",
                _("Posted"),
                ("created_at",),
                _at("created_at"),
                order="created_at",
                width=16,
            ),
            Column(
                "delivered_at",
                _("Delivered to the door"),
                ("order__done_at",),
                _at("order__done_at"),
                width=16,
            ),
            Column(
                "received_at",
                _("Receipt confirmed"),
                ("received_at",),
                _at("received_at"),
                width=16,
            ),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter(
                "received",
                _("Receipt confirmed"),
                "choice",
                lambda v: Q(received_at__isnull=v != "yes"),
                [("yes", _("Receipt confirmed")), ("no", _("Not confirmed yet"))],
            ),
        ]
    },
)
register_rowset(SUPPLY_REQUEST)
