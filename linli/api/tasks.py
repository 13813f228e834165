"""Background tasks of the API (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from linli.api.idempotency import idempotency_purge


@db_periodic_task(crontab(minute="17", hour="*"))
def purge_idempotency_records() -> int:
    """Every hour: drop stored Idempotency-Key answers older than a day."""
    return idempotency_purge()
