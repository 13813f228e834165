"""`linli notify …` and the deploy check on the SMS backend."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command

from linli.notify.models import Notification, NotificationStatus
from tests.notify.conftest import Smsc

pytestmark = pytest.mark.django_db


def test_notify_test_on_the_console(capsys: Any) -> None:
    out = StringIO()
    call_command("notify", "test", "--phone", "139 1234 5678", "--text", "测试短信", stdout=out)
    assert "[SMS → 13912345678] 测试短信" in capsys.readouterr().out
    assert "sent to 139****5678 via sms" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("notify", "test", "--phone", "12345", stdout=out)


def test_notify_test_through_smpp_reports_delivery(smsc: Smsc, settings: Any) -> None:
    settings.LINLI_SMS_BACKEND = "linli.notify.smpp.SmppSmsBackend"
    settings.LINLI_SMPP = {
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "linli",
        "password": "secret1",
        "timeout": 5,
        "receipt_wait": 3,
    }
    out = StringIO()
    call_command("notify", "test", "--phone", "13912345678", "--text", "网关测试", stdout=out)
    assert "delivered" in out.getvalue()
    assert [m["text"] for m in smsc.events("message", wait_for=1)] == ["网关测试"]
    settings.LINLI_SMPP = {**settings.LINLI_SMPP, "password": "wrong"}
    with pytest.raises(CommandError, match="not sent: failed"):
        call_command("notify", "test", "--phone", "13912345678", stdout=out)
    assert "error: SMPP" in out.getvalue()
    assert Notification.objects.filter(status=NotificationStatus.FAILED).count() == 1


def test_deploy_check_warns_on_the_console_backend(settings: Any) -> None:
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "linli.W001" in ids
    settings.LINLI_SMS_BACKEND = "linli.notify.smpp.SmppSmsBackend"
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "linli.W001" not in ids
