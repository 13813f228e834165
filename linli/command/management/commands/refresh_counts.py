"""linli refresh_counts — recount every grid now for the command view's wide pages."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from linli.command.tallies import tallies_refresh


class Command(BaseCommand):
    help = "Recount every node of the tree (the background worker does this on a schedule)."

    def handle(self, *args: Any, **opts: Any) -> None:
        t0 = time.perf_counter()
        n = tallies_refresh()
        self.stdout.write(f"已统计 {n} 个辖区节点，用时 {time.perf_counter() - t0:.1f} 秒。")
