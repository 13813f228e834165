"""Channel backends: one pluggable class per channel, chosen in settings (decision 0032).

A backend takes one outgoing message and either returns the gateway's message ids (one per
part; an empty list when the channel has no ids) or raises `GatewayError`. Delivery receipts
come back later through `linli.notify.services.receipt_record`.

- SMS: ``LINLI_SMS_BACKEND`` — console (development, prints), file (JSON lines under var/),
  `linli.notify.smpp.SmppSmsBackend` (a real SMPP 3.4 client).
- Voice (text-to-speech call): ``LINLI_VOICE_BACKEND`` — console and file only; Linli ships
  no real voice gateway yet.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class GatewayError(Exception):
    """The gateway refused or could not take the message; the send is retried later."""


@dataclass(frozen=True)
class Outgoing:
    """What a backend needs: never more than the number and the words."""

    notification_id: int
    phone: str
    text: str


class ChannelBackend(Protocol):
    def send_message(self, message: Outgoing) -> list[str]: ...


class ConsoleSmsBackend:
    """Prints each message to standard output — what `make demo` shows in its terminal.

    For development and the demo only: sign-in codes end up in whatever collects the output.
    A system check (linli.W001) warns when it is configured for a deployment.
    """

    label = "SMS"

    def send_message(self, message: Outgoing) -> list[str]:
        sys.stdout.write(f"[{self.label} → {message.phone}] {message.text}\n")
        sys.stdout.flush()
        return []


class ConsoleVoiceBackend(ConsoleSmsBackend):
    """Prints the words a text-to-speech call would speak (development only)."""

    label = "VOICE"


_file_lock = threading.Lock()


class FileSmsBackend:
    """Appends each message as one JSON line to ``var/notify/<channel>.jsonl`` (development).

    Each line gets a made-up message id, so pages show what a gateway id looks like.
    """

    channel = "sms"

    def send_message(self, message: Outgoing) -> list[str]:
        path = Path(settings.LINLI_NOTIFY_FILE_DIR) / f"{self.channel}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        message_id = uuid.uuid4().hex[:16]
        line = {
            "at": timezone.now().isoformat(),
            "id": message_id,
            "notification": message.notification_id,
            "to": message.phone,
            "text": message.text,
        }
        with _file_lock, path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return [message_id]


class FileVoiceBackend(FileSmsBackend):
    """Writes the words of each text-to-speech call to ``var/notify/voice.jsonl``."""

    channel = "voice"


def backend_for(channel: str) -> ChannelBackend:
    """The configured backend of *channel* ("sms" or "voice")."""
    path = settings.LINLI_VOICE_BACKEND if channel == "voice" else settings.LINLI_SMS_BACKEND
    backend: ChannelBackend = import_string(path)()
    return backend
