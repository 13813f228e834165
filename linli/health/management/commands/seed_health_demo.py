"""linli seed_health_demo — one test round with results and vaccinations for the demo community.

Runs after `linli seed_demo`; running it again changes nothing. Everything is made through the
health services, as the system, so the demo has audit entries like real use. Who was sampled,
their results and their doses follow from the person's id, so every run makes the same data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from linli.areas.models import Area
from linli.health import services as svc
from linli.health.models import HealthSource, TestResult, TestRound
from linli.register.models import Person, PersonStatus

ROUND_NAME = "全员核酸检测（演示轮次）"
SITES = ["社区广场采样点", "幼儿园门口采样点"]
PRODUCTS = ["北京生物", "科兴中维", "智飞龙科马"]


class Command(BaseCommand):
    help = "Seed a demo test round with results, and vaccinations, for the demo community (once)."

    def handle(self, *args: Any, **opts: Any) -> None:
        from linli.register.demo import demo_accounts, demo_exists

        if not demo_exists():
            raise CommandError("Run `linli seed_demo` first.")
        accounts = {name: (role, code) for name, role, code in demo_accounts()}
        community = Area.objects.get(code=accounts["shuji"][1])
        if TestRound.objects.filter(area=community, name=ROUND_NAME).exists():
            self.stdout.write("The demo test round already exists; nothing to do.")
            return
        today = timezone.localdate()
        people = list(
            Person.objects.filter(grid__path__startswith=community.path, status=PersonStatus.LIVING)
            .select_related("grid")
            .order_by("id")
        )
        with transaction.atomic():
            rnd = svc.round_open(
                actor=None, name=ROUND_NAME, area=community, date=today, sites=SITES
            )
            sites = list(rnd.sites.all())
            sampled = results = doses = 0
            for p in people:
                # About 85% sampled; of those, one in 40 still pending, one in 500 positive.
                if p.pk % 20 not in (3, 7, 11):
                    svc.test_sample(
                        actor=None,
                        round=rnd,
                        person=p,
                        site=sites[p.pk % len(sites)],
                        source=HealthSource.SEED,
                    )
                    sampled += 1
                    if p.pk % 40 != 1:
                        result = TestResult.POSITIVE if p.pk % 500 == 17 else TestResult.NEGATIVE
                        svc.test_result_record(
                            actor=None,
                            round=rnd,
                            person=p,
                            result=result,
                            source=HealthSource.SEED,
                        )
                        results += 1
                # Doses: about 90% one, 80% two, 45% a booster (children under 3 none).
                if p.birth_date and (today - p.birth_date).days < 3 * 365:
                    continue
                n = 0 if p.pk % 10 == 9 else 1 if p.pk % 10 == 8 else 2 if p.pk % 20 < 9 else 3
                first = today - dt.timedelta(days=500 + p.pk % 60)
                for dose in range(1, n + 1):
                    svc.vaccination_record(
                        actor=None,
                        person=p,
                        dose=dose,
                        product=PRODUCTS[p.pk % 3],
                        vaccinated_on=first + dt.timedelta(days=(dose - 1) * 120),
                        site="社区卫生服务中心",
                        source=HealthSource.SEED,
                    )
                    doses += 1
        self.stdout.write(
            f"Round {rnd.pk}: {len(people)} people, {sampled} sampled, {results} results; "
            f"{doses} vaccination doses."
        )
