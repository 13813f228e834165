"""Settings for the test suite: tasks run inline, fast password hashing."""

from __future__ import annotations

from linli.settings import *  # noqa: F403
from linli.settings import HUEY

HUEY = {**HUEY, "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LINLI_SMS_BACKEND = "linli.notify.sms.ConsoleSmsBackend"
# Tests run at any hour: quiet hours are off unless a test turns them on.
LINLI_NOTIFY_QUIET_HOURS = None
