"""Workbench search and command-view counts on a large register, as ratios to a peer.

The peer is one plain pass over the register: an unindexed substring search over every
person's row (what a naive search box would do), run in the same process right before each
measured operation. A ratio below 1 means the operation costs less than reading the register
once; a ratio that stays flat as the register grows means the operation scales like it.
Each operation runs `--repeat` times; we report the median.

Usage: LINLI_VAR_DIR=/tmp/bench1m .venv/bin/python benchmarks/bench_register.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
os.environ.setdefault("LINLI_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from linli.accounts.models import User  # noqa: E402
from linli.areas.models import Area  # noqa: E402
from linli.command.selectors import command_counts  # noqa: E402
from linli.command.tallies import count_live, tallies_refresh  # noqa: E402
from linli.register.models import Person  # noqa: E402
from linli.register.selectors import person_search  # noqa: E402


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm caches (the page cache, Django's URL and template caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peer() -> None:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM {Person._meta.db_table} WHERE notes LIKE %s",  # noqa: S608
            ["%邻里%"],
        )
        cur.fetchone()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/register.json")
    args = parser.parse_args()

    total = Person.objects.count()
    users = {u.username: u for u in User.objects.filter(username__in=["wangge1", "shuji", "admin"])}
    grid_person = Person.objects.filter(grid__bindings__user=users["wangge1"]).order_by("id")[5]
    tail = grid_person.id_tail
    initials = grid_person.name_initials[:2]
    surname = grid_person.name[0]

    def search(user: User, q: str) -> Callable[[], Any]:
        return lambda: list(person_search(user=user, q=q)[:50])

    def count(user: User) -> Callable[[], Any]:
        return lambda: command_counts(user=user)

    def page(user: User, url: str) -> Callable[[], Any]:
        client = Client()
        client.force_login(user)

        def go() -> None:
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)

        return go

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("search: grid worker, name initials", search(users["wangge1"], initials)),
        ("search: grid worker, last 4 of ID", search(users["wangge1"], tail)),
        ("search: district admin, surname", search(users["admin"], surname)),
        ("search: district admin, last 4 of ID", search(users["admin"], tail)),
        ("search: district admin, initials", search(users["admin"], initials)),
        ("counts: grid worker", count(users["wangge1"])),
        ("counts: community head", count(users["shuji"])),
        ("counts: district admin (whole register, from tallies)", count(users["admin"])),
        (
            "counts: whole register counted live (what tallies avoid)",
            lambda: count_live(list(Area.objects.filter(kind="grid").values_list("id", flat=True))),
        ),
        ("background: recount every node (tallies_refresh)", tallies_refresh),
        ("page /w/persons/?q=… (grid worker)", page(users["wangge1"], f"/w/persons/?q={initials}")),
        ("page /w/persons/?q=… (district admin)", page(users["admin"], f"/w/persons/?q={tail}")),
        ("page /c/ (grid worker)", page(users["wangge1"], "/c/")),
        ("page /c/ (district admin)", page(users["admin"], "/c/")),
        ("page /w/ tree (grid worker)", page(users["wangge1"], "/w/")),
        ("page /w/ tree (district admin)", page(users["admin"], "/w/")),
    ]
    rows = []
    for name, fn in cases:
        p = median_time(peer, args.repeat)
        t = median_time(fn, args.repeat)
        rows.append(
            {
                "case": name,
                "seconds": round(t, 4),
                "peer_seconds": round(p, 4),
                "ratio": round(t / p, 3),
            }
        )
    result = {
        "engine": connection.vendor,
        "persons": total,
        "peer": "unindexed substring search over every person row",
        "repeat": args.repeat,
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"engine={connection.vendor} persons={total} repeat={args.repeat}")
    print("| case | median s | peer s | ratio |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['seconds']:.4f} | {r['peer_seconds']:.4f} | {r['ratio']:.3f} |")


if __name__ == "__main__":
    main()
