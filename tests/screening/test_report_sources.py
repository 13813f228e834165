"""Screening as a report source: the progress ledger renders exact values, scoped."""

from __future__ import annotations

import pytest

from linli.screening import services as scr
from tests.factories import World, make_world
from tests.screening.factories import campaign_for_list, matched_list
from tests.supplies.test_report_sources import ledger

pytestmark = pytest.mark.django_db


def test_screening_progressledger() -> None:
    w: World = make_world()
    wl = matched_list(w.community, [w.a.householder, w.b.member], unfound=0)
    c = campaign_for_list(w, wl, name="协查进度")
    t = c.targets.get(person=w.a.householder)
    scr.target_record(actor=w.a.worker, target=t, outcome="reached")
    rows = ledger(
        "screening-ledger",
        "screening.target",
        ["campaign", "name", "status", "attempts", "grid"],
        w.a.worker,
        w.a.grid,
    )
    assert ["协查进度", w.a.householder.name, "已联系", "1", w.a.grid.name] in rows
    assert w.b.member.name not in "\n".join(",".join(r) for r in rows)
