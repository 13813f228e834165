"""Coverage of tests and vaccinations, counted live, against the plain scoped person count.

Each figure is the mean of ``--repeat`` warm runs of one selector, acting as the community head
(the demo round's community) or the district administrator, and is reported as a ratio against
the peer measured in the same run: the scoped count of living persons over the same district
(one indexed query, no joins), so the ratio says what the per-person result/dose subqueries and
the grouping add.

Usage (after `make setup`, which runs seed_demo and seed_health_demo):
  .venv/bin/python benchmarks/bench_health.py [--repeat 5]
  (any register: LINLI_VAR_DIR=… after `linli seed_health_demo` there)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

import django

django.setup()

from linli.accounts.models import User  # noqa: E402
from linli.health import selectors as sel  # noqa: E402
from linli.health.models import TestRound  # noqa: E402
from linli.register.models import Person, PersonStatus  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    head = User.objects.get(username="shuji")
    admin = User.objects.get(username="admin")
    rnd = TestRound.objects.order_by("id").first()
    if rnd is None:
        raise SystemExit("Run `linli seed_health_demo` first.")

    def people() -> Any:
        return Person.objects.restrict(admin).filter(status=PersonStatus.LIVING)

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("peer: scoped count of living persons (district)", lambda: people().count()),
        ("round_coverage per grid (head)", lambda: sel.round_coverage(user=head, rnd=rnd)),
        (
            "round_coverage per building (head)",
            lambda: sel.round_coverage(user=head, rnd=rnd, by="building"),
        ),
        ("vaccination_coverage per grid (head)", lambda: sel.vaccination_coverage(user=head)),
        ("vaccination_coverage per grid (district)", lambda: sel.vaccination_coverage(user=admin)),
    ]
    print(f"people in the district: {people().count()}, round {rnd.pk} over {rnd.area.name}")
    peer = None
    for label, fn in cases:
        t = timed(fn, args.repeat)
        peer = peer or t
        print(f"{label:50s} {t * 1000:8.1f} ms  ×{t / peer:5.1f}")


if __name__ == "__main__":
    main()
