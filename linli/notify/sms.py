"""Sending SMS: a small backend interface; the console backend prints messages (development)."""

from __future__ import annotations

import sys
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Prints each message to standard output — what `make demo` shows in its terminal.

    For development and the demo only: sign-in codes end up in whatever collects the output.
    A system check (linli.W001) warns when it is configured with DEBUG off.
    """

    def send(self, *, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS → {phone}] {text}\n")
        sys.stdout.flush()


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.LINLI_SMS_BACKEND)()
    return backend
