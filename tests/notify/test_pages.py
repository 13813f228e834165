"""Pages: the delivery list (scoped, filtered), mass messages (progress, result, no double
send), the inbox and its bell on the workbench and the portal, in Chinese and English."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import User
from linli.emergency import services as em
from linli.notify.mass import mass_message_run
from linli.notify.models import (
    Channel,
    MassMessage,
    MassStatus,
    Notification,
    NotificationStatus,
)
from linli.notify.services import notify
from tests.factories import World

S = NotificationStatus
pytestmark = pytest.mark.django_db


def _client(user: Any, lang: str = "zh-hans") -> Client:
    c = Client()
    c.force_login(user)
    if lang != "zh-hans":
        c.post("/i18n/setlang/", {"language": lang, "next": "/"})
    return c


def _sent(w: World, capture: Any) -> tuple[Notification, Notification]:
    with capture(execute=True):
        a = notify(channel=Channel.SMS, kind="t", text="甲楼停水", person=w.a.householder)
        b = notify(channel=Channel.SMS, kind="t", text="乙楼停电", person=w.b.householder)
    return a, b


def test_worker_sees_only_their_grids_messages_and_filters_by_status(
    nworld: World, django_capture_on_commit_callbacks: Any
) -> None:
    _sent(nworld, django_capture_on_commit_callbacks)
    notify(channel=Channel.SMS, kind="t", text="甲无号码", person=nworld.a.member)  # failed
    c = _client(nworld.a.worker)
    body = c.get(reverse("notify:notification_list")).content.decode()
    assert "甲楼停水" in body and "甲无号码" in body
    assert "乙楼停电" not in body and nworld.b.householder.name not in body
    assert nworld.a.householder.phone_masked in body
    assert nworld.a.householder_phone not in body  # masked only
    assert "已发送" in body and "失败" in body  # zh-hans statuses
    failed = c.get(reverse("notify:notification_list"), {"status": "failed"}).content.decode()
    assert "甲无号码" in failed and "甲楼停水" not in failed
    # The head of the community sees both grids.
    both = _client(nworld.head).get(reverse("notify:notification_list")).content.decode()
    assert "甲楼停水" in both and "乙楼停电" in both
    # In English.
    en = _client(nworld.a.worker, "en").get(reverse("notify:notification_list"))
    assert "Messages sent" in en.content.decode() and "Sent" in en.content.decode()


def test_residents_and_strangers_get_no_delivery_list(nworld: World) -> None:
    resident = User.objects.create(username="r-a", person=nworld.a.householder)
    r = _client(resident).get(reverse("notify:notification_list"))
    assert r.status_code in (302, 403)
    assert Client().get(reverse("notify:notification_list")).status_code == 302


def _mass_post(c: Client, **data: Any) -> Any:
    form = c.get(reverse("notify:mass_new"))
    token = form.context["form"].initial["token"]
    payload = {"token": token, "channel": "sms", "text": "请于今晚前完成登记", **data}
    return token, c.post(reverse("notify:mass_new"), payload)


def test_mass_message_to_a_building_runs_with_progress_and_never_twice(
    nworld: World, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    c = _client(nworld.a.worker)
    with django_capture_on_commit_callbacks(execute=True):
        token, r = _mass_post(c, target="building", building=nworld.a.building.pk)
    mm = MassMessage.objects.get(token=token)
    assert r.status_code == 302 and r["Location"] == reverse("notify:mass_detail", args=[mm.pk])
    assert mm.status == MassStatus.DONE and mm.total == 2 and mm.created == 2
    rows = Notification.objects.filter(mass_message=mm)
    assert sorted(rows.values_list("status", flat=True)) == [S.FAILED, S.SENT]  # child: no phone
    assert capsys.readouterr().out.count("[SMS") == 1
    page = c.get(r["Location"]).content.decode()
    assert "100%" in page and "2 / 2" in page and 'id="mass-result"' in page
    bar = c.get(reverse("notify:mass_progress", args=[mm.pk]), {"seen": "running"})
    assert bar["HX-Refresh"] == "true"
    # The same form posted again: the same mass message, nothing sent.
    with django_capture_on_commit_callbacks(execute=True):
        again = c.post(
            reverse("notify:mass_new"),
            {
                "token": token,
                "target": "building",
                "building": nworld.a.building.pk,
                "channel": "sms",
                "text": "请于今晚前完成登记",
            },
        )
    assert again["Location"] == r["Location"] and MassMessage.objects.count() == 1
    # The task run again (a huey retry after a crash) skips everyone.
    MassMessage.objects.filter(pk=mm.pk).update(status=MassStatus.RUNNING)
    assert mass_message_run(mm.pk) == {"total": 2, "created": 0, "skipped": 2}
    assert rows.count() == 2 and capsys.readouterr().out.count("[SMS") == 0


def test_mass_message_form_answers_bad_input_in_chinese_and_keeps_it(nworld: World) -> None:
    c = _client(nworld.a.worker)
    _, r = _mass_post(c, target="building", text="保留的文字")
    assert r.status_code == 200
    body = r.content.decode()
    assert "请选择楼栋" in body and "保留的文字" in body
    # Grid B's building and grid are not among the choices: posting them is refused.
    _, r = _mass_post(c, target="building", building=nworld.b.building.pk)
    assert r.status_code == 200 and MassMessage.objects.count() == 0
    _, r = _mass_post(c, target="grid", grid=nworld.b.grid.pk)
    assert r.status_code == 200 and MassMessage.objects.count() == 0
    assert nworld.b.building.name not in c.get(reverse("notify:mass_new")).content.decode()


def test_mass_reminder_reaches_only_quarantines_missing_today(
    nworld: World, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    event = em.event_declare(
        actor=None,
        name="演练",
        kind="epidemic",
        areas=[nworld.a.grid],
        measures=["quarantine", "checkins"],
    )
    today = timezone.localdate()
    q1 = em.quarantine_start(
        actor=None,
        event=event,
        person=nworld.a.householder,
        kind="home",
        reason="密接",
        starts_on=today - dt.timedelta(days=1),
    )
    c = _client(nworld.a.worker)
    # The event page of an event with check-ins links to the reminder.
    detail = c.get(reverse("emergency:event_detail", args=[event.pk])).content.decode()
    assert "提醒今日未打卡的人" in detail and "target=quarantine&amp;reminder=1" in detail
    form = c.get(reverse("notify:mass_new"), {"target": "quarantine", "reminder": "1"})
    assert "请上报今日体温" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _, r = _mass_post(c, target="quarantine", grid=nworld.a.grid.pk)
    assert r.status_code == 302
    mm = MassMessage.objects.get()
    assert mm.only_missing_checkin and mm.total == 1
    assert f"[SMS → {nworld.a.householder_phone}]" in capsys.readouterr().out
    # After a check-in, a new reminder reaches nobody.
    em.checkin_record(actor=None, quarantine=q1, temperature="36.5", by_self=True)
    with django_capture_on_commit_callbacks(execute=True):
        _mass_post(c, target="quarantine", grid=nworld.a.grid.pk)
    assert MassMessage.objects.order_by("-pk").first().total == 0  # type: ignore[union-attr]


def test_inbox_bell_and_mark_read_on_workbench_and_portal(nworld: World) -> None:
    notify(channel=Channel.IN_APP, kind="t", text="请查看新工单", user=nworld.a.worker)
    notify(channel=Channel.IN_APP, kind="t", text="乙的消息", user=nworld.b.worker)
    c = _client(nworld.a.worker)
    home = c.get(reverse("notify:notification_list")).content.decode()
    assert 'id="notify-unread">1<' in home
    box = c.get(reverse("notify:inbox")).content.decode()
    assert "请查看新工单" in box and "乙的消息" not in box
    mine = Notification.objects.get(user=nworld.a.worker)
    theirs = Notification.objects.get(user=nworld.b.worker)
    assert c.post(reverse("notify:inbox_read", args=[theirs.pk])).status_code == 404
    assert c.post(reverse("notify:inbox_read", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None
    assert 'id="notify-unread"' not in c.get(reverse("notify:inbox")).content.decode()
    # A resident: messages to their register person, on the portal.
    resident = User.objects.create(username="r-a", person=nworld.a.householder)
    notify(channel=Channel.IN_APP, kind="t", text="社区活动周六举行", person=nworld.a.householder)
    rc = _client(resident)
    portal = rc.get(reverse("notify:portal_inbox")).content.decode()
    assert "社区活动周六举行" in portal and 'id="notify-unread">1<' in portal
    assert rc.post(reverse("notify:inbox_read_all")).status_code == 302
    assert 'id="notify-unread"' not in rc.get(reverse("portal:home")).content.decode()
    assert (
        Notification.objects.filter(person=nworld.a.householder, read_at__isnull=True).count() == 0
    )
