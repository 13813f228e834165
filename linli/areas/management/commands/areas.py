"""linli areas — print the jurisdiction tree with codes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linli.areas.models import Area


class Command(BaseCommand):
    help = "Print the jurisdiction tree with codes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--depth", type=int, default=None, help="deepest level to print")
        parser.add_argument("--under", default=None, help="print only below this code")

    def handle(self, *args: Any, **opts: Any) -> None:
        qs = Area.objects.all().order_by("path")
        if opts["under"]:
            root = Area.objects.filter(code=opts["under"]).first()
            if root is None:
                self.stderr.write(f"没有编码为 {opts['under']} 的辖区 (no area with that code)")
                raise SystemExit(1)
            qs = qs.filter(path__startswith=root.path)
        if opts["depth"] is not None:
            qs = qs.filter(depth__lte=opts["depth"])
        base = None
        for area in qs.iterator():
            base = area.depth if base is None else base
            indent = "  " * (area.depth - base)
            self.stdout.write(f"{indent}{area.code}  {area.name}  [{area.get_kind_display()}]")
