"""linli revoke_token PREFIX — stop an API token working (PREFIX as shown when issued)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import ApiToken
from linli.accounts.services import token_revoke


class Command(BaseCommand):
    help = "Revoke API tokens whose first characters are PREFIX (at least 8)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args: Any, **opts: Any) -> None:
        prefix = opts["prefix"][:10]
        if len(prefix) < 8:
            raise CommandError("give at least the first 8 characters of the token")
        tokens = list(ApiToken.objects.filter(prefix__startswith=prefix, revoked_at__isnull=True))
        if not tokens:
            raise CommandError("no active token starts with that prefix")
        for token in tokens:
            token_revoke(actor=None, token=token)
            self.stdout.write(f"revoked {token.name} ({token.prefix}…) of {token.user.username}")
