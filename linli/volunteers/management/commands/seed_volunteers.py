"""linli seed_volunteers — volunteers, an activity, points and a store for the demo community.

Runs after `linli seed_demo`; running it again changes nothing. Everything is made through the
volunteers services, as the system, so the demo has timelines and audit entries like real use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.areas.models import Area
from linli.register.models import Person, PersonStatus, Relation
from linli.volunteers import services as svc
from linli.volunteers.models import RuleKind, Volunteer

SKILLS = ["水电维修", "急救", "电脑", "理发", "代购跑腿", "心理疏导", "书法", "驾驶"]
REWARDS = [("洗衣液", 30, 20), ("大米 5kg", 80, 10), ("理发券", 20, 30), ("保温杯", 60, 8)]


class Command(BaseCommand):
    help = "Seed demo volunteers, an activity, points and a rewards store (once)."

    def handle(self, *args: Any, **opts: Any) -> None:
        from linli.register.demo import demo_accounts, demo_exists

        if not demo_exists():
            raise CommandError("Run `linli seed_demo` first.")
        if Volunteer.objects.exists():
            self.stdout.write("Volunteers already exist; nothing to do.")
            return
        accounts = {name: (role, code) for name, role, code in demo_accounts()}
        community = Area.objects.get(code=accounts["shuji"][1])
        grid = Area.objects.get(code=accounts["wangge1"][1])
        with transaction.atomic():
            self._seed(community, grid)
        self.stdout.write(self.style.SUCCESS(f"Volunteers seeded in {community.name}."))

    def _seed(self, community: Area, grid: Area) -> None:
        svc.rule_create(actor=None, area=community, kind=RuleKind.ACTIVITY_HOUR, points=10)
        svc.rule_create(
            actor=None, area=community, kind=RuleKind.ORDER_RATED, points=20, min_stars=4
        )
        svc.rule_create(actor=None, area=community, kind=RuleKind.CHECKPOINT_SHIFT, points=15)
        people = list(
            Person.objects.filter(
                grid=grid,
                status=PersonStatus.LIVING,
                relation=Relation.SELF,
                household__isnull=False,
            ).order_by("id")[:8]
        )
        volunteers = []
        for i, person in enumerate(people):
            user = User.objects.filter(person=person).first() or User.objects.create(
                username=f"resident-{person.pk}", display_name=person.name, person=person
            )
            v = svc.volunteer_apply(
                actor=user,
                kind="volunteer" if i % 3 else "party_member",
                skills=[SKILLS[i % len(SKILLS)], SKILLS[(i + 3) % len(SKILLS)]],
                availability="周末" if i % 2 else "工作日晚上",
                name_shown="full" if i % 2 else "surname",
                employer="" if i % 3 else "区民政局",
                paired_community=None if i % 3 else community,
            )
            if i < 6:
                v, _ = svc.volunteer_approve(actor=None, volunteer=v)
                volunteers.append(v)
        start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
        done = svc.activity_create(
            actor=None,
            area=grid,
            title="楼道杂物清理",
            place="小区中心广场集合",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            capacity=10,
        )
        svc.activity_create(
            actor=None,
            area=community,
            title="老年人智能手机课堂",
            place="社区党群服务中心",
            starts_at=start + dt.timedelta(days=3),
            ends_at=start + dt.timedelta(days=3, hours=2),
            capacity=8,
        )
        for i, v in enumerate(volunteers):
            assert v.user is not None
            s = svc.signup_create(actor=v.user, activity=done)
            s = svc.signup_check_in(actor=None, signup=s)
            claim = svc.claim_for_signup(
                actor=v.user, signup=s, note="清理了楼道堆放的纸箱和旧家具，疏通了消防通道"
            )
            if i < 4:
                svc.claim_review(actor=None, claim=claim, approve=True)
        for name, price, stock in REWARDS:
            svc.reward_create(actor=None, area=community, name=name, price=price, stock=stock)
