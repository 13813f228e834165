"""The notification service: in-app delivery, quiet hours, rate limits, retries with backoff,
dedupe, secrets not kept, receipts, and the file backend."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from linli.notify.backends import GatewayError, Outgoing
from linli.notify.models import Channel, GatewayPart, Notification, NotificationStatus, Urgency
from linli.notify.services import (
    in_quiet_hours,
    notification_send,
    notifications_send_due,
    notify,
    receipt_record,
)
from tests.factories import World

S = NotificationStatus
SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def _sms(w: World, capture: Any, **kw: Any) -> Notification:
    with capture(execute=True):
        row = notify(channel=Channel.SMS, kind="test", text=kw.pop("text", "你好"), **kw)
    row.refresh_from_db()
    return row


def test_sms_goes_out_on_the_console_after_commit(
    nworld: World, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        row = notify(channel=Channel.SMS, kind="t", text="停水通知", person=nworld.a.householder)
        assert row.status == S.QUEUED and capsys.readouterr().out == ""
    for cb in callbacks:
        cb()
    row.refresh_from_db()
    assert row.status == S.SENT and row.attempts == 1 and row.sent_at is not None
    assert row.grid_id == nworld.a.grid.pk and row.phone_masked.endswith(
        nworld.a.householder_phone[-4:]
    )
    assert f"[SMS → {nworld.a.householder_phone}] 停水通知" in capsys.readouterr().out
    assert nworld.a.householder_phone.encode() not in bytes(row.phone_sealed)


def test_in_app_is_delivered_at_once_and_needs_a_recipient(nworld: World) -> None:
    row = notify(channel=Channel.IN_APP, kind="t", text="会议改期", user=nworld.a.worker)
    assert row.status == S.DELIVERED and row.delivered_at is not None
    with pytest.raises(ValueError):
        notify(channel=Channel.IN_APP, kind="t", text="x")


def test_no_phone_fails_visibly(nworld: World, django_capture_on_commit_callbacks: Any) -> None:
    row = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.member)
    assert row.status == S.FAILED and row.error and row.attempts == 0


@pytest.mark.parametrize(
    ("local", "ends"),
    [
        ((23, 30), (1, 7, 0)),
        ((3, 0), (0, 7, 0)),
        ((22, 0), (1, 7, 0)),
        ((7, 0), None),
        ((12, 0), None),
    ],
)
def test_quiet_hours_window(settings: Any, local: tuple[int, int], ends: Any) -> None:
    settings.LINLI_NOTIFY_QUIET_HOURS = ("22:00", "07:00")
    at = dt.datetime(2026, 3, 10, *local, tzinfo=SH)
    got = in_quiet_hours(at)
    if ends is None:
        assert got is None
    else:
        days, h, m = ends
        assert got == dt.datetime(2026, 3, 10 + days, h, m, tzinfo=SH)


def test_quiet_hours_defer_normal_and_let_urgent_through(
    nworld: World, settings: Any, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    settings.LINLI_NOTIFY_QUIET_HOURS = ("00:00", "23:59")  # quiet now, whatever the hour
    normal = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.householder)
    assert normal.status == S.DEFERRED and normal.next_attempt_at > timezone.now()
    assert capsys.readouterr().out == ""
    urgent = _sms(
        nworld,
        django_capture_on_commit_callbacks,
        person=nworld.a.householder,
        urgency=Urgency.URGENT,
        text="紧急：燃气泄漏，请立即撤离",
    )
    assert urgent.status == S.SENT
    assert "燃气泄漏" in capsys.readouterr().out
    # In-app messages are silent: never deferred.
    inbox = notify(channel=Channel.IN_APP, kind="t", text="x", person=nworld.a.householder)
    assert inbox.status == S.DELIVERED
    # When quiet hours end, the sweep sends the deferred one.
    settings.LINLI_NOTIFY_QUIET_HOURS = None
    assert notifications_send_due(now=normal.next_attempt_at) == 1
    normal.refresh_from_db()
    assert normal.status == S.SENT
    assert capsys.readouterr().out.count("[SMS") == 1


def test_rate_limit_per_recipient_suppresses_but_not_urgent(
    nworld: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LINLI_NOTIFY_RATE_PER_RECIPIENT_HOUR = {"sms": 2}
    rows = [
        _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.householder)
        for _ in range(3)
    ]
    assert [r.status for r in rows] == [S.SENT, S.SENT, S.SUPPRESSED]
    assert "2" in rows[2].error
    # Another person is not affected; an urgent message to the same one goes.
    other = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.b.householder)
    urgent = _sms(
        nworld,
        django_capture_on_commit_callbacks,
        person=nworld.a.householder,
        urgency=Urgency.URGENT,
    )
    assert other.status == S.SENT and urgent.status == S.SENT


def test_rate_limit_per_channel_defers(
    nworld: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LINLI_NOTIFY_RATE_PER_CHANNEL_HOUR = {"sms": 1}
    first = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.householder)
    second = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.b.householder)
    assert first.status == S.SENT
    assert second.status == S.DEFERRED
    assert second.next_attempt_at - timezone.now() > dt.timedelta(minutes=9)


class FlakyBackend:
    """Fails as often as told, then takes messages (a gateway that is down for a while)."""

    failures = 0
    sent: list[Outgoing] = []

    def send_message(self, message: Outgoing) -> list[str]:
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise GatewayError("gateway down")
        FlakyBackend.sent.append(message)
        return [f"id{len(FlakyBackend.sent)}"]


def test_retries_back_off_and_stop(
    nworld: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LINLI_SMS_BACKEND = "tests.notify.test_services.FlakyBackend"
    settings.LINLI_NOTIFY_RETRY_SECONDS = 60
    settings.LINLI_NOTIFY_MAX_ATTEMPTS = 3
    FlakyBackend.failures, FlakyBackend.sent = 5, []
    row = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.householder)
    first_gap = row.next_attempt_at - timezone.now()
    assert row.status == S.FAILED and row.attempts == 1 and row.error == "gateway down"
    assert dt.timedelta(seconds=55) < first_gap <= dt.timedelta(seconds=60)
    # A second run of the task (huey retried, or a duplicate) does not send before time.
    assert notification_send(row.pk) == S.FAILED
    row.refresh_from_db()
    assert row.attempts == 1
    notifications_send_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at is not None
    second_gap = row.next_attempt_at - timezone.now()
    assert second_gap > dt.timedelta(seconds=115)  # doubled
    notifications_send_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert row.status == S.FAILED and row.attempts == 3 and row.next_attempt_at is None
    assert notifications_send_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert FlakyBackend.sent == []


def test_retry_succeeds_once_and_receipts_settle(
    nworld: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LINLI_SMS_BACKEND = "tests.notify.test_services.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.sent = 1, []
    row = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.householder)
    assert row.status == S.FAILED
    later = row.next_attempt_at
    assert notifications_send_due(now=later) == 1
    assert notifications_send_due(now=later) == 0  # not twice
    row.refresh_from_db()
    assert row.status == S.SENT and row.gateway_id == "id1" and len(FlakyBackend.sent) == 1
    assert receipt_record(message_id="id1", delivered=True, detail="DELIVRD")
    row.refresh_from_db()
    assert row.status == S.DELIVERED
    assert GatewayPart.objects.get(notification=row).status == S.DELIVERED


def test_dedupe_key_sends_once(
    nworld: World, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    a = _sms(
        nworld, django_capture_on_commit_callbacks, person=nworld.a.householder, dedupe_key="k1"
    )
    b = _sms(
        nworld, django_capture_on_commit_callbacks, person=nworld.a.householder, dedupe_key="k1"
    )
    assert a.pk == b.pk and Notification.objects.count() == 1
    assert capsys.readouterr().out.count("[SMS") == 1


def test_secret_text_is_dropped_once_sent(
    nworld: World, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    row = _sms(
        nworld,
        django_capture_on_commit_callbacks,
        phone="13912345678",
        text="您的邻里登录验证码是 123456",
        secret=True,
        urgency=Urgency.URGENT,
    )
    assert row.status == S.SENT and "123456" not in row.text
    assert "123456" in capsys.readouterr().out


def test_file_backend_writes_json_lines(
    nworld: World, settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LINLI_SMS_BACKEND = "linli.notify.backends.FileSmsBackend"
    settings.LINLI_VOICE_BACKEND = "linli.notify.backends.FileVoiceBackend"
    settings.LINLI_NOTIFY_FILE_DIR = tmp_path
    row = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.householder)
    with django_capture_on_commit_callbacks(execute=True):
        call = notify(
            channel=Channel.VOICE, kind="t", text="请注意防汛", person=nworld.a.householder
        )
    (line,) = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    got = json.loads(line)
    assert got["text"] == "你好" and got["to"] == nworld.a.householder_phone
    assert got["id"] == Notification.objects.get(pk=row.pk).gateway_id
    (vline,) = (tmp_path / "voice.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(vline)["text"] == "请注意防汛"
    assert Notification.objects.get(pk=call.pk).status == S.SENT


def test_a_send_left_half_done_is_marked_failed_not_resent(
    nworld: World, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    row = _sms(nworld, django_capture_on_commit_callbacks, person=nworld.a.householder)
    capsys.readouterr()
    # As if the worker died after marking it sending.
    Notification.objects.filter(pk=row.pk).update(status=S.SENDING)
    assert notifications_send_due(now=timezone.now() + dt.timedelta(minutes=5)) == 0
    assert Notification.objects.get(pk=row.pk).status == S.SENDING
    notifications_send_due(now=timezone.now() + dt.timedelta(minutes=11))
    row.refresh_from_db()
    assert row.status == S.FAILED and row.next_attempt_at is None and row.error
    assert capsys.readouterr().out == ""
