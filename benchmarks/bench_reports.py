"""All shipped report templates for a large jurisdiction, against xlsxwriter alone.

For each template the benchmark makes the .xlsx exactly as a render does (scoped query, derived
values, masking, header block, merged cells, formats; ``engine.build_table`` +
``renderers.render_xlsx``), acting as the district administrator for the whole district. The
peer is xlsxwriter alone (constant_memory) writing the same cells, taken from the same table,
in the same run: the ratio says what the register, the scoping and the layout add on top of
writing the spreadsheet at all. Target: total ratio at most 1.5. A second, leaner peer writes
the same cells through the undecorated xlsxwriter writers the renderer itself uses
(``lean_ratio``), so the figure does not rest on the peer paying for the public API.

Peak memory: the process's peak RSS after all renders, and the Python heap peak
(tracemalloc, in a separate untimed pass) of the largest ledger.

Every repeat renders every template once, ours then the peer's, so a repeat's totals are
measured in the same conditions; the summary gives the total ratio of each repeat (their
median and spread) besides the ratio of the per-template medians. A template that renders no
data row is named in ``empty``.

Usage (every template gets rows: the demo's orders and volunteer service in one community,
and an emergency drill over the district from ``seed_report_records.py``):
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/linli seed_demo --people 100000
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/linli seed_orders_demo
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/linli seed_volunteers
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/python benchmarks/seed_report_records.py
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/linli seed_health_demo
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/linli report load-library
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/python benchmarks/bench_reports.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

import django

django.setup()

import xlsxwriter  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import translation  # noqa: E402

from linli.accounts.models import User  # noqa: E402
from linli.areas.models import Area, AreaKind  # noqa: E402
from linli.register.models import Person  # noqa: E402
from linli.reports import engine, renderers  # noqa: E402
from linli.reports.models import ReportTemplate  # noqa: E402
from linli.reports.spec import spec_validate  # noqa: E402


def render_once(spec: Any, user: Any, area: Area, path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    table = engine.build_table(spec, user=user, area=area)
    renderers.render_xlsx(table, path)
    return time.perf_counter() - t0, table.total


def cells_of(spec: Any, user: Any, area: Area) -> list[list[Any]]:
    table = engine.build_table(spec, user=user, area=area)
    head = [[c.label for c in table.columns]]
    return head + [cells for _kind, cells in table.rows]


def peer_once(rows: list[list[Any]], path: Path) -> float:
    """xlsxwriter alone: the same cells, strings as strings, numbers as numbers."""
    t0 = time.perf_counter()
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet()
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, cells in enumerate(rows):
        for c, v in enumerate(cells):
            if isinstance(v, int | float):
                ws.write_number(r, c, v)
            elif v is None or v == "":
                continue
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date_format)
            else:
                ws.write_string(r, c, str(v))
    wb.close()
    return time.perf_counter() - t0


_EPOCH = dt.date(1899, 12, 30)


def lean_peer_once(rows: list[list[Any]], path: Path) -> float:
    """The leanest xlsxwriter: the same cells through the undecorated writers our renderer
    uses (no A1-notation wrapper, dates as their Excel serial numbers). A second peer, so the
    ratio does not depend on how much of xlsxwriter's public API the peer pays for."""
    t0 = time.perf_counter()
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet()
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    w_num, w_str = ws._write_number, ws._write_string
    for r, cells in enumerate(rows):
        for c, v in enumerate(cells):
            if isinstance(v, int | float):
                w_num(r, c, v, None)
            elif v is None or v == "":
                continue
            elif isinstance(v, dt.date):
                w_num(r, c, (v - _EPOCH).days, date_format)
            else:
                w_str(r, c, str(v), None)
    wb.close()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--out", default="benchmarks/results/reports.json")
    args = parser.parse_args()
    user = User.objects.get(username=args.user)
    area = Area.objects.filter(kind=AreaKind.DISTRICT).order_by("code").first()
    assert area is not None
    persons = Person.objects.filter(grid__path__startswith=area.path).count()
    templates = list(ReportTemplate.objects.filter(owner_area__isnull=True).order_by("code"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    results = []
    with translation.override("zh-hans"):
        specs = {t.code: spec_validate(t.current().spec) for t in templates}
        cells = {code: cells_of(spec, user, area) for code, spec in specs.items()}
        ours: dict[str, list[float]] = {code: [] for code in specs}
        peers: dict[str, list[float]] = {code: [] for code in specs}
        leans: dict[str, list[float]] = {code: [] for code in specs}
        rows: dict[str, int] = {}
        for _ in range(args.repeat):
            for code, spec in specs.items():
                secs, rows[code] = render_once(spec, user, area, tmp / f"{code}.xlsx")
                ours[code].append(secs)
                peers[code].append(peer_once(cells[code], tmp / f"{code}-peer.xlsx"))
                leans[code].append(lean_peer_once(cells[code], tmp / f"{code}-lean.xlsx"))
        for code in specs:
            row = {
                "template": code,
                "rows": rows[code],
                "cells": sum(len(r) for r in cells[code]),
                "render_s": round(statistics.median(ours[code]), 3),
                "xlsxwriter_s": round(statistics.median(peers[code]), 3),
                "lean_s": round(statistics.median(leans[code]), 3),
                "render_runs": [round(x, 3) for x in ours[code]],
                "xlsxwriter_runs": [round(x, 3) for x in peers[code]],
            }
            row["ratio"] = (
                round(row["render_s"] / row["xlsxwriter_s"], 2) if row["xlsxwriter_s"] else 0
            )
            results.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
        total = sum(r["render_s"] for r in results)
        peer = sum(r["xlsxwriter_s"] for r in results)
        lean = sum(r["lean_s"] for r in results)
        repeat_ratios = [
            sum(ours[c][i] for c in specs) / sum(peers[c][i] for c in specs)
            for i in range(args.repeat)
        ]
        lean_ratios = [
            sum(ours[c][i] for c in specs) / sum(leans[c][i] for c in specs)
            for i in range(args.repeat)
        ]
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        largest = max(
            templates, key=lambda t: next(r["rows"] for r in results if r["template"] == t.code)
        )
        tracemalloc.start()
        render_once(spec_validate(largest.current().spec), user, area, tmp / "traced.xlsx")
        heap_mb = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    summary = {
        "engine": connection.vendor,
        "persons": persons,
        "area": area.name,
        "user": args.user,
        "total_render_s": round(total, 2),
        "total_xlsxwriter_s": round(peer, 2),
        "ratio": round(total / peer, 2) if peer else 0,
        "repeats": args.repeat,
        "repeat_ratios": [round(r, 2) for r in repeat_ratios],
        "repeat_ratio_median": round(statistics.median(repeat_ratios), 2),
        "total_lean_s": round(lean, 2),
        "lean_ratio": round(total / lean, 2) if lean else 0,
        "lean_repeat_ratios": [round(r, 2) for r in lean_ratios],
        "empty": [r["template"] for r in results if r["rows"] == 0],
        "peak_rss_mb": round(rss_mb),
        "largest": largest.code,
        "largest_heap_peak_mb": round(heap_mb, 1),
        "templates": results,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "templates"}, ensure_ascii=False))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
