"""System checks of the notify capability."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def console_sms_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The console SMS backend prints sign-in codes; fine for the demo, not for residents."""
    if settings.LINLI_SMS_BACKEND.endswith("ConsoleSmsBackend"):
        return [
            Warning(
                "LINLI_SMS_BACKEND is the console backend: sign-in codes are printed to the "
                "server's output instead of being sent.",
                hint="Set LINLI_SMS_BACKEND to a class that sends through your SMS gateway.",
                id="linli.W001",
            )
        ]
    return []
