"""Background tasks of the notify capability (run by the huey worker)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from linli.notify import services


@db_task()
def send_notification(pk: int) -> str:
    """Send one notification. Retries are the sweep's job (backoff kept on the row)."""
    return services.notification_send(pk)


@db_periodic_task(crontab(minute="*"))
@lock_task("notify-send-due")
def send_due_notifications() -> int:
    """Every minute: messages whose quiet hours, channel limit or retry backoff have ended."""
    return services.notifications_send_due()


@db_task()
def run_mass_message(pk: int) -> dict[str, int]:
    """Create the notifications of one mass message, with progress (see mass.py)."""
    from linli.notify.mass import mass_message_run

    return mass_message_run(pk)


@db_task()
def send_sms(phone_sealed: bytes, text: str) -> None:
    """Older entry point kept for callers not moved yet: records an SMS through `notify`."""
    from linli.notify.models import Channel

    services.notify(channel=Channel.SMS, kind="sms", text=text, phone_sealed=phone_sealed)
