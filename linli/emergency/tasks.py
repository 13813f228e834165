"""Background tasks of emergency mode (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from linli.emergency.services import reminders_run


@db_periodic_task(crontab(minute="*/15"))
@lock_task("emergency-reminders")
def remind_missing_checkins() -> dict[str, int]:
    """Every quarter of an hour: reminders, then tasks, for check-ins missing after the hour."""
    return reminders_run()
