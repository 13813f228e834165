"""The SMPP gateway against a real SMSC on loopback (node's `smpp` package, tests/notify/
smsc_peer.js): Chinese text in UCS-2, a long message in concatenated parts, delivery
receipts moving the status to delivered, a refused bind and a dropped link failing and then
going out on retry, enquire_link while waiting, and unbind at the end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from linli.notify.models import Channel, Notification, NotificationStatus
from linli.notify.services import notifications_send_due, notify, receipt_record
from linli.notify.smpp import Receipt, smpp_listen
from tests.factories import World
from tests.notify.conftest import Smsc, start_peer

S = NotificationStatus
pytestmark = pytest.mark.django_db


def _point_at(settings: Any, port: int, **extra: Any) -> None:
    settings.LINLI_SMS_BACKEND = "linli.notify.smpp.SmppSmsBackend"
    settings.LINLI_SMPP = {
        "host": "127.0.0.1",
        "port": port,
        "system_id": "linli",
        "password": "secret1",
        "source_addr": "10690001",
        "timeout": 5,
        "receipt_wait": 3,
        "enquire_link": 30,
        **extra,
    }


def _send(nworld: World, text: str, capture: Any, phone: str = "") -> Notification:
    with capture(execute=True):
        row = notify(
            channel=Channel.SMS,
            kind="test",
            text=text,
            person=nworld.a.householder,
            phone=phone,
        )
    row.refresh_from_db()
    return row


def test_chinese_sms_is_submitted_in_ucs2_and_receipted(
    nworld: World, smsc: Smsc, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _point_at(settings, smsc.port)
    row = _send(nworld, "邻里：请上报今日体温。", django_capture_on_commit_callbacks)
    assert row.status == S.DELIVERED and row.delivered_at is not None
    binds = smsc.events("bind", wait_for=1)
    assert binds == [
        {"event": "bind", "command": "bind_transceiver", "system_id": "linli", "ok": True}
    ]
    (submit,) = smsc.events("submit", wait_for=1)
    assert submit["to"] == nworld.a.householder_phone
    assert submit["data_coding"] == 8 and submit["udh"] == []  # UCS-2, one part
    assert submit["text"] == "邻里：请上报今日体温。"
    assert submit["registered_delivery"] == 1
    assert row.gateway_id == submit["id"]
    assert [p.status for p in row.parts.all()] == [S.DELIVERED]
    assert smsc.events("unbind", wait_for=1)


def test_long_chinese_message_goes_in_parts_and_is_delivered_when_all_are(
    nworld: World, smsc: Smsc, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _point_at(settings, smsc.port)
    text = "".join(f"第{i}条：本楼今天下午两点停水，请提前储水。" for i in range(1, 9))
    assert len(text) > 70
    row = _send(nworld, text, django_capture_on_commit_callbacks)
    submits = smsc.events("submit", wait_for=(len(text) + 66) // 67)
    assert len(submits) == (len(text) + 66) // 67
    assert all(s["data_coding"] == 8 and s["esm_class"] & 0x40 for s in submits)
    # Each part carries the concatenation IE (00 03 ref total seq).
    assert [s["udh"][0][-2:] for s in submits] == [f"{i:02x}" for i in range(1, len(submits) + 1)]
    (message,) = smsc.events("message", wait_for=1)
    assert message["text"] == text and message["parts"] == len(submits)
    assert row.status == S.DELIVERED
    assert row.parts.count() == len(submits)
    assert row.gateway_id.split() == [s["id"] for s in submits]


def test_undeliverable_receipt_marks_failed_without_retry(
    nworld: World, smsc: Smsc, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _point_at(settings, smsc.port)
    row = _send(nworld, "测试", django_capture_on_commit_callbacks, phone="13800001234")
    assert row.status == S.FAILED and row.next_attempt_at is None
    assert "UNDELIV" in row.error
    assert smsc.events("receipt", wait_for=1)[0]["stat"] == "UNDELIV"


@pytest.fixture
def refusing_smsc() -> Iterator[Smsc]:
    yield from start_peer("--refuse-binds", "1")


@pytest.fixture
def dropping_smsc() -> Iterator[Smsc]:
    yield from start_peer("--drop-submits", "1")


@pytest.mark.parametrize("peer", ["refusing_smsc", "dropping_smsc"])
def test_refused_bind_or_dropped_link_fails_then_retry_delivers(
    nworld: World,
    peer: str,
    request: pytest.FixtureRequest,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    smsc: Smsc = request.getfixturevalue(peer)
    _point_at(settings, smsc.port)
    row = _send(nworld, "请于今晚八点前完成核酸检测。", django_capture_on_commit_callbacks)
    assert row.status == S.FAILED and row.attempts == 1
    assert row.error.startswith("SMPP:")
    assert row.next_attempt_at is not None and row.next_attempt_at > timezone.now()
    # Not due yet: the sweep leaves it alone.
    assert notifications_send_due() == 0
    assert notifications_send_due(now=row.next_attempt_at + dt.timedelta(seconds=1)) == 1
    row.refresh_from_db()
    assert row.status == S.DELIVERED and row.attempts == 2 and row.error == ""
    assert [m["text"] for m in smsc.events("message", wait_for=1)] == [
        "请于今晚八点前完成核酸检测。"
    ]


def test_wrong_password_keeps_failing_until_attempts_run_out(
    nworld: World, smsc: Smsc, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _point_at(settings, smsc.port, password="wrong")
    settings.LINLI_NOTIFY_MAX_ATTEMPTS = 2
    row = _send(nworld, "测试", django_capture_on_commit_callbacks)
    assert row.status == S.FAILED and row.next_attempt_at is not None
    notifications_send_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert row.status == S.FAILED and row.attempts == 2 and row.next_attempt_at is None
    assert [b["ok"] for b in smsc.events("bind", wait_for=2)] == [False, False]


@pytest.fixture
def holding_smsc() -> Iterator[Smsc]:
    yield from start_peer("--hold-receipts")


def test_late_receipt_and_listener_keep_alive(
    nworld: World,
    holding_smsc: Smsc,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The receipt comes back only after the sender's session has gone (the peer holds it for
    # the next bind): the message stays "sent"; the listener (`linli notify smpp-listen`)
    # binds, receives it and settles it, and keeps its bind alive with enquire_link.
    smsc = holding_smsc
    _point_at(settings, smsc.port, receipt_wait=0, enquire_link=0.3)
    row = _send(nworld, "测试", django_capture_on_commit_callbacks)
    assert row.status == S.SENT  # the receipt was not waited for
    got: list[Receipt] = []
    smpp_listen(seconds=1.2, record=got.append, stop=lambda: False)
    assert len(smsc.events("enquire_link", wait_for=2)) >= 2
    assert [(r.message_id, r.delivered) for r in got] == [(row.gateway_id, True)]
    assert receipt_record(message_id=row.gateway_id, delivered=True, detail="DELIVRD")
    row.refresh_from_db()
    assert row.status == S.DELIVERED
    assert not receipt_record(message_id="nope", delivered=True)
