"""Notifications in a real browser, on a phone-sized screen: a grid worker reminds everyone
under quarantine in their grid who has not checked in today (the reminder appears on the
console SMS backend), watches the result page, filters the delivery list by status, and reads
their inbox from the bell; a resident reads theirs on the portal."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.emergency import services as em
from linli.notify.models import Channel
from linli.notify.services import notify
from tests.factories import PASSWORD, World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


def test_grid_worker_reminds_and_reads_inbox_on_a_phone(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, capfd: Any
) -> None:
    w = live_world
    event = em.event_declare(
        actor=None, name="演练", kind="epidemic", areas=[w.a.grid], measures=["quarantine"]
    )
    em.quarantine_start(
        actor=None,
        event=event,
        person=w.a.householder,
        kind="home",
        reason="密接",
        starts_on=timezone.localdate() - dt.timedelta(days=1),
    )
    notify(channel=Channel.IN_APP, kind="t", text="新工单：3号楼漏水", user=w.a.worker)
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport=PHONE)
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", w.a.worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))
    # The bell shows one unread message, visible without opening the menu.
    assert page.locator("#notify-unread").inner_text() == "1"
    page.goto(f"{base}/w/n/")
    page.click("#remind-missing")
    page.check("input[name=target][value=quarantine]")
    page.select_option("select[name=grid]", str(w.a.grid.pk))
    page.screenshot(path=str(artifacts / "notify-remind-form.png"), full_page=True)
    capfd.readouterr()
    page.click("#mass-form button[type=submit]")
    page.wait_for_selector("#mass-result")
    assert "1 / 1" in page.inner_text("#mass-progress")
    printed = capfd.readouterr().out
    assert re.search(rf"\[SMS → {w.a.householder_phone}\] 邻里：请上报今日体温", printed), printed
    page.screenshot(path=str(artifacts / "notify-mass-result.png"), full_page=True)
    page.click("text=查看每条消息")
    page.wait_for_selector("#notifications")
    assert "已发送" in page.inner_text("#notifications")
    page.click("#status-filter >> text=失败")
    assert "这里没有消息" in page.inner_text("#notifications")
    page.goto(f"{base}/w/n/")
    page.screenshot(path=str(artifacts / "notify-list.png"), full_page=True)
    page.click("#notify-bell")
    assert "新工单：3号楼漏水" in page.inner_text("#inbox")
    page.click("#inbox >> text=标为已读")
    page.wait_for_load_state()
    assert page.locator("#notify-unread").count() == 0
    page.screenshot(path=str(artifacts / "notify-inbox.png"), full_page=True)
    # A resident's inbox on the portal.
    resident = User.objects.create_user(username="resident-a", password=PASSWORD)
    resident.person = w.a.householder
    resident.save()
    notify(channel=Channel.IN_APP, kind="t", text="本周六社区义诊", person=w.a.householder)
    rp = browser.new_page(locale="zh-CN", viewport=PHONE)
    rp.goto(f"{base}/w/login/")
    rp.fill("input[name=username]", "resident-a")
    rp.fill("input[name=password]", PASSWORD)
    rp.locator("form button[type=submit]").first.click()
    rp.goto(f"{base}/p/")
    assert rp.locator("#notify-unread").inner_text() == "1"
    rp.click("#notify-bell")
    assert "本周六社区义诊" in rp.inner_text("#inbox")
    rp.screenshot(path=str(artifacts / "notify-portal-inbox.png"), full_page=True)
