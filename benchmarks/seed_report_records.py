"""Records for the templates other capabilities ship, on a seeded demo register, so the report
benchmark renders every shipped template with rows in it.

`seed_demo` makes the register; `seed_orders_demo` and `seed_volunteers` make work orders and
volunteer service in one community. Nothing makes an emergency: this script declares a drill
over the whole district and, through the emergency services (matching, audit, automatic
measures exactly as a worker's entries), registers arrivals for about 5% of the living
persons — a third from a high-risk area (home quarantine starts at once), a sixth from a
medium-risk one (home health monitoring), the rest from elsewhere — and records three days
of check-ins for each quarantine. Deterministic (fixed seed); does nothing if the drill exists.

Usage:
  LINLI_VAR_DIR=/tmp/bench100k .venv/bin/python benchmarks/seed_report_records.py [--share 0.05]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from linli.accounts.models import User  # noqa: E402
from linli.areas.models import Area, AreaKind  # noqa: E402
from linli.emergency import services as em  # noqa: E402
from linli.emergency.models import Arrival, EmergencyEvent, Quarantine, RiskArea  # noqa: E402
from linli.register.models import Person, PersonStatus  # noqa: E402

DRILL = "报表基准演练"
MODES = ["train", "car", "bus", "plane"]
ELSEWHERE = ["丙市", "丁县", "戊市己区", "庚市"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--share", type=float, default=0.05, help="share of persons arriving")
    parser.add_argument("--seed", type=int, default=20200123)
    parser.add_argument("--user", default="admin", help="the district worker entering arrivals")
    args = parser.parse_args()
    if Arrival.objects.filter(event__name=DRILL).exists():
        print("drill already seeded")
        return
    admin = User.objects.get(username=args.user)
    started = time.perf_counter()
    rng = random.Random(args.seed)
    district = Area.objects.filter(kind=AreaKind.DISTRICT).order_by("code").first()
    assert district is not None
    now = timezone.now()
    day0 = timezone.localdate(now) - dt.timedelta(days=3)
    event = EmergencyEvent.objects.filter(name=DRILL).first() or em.event_declare(
        actor=admin,
        name=DRILL,
        kind="epidemic",
        areas=[district],
        measures=["arrivals", "quarantine", "checkins"],
        is_drill=True,
        rule_days={"home": 14, "home_monitoring": 7, "centralised": 14},
        now=now - dt.timedelta(days=10),
    )
    risks = {r.level: r for r in RiskArea.objects.filter(event=event)}
    high = risks.get("high") or em.risk_area_add(
        actor=admin,
        event=event,
        name="甲市乙区",
        level="high",
        from_date=day0 - dt.timedelta(days=30),
    )
    medium = risks.get("medium") or em.risk_area_add(
        actor=admin,
        event=event,
        name="甲市丁区",
        level="medium",
        from_date=day0 - dt.timedelta(days=30),
    )
    ids = list(
        Person.objects.filter(grid__path__startswith=district.path, status=PersonStatus.LIVING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    chosen = sorted(rng.sample(ids, int(len(ids) * args.share)))
    arrivals = 0
    for n, person in enumerate(
        Person.objects.filter(id__in=chosen)
        .select_related("household__dwelling", "grid")
        .iterator(),
        1,
    ):
        roll = rng.random()
        risk = high if roll < 1 / 3 else medium if roll < 1 / 2 else None
        arrived = day0 + dt.timedelta(days=rng.randrange(3))
        em.arrival_register(
            actor=admin,
            event=event,
            grid=person.grid,
            name=person.name,
            national_id=person.reveal_national_id() or "",
            phone=person.reveal_phone() or "",
            arrived_on=arrived,
            travel_mode=rng.choice(MODES),
            risk_area=risk,
            from_text="" if risk else rng.choice(ELSEWHERE),
            dwelling=person.household.dwelling if person.household else None,
            now=timezone.make_aware(dt.datetime.combine(arrived, dt.time(10))),
        )
        arrivals += 1
        if n % 1000 == 0:
            print(f"{n} arrivals …", flush=True)
    checkins = 0
    for q in Quarantine.objects.filter(event=event).order_by("id").iterator():
        for d in range(3):
            day = q.starts_on + dt.timedelta(days=d)
            if day > timezone.localdate(now):
                break
            em.checkin_record(
                actor=admin,
                quarantine=q,
                temperature=f"{rng.uniform(36.0, 37.1):.1f}",
                day=day,
                now=timezone.make_aware(dt.datetime.combine(day, dt.time(8, 30))),
            )
            checkins += 1
    print(
        f"drill {event.pk}: {arrivals} arrivals, "
        f"{Quarantine.objects.filter(event=event).count()} quarantines, {checkins} check-ins, "
        f"{time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
