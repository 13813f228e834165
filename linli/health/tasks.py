"""Background tasks of tests and vaccinations (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


# No automatic retries: a failed run is recorded with its reason and the worker uploads again.
@db_task(retries=0)
def run_health_import(run_id: int) -> None:
    """Import a results or vaccinations file in the background (health.runs.import_run)."""
    from linli.health.runs import import_run

    import_run(run_id=run_id)


@db_periodic_task(crontab(minute="17", hour="3"))
def purge_health_import_files() -> int:
    """Daily: the refused rows' workbooks of runs ended more than a day ago go."""
    from linli.health.runs import import_files_purge

    return import_files_purge()
