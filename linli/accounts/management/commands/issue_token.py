"""linli issue_token USERNAME — print a bearer token for the API."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User
from linli.accounts.services import token_issue


class Command(BaseCommand):
    help = "Issue an API bearer token for a user; it is printed once and stored only as a digest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="what the token is for")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"没有用户 {opts['username']} (no such active user)")
        self.stdout.write(token_issue(actor=None, user=user, name=opts["name"]))
