"""Where PostgreSQL's CPU goes during a people import: server CPU per row, split by stage.

Runs `people_import` on a CSV roster (benchmarks/make_roster.py) into a fresh copy of a migrated
template database, reading the import's backend CPU (from /proc: the server must run on this
machine) around the writer's stages:

- copy: the COPY of each batch's rows (heap, WAL, index entries),
- fk: `SET CONSTRAINTS … IMMEDIATE`, where the batch's queued foreign-key checks run,
- match: `Writer._match` (the batch lookups: people by blind index, households, members),
- analyze: the in-transaction ANALYZE of the written tables (decision 0047),
- total: the whole import; the rest is the other statements (ids, places, audit, …).

Usage (the template is created and migrated when it does not exist; --fresh-template remakes it):
  .venv/bin/python benchmarks/import_server_cpu.py --pg postgres://postgres@127.0.0.1:5432/x_run \
      --template x_tmpl --file /tmp/roster-20000.csv [--rows 20000] [--explain]
Prints one JSON line. The database named in --pg is dropped and created from the template.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")


def _admin(url: str) -> Any:
    import psycopg

    base, _slash, _name = url.rpartition("/")
    return psycopg.connect(f"{base}/postgres", autocommit=True)


def _prepare(url: str, template: str, fresh_template: bool) -> None:
    base, _slash, name = url.rpartition("/")
    with _admin(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        if fresh_template or not exists:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}"')
            env = dict(os.environ, DATABASE_URL=f"{base}/{template}")
            linli = str(Path(sys.executable).parent / "linli")
            subprocess.run([linli, "migrate", "--verbosity", "0"], env=env, check=True)
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--fresh-template", action="store_true")
    parser.add_argument("--file", required=True)
    parser.add_argument("--rows", type=int, default=0, help="write the file with this many rows")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN _match's queries")
    parser.add_argument(
        "--no-analyze", action="store_true", help="without the in-transaction ANALYZE (0047)"
    )
    args = parser.parse_args()
    file = Path(args.file)
    if not file.exists():
        from benchmarks.make_roster import write_csv

        write_csv(file, args.rows, grids=20)
    _prepare(args.pg, args.template, args.fresh_template)
    os.environ["DATABASE_URL"] = args.pg

    from benchmarks.bench_import import _setup

    community = _setup()
    from django.db import connection

    from linli.intake import bulk, writer
    from linli.intake.services import people_import

    if args.no_analyze:
        bulk.ANALYZE_MIN_ROWS = 10**12
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (pid,) = cur.fetchone()
    stages = {"copy": 0.0, "fk": 0.0, "match": 0.0, "analyze": 0.0}
    match_wall: list[float] = []
    plans: list[str] = []

    def write(raw: Any, work: Any, constraints: str) -> None:
        # bulk._write, with the backend's CPU read around its two parts.
        with raw.cursor() as cur:
            c0 = _cpu(pid)
            for sql, rows in work:
                with cur.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            c1 = _cpu(pid)
            stages["copy"] += c1 - c0
            if constraints:
                cur.execute(f"SET CONSTRAINTS {constraints} IMMEDIATE")
                cur.execute(f"SET CONSTRAINTS {constraints} DEFERRED")
                stages["fk"] += _cpu(pid) - c1

    bulk._write = write
    match = writer.Writer._match

    marks: list[tuple[int, float, float, float]] = []  # rows read, server CPU, match CPU, s

    def timed_match(self: Any, items: Any) -> None:
        if 0 < self.counts["read"] % 100_000 <= self.batch_rows:
            marks.append((self.counts["read"], _cpu(pid), stages["match"], time.perf_counter()))
            print("mark", *marks[-1], flush=True, file=sys.stderr)  # progress, while it runs
        if args.explain and 0 < self.counts["read"] % 100_000 <= self.batch_rows:
            plans.append(_explain(items, self.counts["read"]))
        c0, t0 = _cpu(pid), time.perf_counter()
        match(self, items)
        stages["match"] += _cpu(pid) - c0
        match_wall.append(time.perf_counter() - t0)

    writer.Writer._match = timed_match  # type: ignore[method-assign]
    analyze = getattr(writer.Writer, "_analyze", None)
    if analyze is not None:

        def timed_analyze(self: Any) -> None:
            c0 = _cpu(pid)
            analyze(self)
            stages["analyze"] += _cpu(pid) - c0

        writer.Writer._analyze = timed_analyze  # type: ignore[attr-defined]

    c0, t0, p0 = _cpu(pid), time.perf_counter(), time.process_time()
    result = people_import(actor=None, path=file, area=community, source="bench")
    seconds, client = time.perf_counter() - t0, time.process_time() - p0
    total = _cpu(pid) - c0
    assert not result.failed, result.batch.failure
    rows = result.counts["read"]
    out = {
        "rows": rows,
        "counts": result.counts,
        "seconds": round(seconds, 2),
        "client_cpu_s": round(client, 2),
        "server_cpu_s": round(total, 2),
        "server_us_per_row": round(total / rows * 1e6, 1),
        **{f"{k}_us_per_row": round(v / rows * 1e6, 1) for k, v in stages.items()},
        "match_wall_s": round(sum(match_wall), 2),
        "load": os.getloadavg(),
    }
    # Per stretch of ~100,000 rows: server CPU per row, of it the lookups', and wall time.
    out["stretches"] = [
        {
            "rows": f"{a[0]}-{b[0]}",
            "server_us_per_row": round((b[1] - a[1]) / (b[0] - a[0]) * 1e6, 1),
            "match_us_per_row": round((b[2] - a[2]) / (b[0] - a[0]) * 1e6, 1),
            "seconds": round(b[3] - a[3], 1),
        }
        for a, b in itertools.pairwise(marks)
    ]
    for plan in plans:
        print(plan, file=sys.stderr)
    print(json.dumps(out))


def _explain(items: Any, read: int) -> str:
    """The plans of _match's three queries for this batch, as the import runs them."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    from linli.register.models import Household, HouseholdStatus, Person, PersonStatus

    bidxs = [i.bidx for i in items if i.bidx][:2000]
    dwellings = list({i.dwelling.pk for i in items})
    queries = [
        Person.objects.filter(id_bidx__in=bidxs).select_related("grid", "household__dwelling"),
        Household.objects.filter(dwelling_id__in=dwellings, status=HouseholdStatus.ACTIVE),
        Person.objects.filter(
            household_id__in=list(
                Household.objects.filter(dwelling_id__in=dwellings).values_list("pk", flat=True)
            ),
            status=PersonStatus.LIVING,
        ),
    ]
    out = [f"--- plans at {read} rows read"]
    with connection.cursor() as cur:
        for qs in queries:
            try:
                sql, params = qs.query.sql_with_params()
            except EmptyResultSet:
                continue
            cur.execute(f"EXPLAIN {sql}", params)
            out.extend(r[0] for r in cur.fetchall() if "->" in r[0] or "Scan" in r[0])
    return "\n".join(out)


if __name__ == "__main__":
    main()
