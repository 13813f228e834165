"""Demo work orders over the demo jurisdiction (`linli seed_orders_demo`): a department for
the demo liaison and a dozen orders in the first two grids, in every kind of state, filed and
moved through the same services as real ones (as the system, on a clock set in the past)."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.areas.models import Area
from linli.orders import services as svc
from linli.orders.models import Channel, OrderCategory, Source, WorkOrder
from linli.register.models import Person, PersonStatus, Relation

REQUESTS = [
    ("repair", "楼道灯不亮", "三楼声控灯坏了，晚上看不见台阶"),
    ("elderly_care", "独居老人需要陪同就医", "周三上午去社区医院复查"),
    ("environment", "垃圾桶满了没人清", "北门垃圾桶三天没清运"),
    ("errands", "帮忙买降压药", "腿脚不便，药快吃完了"),
    ("dispute", "楼上漏水到我家", "和楼上邻居沟通不了"),
    ("elderly_care", "帮老人预约上门理发", ""),
    ("repair", "单元门禁坏了", "门禁刷卡没反应"),
    ("complaint", "广场舞音响太吵", "晚上九点后还在放"),
    ("suggestion", "建议增设休息座椅", "小区花园没有座椅，老人走累了没地方坐"),
    ("environment", "占道堆放杂物", "小区门口有人长期堆放废品"),
    ("safety", "电动车在楼道充电", "2单元一楼楼道有电动车飞线充电"),
    ("repair", "下水道堵了", "厨房下水道反水"),
]


@transaction.atomic
def seed_orders_demo(*, seed: int = 20200202) -> int:
    """Create the demo orders once; returns how many were made (0 when there are some)."""
    from linli.register.demo import demo_accounts

    if WorkOrder.objects.exists():
        return 0
    accounts = {name: (role, code) for name, role, code in demo_accounts()}
    users = {u.username: u for u in User.objects.filter(username__in=accounts)}
    grids = [Area.objects.get(code=accounts[n][1]) for n in ("wangge1", "wangge2")]
    district = Area.objects.get(code=accounts["bumen"][1])
    liaison = users.get("bumen")
    dept = svc.department_save(
        actor=None,
        code="civil-affairs",
        name="民政局",
        area=district,
        members=[liaison] if liaison else [],
        categories=list(OrderCategory.objects.filter(code__in=["elderly_care", "dispute"])),
    )
    urban = svc.department_save(
        actor=None,
        code="urban-management",
        name="城管执法队",
        area=district,
        categories=list(OrderCategory.objects.filter(code__in=["environment", "safety"])),
    )
    rng = random.Random(seed)
    now = timezone.now()
    made = 0
    for i, (code, title, description) in enumerate(REQUESTS):
        grid = grids[i % 2]
        worker = users.get("wangge1" if grid == grids[0] else "wangge2")
        people = list(
            Person.objects.filter(
                grid=grid, status=PersonStatus.LIVING, relation=Relation.SELF
            ).order_by("id")[:20]
        )
        person = rng.choice(people) if people else None
        t = now - dt.timedelta(hours=rng.randint(30, 200))
        order = svc.order_submit(
            actor=None,
            category=OrderCategory.objects.get(code=code),
            title=title,
            description=description,
            grid=grid,
            requester=person,
            source=Source.WORKER if i % 3 == 0 else Source.PORTAL,
            channel=Channel.PHONE if i % 3 == 0 else "",
            location=(
                person.household.dwelling.address
                if person and person.household and person.household.dwelling
                else ""
            ),
            now=t,
        )
        made += 1
        step = i % 6
        if step == 0:
            continue  # waiting to be accepted (and overdue by now)
        h = dt.timedelta(hours=1)
        # Orders that start at the community are handled by the community's worker.
        handler = worker if order.level == "grid" else users.get("shegong")
        svc.order_accept(actor=handler, order=order, now=t + h)
        if step == 1:
            svc.order_open(actor=handler, order=order, now=t + 2 * h)
            continue
        if step == 5:
            target = dept if code in ("elderly_care", "dispute") else urban
            svc.order_whistle(
                actor=None, order=order, department=target, note="请协助处理", now=t + 2 * h
            )
            continue
        svc.order_dispatch(actor=handler, order=order, assignee=worker, now=t + 2 * h)
        if step == 2:
            continue
        svc.order_take(actor=worker, order=order, now=t + 3 * h)
        svc.order_start(actor=worker, order=order, now=t + 4 * h)
        svc.order_finish(
            actor=worker, order=order, note="已上门处理完毕", minutes_spent=45, now=t + 6 * h
        )
        if step == 4:
            svc.order_rate(actor=None, order=order, stars=5, words="很及时", now=t + 8 * h)
    return made
