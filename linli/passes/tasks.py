"""Background tasks of passes (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from linli.passes.services import passes_close_ended, passes_expire_due, shifts_finish_due


@db_periodic_task(crontab(minute="*/10"))
@lock_task("passes-expire")
def expire_passes() -> dict[str, int]:
    """Every ten minutes: passes whose time is over become expired (their timeline says so),
    passes still valid under an event that has ended close, and shifts whose time is over are
    finished (a volunteer's points claim opens)."""
    return {
        "passes": passes_expire_due(),
        "closed": passes_close_ended(),
        "shifts": shifts_finish_due(),
    }
