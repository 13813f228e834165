"""Supplies and screening of issue 4, in a real browser on phone-sized screens.

A household under home quarantine proves its phone with an SMS code and posts a shopping list
on the portal; a volunteer of the grid takes it from the work-order board, buys and delivers
it; the household confirms receipt and sees the whole path. A grid worker then works the
screening targets of a matched list on a phone: reached, not reachable, with the board
counting who is left.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from linli.screening.models import ScreeningTarget
from linli.supplies.models import SupplyRequest
from tests.browser.test_flows import _sign_in_workbench
from tests.factories import World, make_world
from tests.orders.factories import volunteer
from tests.screening.factories import campaign_for_list, matched_list
from tests.supplies.factories import quarantined, stock, supplies_event

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_world(migration_seeds: None) -> World:
    return make_world()


def test_household_list_taken_delivered_and_received(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, capfd: Any
) -> None:
    w = live_world
    base = live_server.url
    event = supplies_event([w.community])
    quarantined(event, w.a.householder)
    vol = volunteer(w.a.grid, "vol-wang")

    # The household, on a phone: prove the phone, then post the list.
    home = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    home.goto(f"{base}/p/supplies/")
    home.wait_for_url(re.compile(r"/p/e/phone/"))
    home.fill("input[name=phone]", w.a.householder_phone)
    capfd.readouterr()
    home.get_by_role("button", name="发送验证码").click()
    home.locator("input[name=code]").wait_for()
    code = re.search(rf"\[SMS → {w.a.householder_phone}\].*?(\d{{6}})", capfd.readouterr().out)
    assert code
    home.fill("input[name=code]", code.group(1))
    home.get_by_role("button", name="继续").click()
    home.wait_for_url(re.compile(r"/p/supplies/$"))
    home.get_by_role("link", name="提交代购清单").click()
    home.fill("textarea[name=items]", "大米 1 袋\n鸡蛋 0 个")
    home.fill("input[name=delivery_note]", "放门口鞋柜上")
    home.get_by_role("button", name="提交清单").click()
    home.get_by_text("第2行：数量必须在 1 到 999 之间。").wait_for()
    assert home.locator("input[name=delivery_note]").input_value() == "放门口鞋柜上"
    home.screenshot(path=str(artifacts / "supplies-1-list-error.png"), full_page=True)
    home.fill("textarea[name=items]", "大米 1 袋\n鸡蛋 10 个\n酱油")
    home.fill("input[name=payment_note]", "约100元，送达后微信转账")
    home.get_by_role("button", name="提交清单").click()
    home.wait_for_url(re.compile(r"/p/supplies/$"))
    home.get_by_text("清单已提交").wait_for()
    home.screenshot(path=str(artifacts / "supplies-2-posted.png"), full_page=True)
    req = SupplyRequest.objects.get()
    order = req.order

    # The volunteer, on a phone: the list is open on the grid's board; take, buy, deliver.
    phone = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    _sign_in_workbench(phone, base, vol.username)
    phone.goto(f"{base}/w/orders/")
    row = phone.locator(f"a.order-row[data-number='{order.number}']")
    row.wait_for()
    row.click()
    phone.get_by_text("鸡蛋 10个").first.wait_for()
    phone.locator("form[data-action=take] button[type=submit]").click()
    phone.get_by_text("已完成：接单").wait_for()
    phone.locator("form[data-action=start] button[type=submit]").click()
    phone.get_by_text("已完成：开始办理").wait_for()
    finish = phone.locator("form[data-action=finish]")
    finish.locator("textarea[name=note]").fill("已买齐送到门口，共 96 元，已微信告知")
    finish.locator("button[type=submit]").click()
    phone.get_by_text("已完成：办结").wait_for()
    phone.screenshot(path=str(artifacts / "supplies-3-volunteer-delivered.png"), full_page=True)

    # The household sees who took it and confirms receipt; the whole path is done.
    home.goto(f"{base}/p/supplies/")
    card = home.locator(f".supply-card[data-request='{req.pk}']")
    assert vol.label in card.inner_text()
    card.locator("input[name=words]").fill("谢谢小王")
    card.get_by_role("button", name="我已收到").click()
    home.get_by_text("谢谢，已记录签收").wait_for()
    steps = home.locator(f".supply-card[data-request='{req.pk}'] [data-step]")
    assert [steps.nth(i).get_attribute("data-done") for i in range(5)] == ["1"] * 5
    home.screenshot(path=str(artifacts / "supplies-4-received.png"), full_page=True)
    order.refresh_from_db()
    assert (order.status, order.rating_stars) == ("rated", 5)


def test_grid_worker_works_screening_targets_on_a_phone(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    wl = matched_list(w.community, [w.a.householder, w.a.member, w.b.member], unfound=0)
    campaign = campaign_for_list(w, wl, name="外来人员协查")

    page = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    _sign_in_workbench(page, base, w.a.worker.username)
    page.goto(f"{base}/w/screening/mine/")
    page.get_by_text("还有 2 人待排查").wait_for()
    assert w.b.member.name not in page.content()
    page.screenshot(path=str(artifacts / "screening-1-my-targets.png"), full_page=True)
    first = ScreeningTarget.objects.get(campaign=campaign, person=w.a.householder)
    second = ScreeningTarget.objects.get(campaign=campaign, person=w.a.member)
    card = page.locator(f".target-card[data-target='{first.pk}']")
    card.locator("input[name=note]").fill("在家，身体无异常")
    card.locator("button[data-outcome=reached]").click()
    page.get_by_text("还有 1 人待排查").wait_for()
    page.locator(
        f".target-card[data-target='{second.pk}'] button[data-outcome=not_reachable]"
    ).click()
    page.get_by_text(f"{w.a.member.name}：联系不上。").wait_for()
    # Not reachable stays on the list to try again.
    assert page.locator(f".target-card[data-target='{second.pk}']").count() == 1
    page.screenshot(path=str(artifacts / "screening-2-after-calls.png"), full_page=True)
    page.goto(f"{base}/w/screening/{campaign.pk}/")
    row = page.locator(f"#campaign-grids tr[data-grid='{w.a.grid.pk}']")
    assert row.locator("[data-count=reached]").inner_text() == "1"
    assert row.locator("[data-count=not_reachable]").inner_text() == "1"
    page.screenshot(path=str(artifacts / "screening-3-board.png"), full_page=True)


def test_grid_worker_issues_stock_on_a_phone(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    item = stock(w.a.grid, name="医用口罩", quantity=5, low=2)
    page = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    _sign_in_workbench(page, base, w.a.worker.username)
    page.goto(f"{base}/w/supplies/stock/")
    card = page.locator(f"#stock-items [data-item='{item.pk}']")
    card.get_by_role("link", name="出库").click()
    page.fill("input[name=quantity]", "9")
    page.select_option("select[name=recipient_kind]", "checkpoint")
    page.fill("input[name=recipient]", "东门卡口")
    page.fill("input[name=reason]", "卡口值守")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("库存只有 5 盒，不能出库 9。").wait_for()
    assert page.locator("input[name=recipient]").input_value() == "东门卡口"
    page.screenshot(path=str(artifacts / "stock-1-issue-refused.png"), full_page=True)
    page.fill("input[name=quantity]", "4")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(rf"/w/supplies/stock/{item.pk}/$"))
    assert page.locator("#on-hand").inner_text() == "1"
    page.screenshot(path=str(artifacts / "stock-2-history.png"), full_page=True)
    page.goto(f"{base}/w/supplies/stock/")
    page.locator("#low-stock").wait_for()
    page.screenshot(path=str(artifacts / "stock-3-low.png"), full_page=True)
