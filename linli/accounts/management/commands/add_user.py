"""linli add_user USERNAME --role ROLE --area CODE — password from stdin or generated."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.services import binding_grant, user_create
from linli.areas.models import Area


class Command(BaseCommand):
    help = "Create a staff user bound to an area (or add a role to an existing user)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", required=True, choices=[r for r in Role.values if r != "resident"]
        )
        parser.add_argument("--area", required=True, help="area code (see `linli areas`)")
        parser.add_argument("--name", default="", help="display name")

    def handle(self, *args: Any, **opts: Any) -> None:
        area = Area.objects.filter(code=opts["area"]).first()
        if area is None:
            raise CommandError(f"没有编码为 {opts['area']} 的辖区 (no area with that code)")
        existing = User.objects.filter(username=opts["username"]).first()
        try:
            if existing is not None:
                binding_grant(actor=None, user=existing, role=opts["role"], area=area)
                self.stdout.write(f"{existing.username}: +{opts['role']} @ {area.code} {area.name}")
                return
            password = None
            if not sys.stdin.isatty():
                password = sys.stdin.readline().strip() or None
            user, generated = user_create(
                actor=None,
                username=opts["username"],
                password=password,
                role=opts["role"],
                area=area,
                display_name=opts["name"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"created {user.username}: {opts['role']} @ {area.code} {area.name}")
        if generated:
            self.stdout.write(f"password (shown once): {generated}")
