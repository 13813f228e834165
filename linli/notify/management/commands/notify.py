"""`linli notify …`: operators' commands for the notification layer.

- ``linli notify test --phone 13800000000 [--channel sms|voice] [--text …]``: send one
  message through the configured backend now and print what happened (status, gateway ids,
  error) — the smoke test after pointing Linli at an SMSC.
- ``linli notify smpp-listen [--seconds N]``: keep a transceiver bound to the SMSC and record
  delivery receipts that come after the sender has unbound (run it beside the worker).
- ``linli notify send-due``: send what quiet hours, limits or backoff held back (the worker
  does this every minute).
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from linli.core.identity import normalise_phone
from linli.notify import services
from linli.notify.models import Channel, Notification, Urgency


class Command(BaseCommand):
    help = "Notification layer: test a channel, listen for SMPP receipts, send what is due."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        test = sub.add_parser("test", help="send one message now and report its status")
        test.add_argument("--phone", required=True)
        test.add_argument("--channel", choices=[Channel.SMS, Channel.VOICE], default="sms")
        test.add_argument("--text", default="Linli test message 邻里测试短信")
        listen = sub.add_parser("smpp-listen", help="record SMPP delivery receipts")
        listen.add_argument("--seconds", type=float, default=None)
        sub.add_parser("send-due", help="send deferred and retried messages now")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "test":
            self._test(options)
        elif action == "smpp-listen":
            self._listen(options["seconds"])
        else:
            self.stdout.write(f"sent: {services.notifications_send_due()}")

    def _test(self, options: dict[str, Any]) -> None:
        try:
            phone = normalise_phone(options["phone"])
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        # Urgent: an operator's test goes out at once, whatever the hour or the limits.
        with transaction.atomic():
            row = services.notify(
                channel=options["channel"],
                kind="notify.test",
                text=options["text"],
                phone=phone,
                urgency=Urgency.URGENT,
                source_app="cli",
            )
        row.refresh_from_db()
        if row.status == "queued":  # the worker is not running inline: send it here
            services.notification_send(row.pk)
            row = Notification.objects.get(pk=row.pk)
        self.stdout.write(
            f"notification {row.pk}: {row.status} to {row.phone_masked} via {row.channel}"
            f" (attempts {row.attempts})"
        )
        if row.gateway_id:
            self.stdout.write(f"gateway ids: {row.gateway_id}")
        if row.error:
            self.stdout.write(f"error: {row.error}")
        if row.status not in ("sent", "delivered"):
            raise CommandError(f"not sent: {row.status}")

    def _listen(self, seconds: float | None) -> None:
        from linli.notify.smpp import Receipt, smpp_listen

        stopping = {"now": False}

        def stop(*_: Any) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        def record(r: Receipt) -> None:
            known = services.receipt_record(
                message_id=r.message_id, delivered=r.delivered, detail=r.detail
            )
            self.stdout.write(f"receipt {r.message_id}: {r.detail}{'' if known else ' (unknown)'}")

        smpp_listen(seconds=seconds, record=record, stop=lambda: stopping["now"])
