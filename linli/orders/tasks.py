"""Background tasks of work orders: the escalation ladder and the follow-up question."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from linli.orders.services import orders_escalate_overdue, orders_followup_due


@db_periodic_task(crontab(minute="*/5"))
@lock_task("orders-escalate")
def escalate_overdue() -> dict[str, int]:
    """Every five minutes: overdue orders climb one rung (or are whistled at the top)."""
    return orders_escalate_overdue()


@db_periodic_task(crontab(minute="7", hour="*"))
@lock_task("orders-followup")
def ask_followups() -> int:
    """Every hour: ask rated orders whose day has come whether they are still fixed."""
    return orders_followup_due()
