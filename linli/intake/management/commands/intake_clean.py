"""linli intake_clean — delete old uploaded files, and fail imports whose worker stopped.

Uploaded rosters hold personal data in plaintext (as the worker's file had it); they are kept
under LINLI_VAR_DIR/intake/ only as long as they are useful. Run it daily (cron/systemd timer).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from linli.intake.jobs import batch_fail_stale, batch_files_purge


class Command(BaseCommand):
    help = "Delete uploaded files of old imports; mark imports whose worker stopped as failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=30, help="keep files of imports touched within N days"
        )
        parser.add_argument(
            "--stale-minutes",
            type=int,
            default=60,
            help="a run with no progress for N minutes has lost its worker",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            stale = batch_fail_stale(minutes=opts["stale_minutes"])
            purged = batch_files_purge(older_than_days=opts["days"])
            self.stdout.write(
                _(
                    "%(stale)d stopped imports marked as failed; files of %(purged)d imports "
                    "deleted."
                )
                % {"stale": stale, "purged": purged}
            )
