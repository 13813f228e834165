"""Background tasks of the notify capability (run by the huey worker)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from linli.core import crypto
from linli.notify.sms import get_backend


@db_task(retries=3, retry_delay=10)
def send_sms(phone_sealed: bytes, text: str) -> None:
    """Send one SMS. The phone travels sealed through the queue, never in plaintext."""
    get_backend().send(phone=crypto.unseal(phone_sealed), text=text)
