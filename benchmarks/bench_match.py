"""Matching a received list against the register on exact national ID, with its peer.

The list is the register's own IDs (unsealed once, untimed, into a CSV under the var dir) in
a shuffled order, plus ``--strangers`` rows of IDs that are not in the register. Each case runs
in its own subprocess so its peak memory (ru_maxrss) is its own:

- ``core``: what `linli match` does before it writes anything: read and clean the file,
  blind-index every ID, look the indexes up in the register (reading alone is timed in a
  separate pass, for information);
- ``full``: ``watch_list_match`` end to end, storing every row's entry (rolled back after);
- ``command``: ``linli match FILE --list-name NAME --area CODE`` in a process of its own, timed
  from its start to its exit (interpreter and Django start-up, the file's digest, the match,
  the commit): what the user waits for. It commits, so its list and entries are deleted
  afterwards (untimed); its peak memory is the command's (RUSAGE_CHILDREN);
- ``peer``: a plain SQL join of blind indexes: the list's indexes (computed untimed) inserted
  into a temporary table and joined with the person table on ``id_bidx``.

Usage: LINLI_VAR_DIR=/tmp/bench1m .venv/bin/python benchmarks/bench_match.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from linli.areas.models import Area  # noqa: E402
from linli.core import crypto  # noqa: E402
from linli.core.identity import national_id_check_digit  # noqa: E402
from linli.register.models import Person  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_list(path: Path, rows: int, strangers: int, seed: int = 7) -> None:
    """The register's IDs as a city list (name, ID, where from, when), shuffled."""
    rng = random.Random(seed)
    out: list[list[str]] = []
    qs = Person.objects.filter(id_sealed__isnull=False).order_by("pk")
    for name, sealed in qs.values_list("name", "id_sealed").iterator(chunk_size=20_000):
        if len(out) >= rows - strangers:
            break
        out.append([name, crypto.unseal(sealed), "某省某市", "2026-11-01"])
    for i in range(rows - len(out)):
        first17 = f"110101{1940 + i % 60}0{1 + i % 9}1{i % 10}{i % 1000:03d}"[:17]
        out.append([f"来访{i}", first17 + national_id_check_digit(first17), "外省", "2026-11-02"])
    rng.shuffle(out)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "身份证号", "来源地", "抵达时间"])
        w.writerows(out)


def case_core(path: Path, area: Area) -> dict[str, Any]:
    from linli.intake.stream import open_records
    from linli.linkage import listmatch
    from linli.linkage import services as svc

    clock = time.process_time
    # Reading alone first (not part of the figure): how much of the core is the reader.
    c0 = clock()
    with open_records(path, filename=path.name) as stream:
        for _rec in stream.records:
            pass
    cpu_read = clock() - c0
    with svc._gc_paused():  # as watch_list_match does
        t0, c0 = time.perf_counter(), clock()
        with open_records(path, filename=path.name) as stream:
            out = listmatch.match_records(
                records=stream.records,
                columns=svc._list_columns(stream.table.headers),
                area=area,
                watch_list_id=0,
                sink=listmatch.EntrySink(write=False),
                estimated=stream.estimated_rows,
            )
        t1, c1 = time.perf_counter(), clock()
    return {
        "seconds": t1 - t0,
        "cpu": c1 - c0,
        "cpu_read_alone": cpu_read,
        **out.counts,
    }


class _Rollback(Exception):
    pass


def case_full(path: Path, area: Area) -> dict[str, Any]:
    from linli.linkage.services import watch_list_match

    result: dict[str, Any] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with transaction.atomic():
            r = watch_list_match(actor=None, path=path, list_name=f"bench {time.time()}", area=area)
            result = {
                "seconds": time.perf_counter() - t0,
                "cpu": time.process_time() - c0,
                **r.counts,
            }
            raise _Rollback
    except _Rollback:
        pass
    return result


def case_command(path: Path, area: Area) -> dict[str, Any]:
    from linli.linkage.models import WatchList, WatchListEntry

    name = f"bench command {time.time()}"
    argv = [sys.executable, "-m", "linli.cli", "match", str(path), "--list-name", name]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [*argv, "--area", area.code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    watch_list = WatchList.objects.get(area=area, name=name)
    counts = dict(watch_list.counts)
    with connection.cursor() as cur:  # untimed clean-up of what the command committed
        cur.execute(
            f"DELETE FROM {WatchListEntry._meta.db_table} WHERE watch_list_id = %s",  # noqa: S608
            [watch_list.pk],
        )
    watch_list.delete()
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "command_peak_mb": round(usage.ru_maxrss / 1024, 1),
        **counts,
    }


def case_peer(path: Path, area: Area) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        bidx = [(crypto.blind_index("national_id", row[1]),) for row in reader]
    table = Person._meta.db_table
    t0, c0 = time.perf_counter(), time.process_time()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE bench_list (bidx varchar(32))")
        cur.executemany("INSERT INTO bench_list (bidx) VALUES (%s)", bidx)
        cur.execute(
            f"SELECT count(*) FROM bench_list l JOIN {table} p ON p.id_bidx = l.bidx"  # noqa: S608
        )
        found = cur.fetchone()[0]
        cur.execute("DROP TABLE bench_list")
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "rows": len(bidx),
        "exact": found,
    }


CASES = {"core": case_core, "full": case_full, "command": case_command, "peer": case_peer}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--strangers", type=int, default=0, help="rows not in the register")
    ap.add_argument("--area", default="", help="area code (default: the root of the tree)")
    ap.add_argument("--case", choices=sorted(CASES), help="(internal) run one case")
    ap.add_argument("--file", default="")
    ap.add_argument("--skip", default="", help="comma-separated cases to skip")
    args = ap.parse_args()
    area = (
        Area.objects.get(code=args.area)
        if args.area
        else Area.objects.filter(parent__isnull=True).order_by("pk").first()
    )
    assert area is not None
    if args.case:
        out = CASES[args.case](Path(args.file), area)
        out["peak_mb"] = round(peak_mb(), 1)
        print(json.dumps(out))
        return
    path = Path(settings.VAR_DIR) / f"bench-list-{args.rows}-{args.strangers}.csv"
    if not path.exists():
        t0 = time.perf_counter()
        make_list(path, args.rows, args.strangers)
        print(f"list written: {path} ({time.perf_counter() - t0:.1f} s, untimed)", flush=True)
    print(
        f"register: {Person.objects.count()} persons; list: {args.rows} rows "
        f"({args.strangers} not in the register); database: {connection.vendor}",
        flush=True,
    )
    results = {}
    for case in ("peer", "core", "full", "command"):
        if case in args.skip.split(","):
            continue
        proc = subprocess.run(
            [sys.executable, __file__, "--case", case, "--file", str(path), "--area", area.code],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"case {case} failed")
        results[case] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(case, json.dumps(results[case]), flush=True)
    peer = results.get("peer", {})
    print("| case | wall s | CPU s | peak MB | CPU ratio to peer |")
    for case, r in results.items():
        ratio = f"{r['cpu'] / peer['cpu']:.2f}" if peer.get("cpu") else "—"
        peak = r.get("command_peak_mb", r["peak_mb"])
        print(f"| {case} | {r['seconds']:.1f} | {r['cpu']:.1f} | {peak:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
