"""linli add_department CODE NAME --area CODE [--member USERNAME …] [--category CODE …]"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User
from linli.areas.models import Area
from linli.orders.models import OrderCategory
from linli.orders.services import department_save


class Command(BaseCommand):
    help = (
        "Create or update a department (职能部门) that communities may whistle; add its "
        "liaisons (users with the department role) and the categories it takes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("name")
        parser.add_argument("--area", required=True, help="code of the area it serves")
        parser.add_argument("--member", action="append", default=[], help="username")
        parser.add_argument("--category", action="append", default=[], help="category code")

    def handle(self, *args: Any, **opts: Any) -> None:
        area = Area.objects.filter(code=opts["area"]).first()
        if area is None:
            raise CommandError(f"没有编码为 {opts['area']} 的辖区 (no area with that code)")
        members = list(User.objects.filter(username__in=opts["member"]))
        missing = set(opts["member"]) - {u.username for u in members}
        categories = list(OrderCategory.objects.filter(code__in=opts["category"]))
        missing |= set(opts["category"]) - {c.code for c in categories}
        if missing:
            raise CommandError(f"unknown: {', '.join(sorted(missing))}")
        try:
            dept = department_save(
                actor=None,
                code=opts["code"],
                name=opts["name"],
                area=area,
                members=members,
                categories=categories,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"{dept.code} {dept.name} @ {area.code}: "
            f"{dept.members.count()} members, {dept.categories.count()} categories"
        )
