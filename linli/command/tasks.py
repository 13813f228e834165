"""Background tasks of the command view."""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from linli.command.tallies import tallies_refresh


@db_periodic_task(crontab(minute=f"*/{settings.LINLI_TALLY_MINUTES}"))
@lock_task("command-tallies")
def refresh_tallies() -> int:
    """Keep the per-node tallies behind the wide pages fresh."""
    return tallies_refresh()
