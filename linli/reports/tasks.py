"""Background tasks of the reports capability (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from linli.reports import services


@db_task()
def render_task(render_id: int, period: str = "") -> None:
    """Make one render's file (progress is written to the render as rows are written)."""
    services.render_run(render_id=render_id, period=period)


@db_periodic_task(crontab(minute="23"))
@lock_task("reports-expire")
def expire_renders() -> int:
    """Hourly: delete report files past their expiry."""
    return services.renders_expire()
