"""linli seed_orders_demo — demo departments and work orders (after `linli seed_demo`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from linli.orders.demo import seed_orders_demo
from linli.register.demo import demo_exists


class Command(BaseCommand):
    help = "Add demo departments and a dozen work orders to the demo jurisdiction (once)."

    def handle(self, *args: Any, **opts: Any) -> None:
        if not demo_exists():
            raise CommandError("先运行 linli seed_demo (run `linli seed_demo` first)")
        made = seed_orders_demo()
        self.stdout.write(f"演示工单：新建 {made} 条 (demo work orders created)")
