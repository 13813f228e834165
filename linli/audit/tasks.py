"""Background tasks of the audit log (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from linli.audit.services import audit_chain_pending


@db_periodic_task(crontab(minute="*"))
@lock_task("audit-chain")
def chain_audit_entries() -> int:
    """Every minute: chain entries left pending (``linli audit_chain`` normally does it at
    once; this covers a deployment that runs only the web server and the worker)."""
    return audit_chain_pending()
