"""linli seed_demo [--people N] [--if-empty] — the deterministic demo jurisdiction."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from linli.accounts.services import user_create
from linli.areas.models import Area
from linli.register.demo import DEMO_PASSWORD, demo_accounts, demo_exists, seed_demo

DISPLAY_NAMES = {
    "admin": "区管理员 陈建华",
    "jiedao": "街道干部 刘洋",
    "shuji": "社区书记 王秀英",
    "shegong": "社工 赵敏",
    "wangge1": "网格员 李娜",
    "wangge2": "网格员 张伟",
    "louzhang": "楼栋长 孙大爷",
    "bumen": "民政局 周静",
}


class Command(BaseCommand):
    help = "Seed the demo jurisdiction and its register (once; running it again changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=10_000, help="about how many persons")
        parser.add_argument("--seed", type=int, default=20200202)
        parser.add_argument(
            "--if-empty", action="store_true", help="quietly do nothing when already seeded"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if demo_exists():
            if not opts["if_empty"]:
                self.stdout.write(
                    "演示辖区已存在，未做任何改动。(demo jurisdiction already seeded)"
                )
            return
        started = time.perf_counter()
        self.stdout.write(f"正在生成演示辖区，约 {opts['people']} 人 …")
        counters = seed_demo(
            people=opts["people"], seed=opts["seed"], progress=lambda s: self.stdout.write(s)
        )
        with transaction.atomic():
            for username, role, code in demo_accounts():
                user_create(
                    actor=None,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    area=Area.objects.get(code=code),
                    display_name=DISPLAY_NAMES.get(username, username),
                )
        # Wide pages (command view, workbench tree) read per-node tallies; take the first ones.
        from linli.command.tallies import tallies_refresh

        tallies_refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：{counters.grids} 个网格，{counters.buildings} 栋楼，"
                f"{counters.dwellings} 套房屋，{counters.households} 户，{counters.persons} 人，"
                f"用时 {time.perf_counter() - started:.1f} 秒。"
            )
        )
