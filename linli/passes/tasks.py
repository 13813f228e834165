"""Background tasks of passes (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from linli.passes.services import passes_expire_due, shifts_finish_due


@db_periodic_task(crontab(minute="*/10"))
@lock_task("passes-expire")
def expire_passes() -> dict[str, int]:
    """Every ten minutes: passes whose time is over become expired (their timeline says so),
    and shifts whose time is over are finished (a volunteer's points claim opens)."""
    return {"passes": passes_expire_due(), "shifts": shifts_finish_due()}
