"""Supplies as a report source: a ledger template over the shopping lists renders exact
values, and a grid worker's render holds nothing of the sibling grid."""

from __future__ import annotations

from typing import Any

import pytest

from linli.orders import services as orders
from linli.reports import services as rep
from tests.factories import World, make_world
from tests.orders.factories import volunteer
from tests.reports.conftest import csv_rows
from tests.supplies.factories import posted, quarantined, supplies_event

pytestmark = pytest.mark.django_db


def ledger(code: str, rowset: str, columns: list[str], user: Any, area: Any) -> list[list[str]]:
    spec = {
        "kind": "ledger",
        "rowset": rowset,
        "header": {"title": code},
        "columns": [{"source": c, "label": c} for c in columns],
    }
    template = rep.template_create(actor=None, code=code, spec=spec, owner_area=area)
    made = rep.render_request(actor=user, template=template, area=area, fmt="csv", enqueue=False)
    done = rep.render_run(render_id=made.pk)
    with open(done.file_path, encoding="utf-8-sig") as fh:
        return csv_rows(fh.read())


def test_supply_deliveriesledger(settings: Any, tmp_path: Any) -> None:
    w: World = make_world()
    event = supplies_event([w.community])
    mine = posted(quarantined(event, w.a.householder), "大米 1 袋\n鸡蛋 10 个")
    posted(quarantined(event, w.b.householder), "面条 2 包")
    vol = volunteer(w.a.grid, "vol-r")
    orders.order_take(actor=vol, order=mine.order)
    orders.order_start(actor=vol, order=mine.order)
    orders.order_finish(actor=vol, order=mine.order, note="送到")
    rows = ledger(
        "supply-ledger",
        "supplies.request",
        ["household", "items", "order", "status", "taken_by", "grid"],
        w.a.worker,
        w.a.grid,
    )
    body = [r for r in rows if mine.order.number in r]
    assert body == [
        [
            w.a.householder.name,
            "大米 1袋、鸡蛋 10个",
            mine.order.number,
            "已办结，待评价",
            vol.label,
            w.a.grid.name,
        ]
    ]
    text = "\n".join(",".join(r) for r in rows)
    assert w.b.householder.name not in text and "面条" not in text
