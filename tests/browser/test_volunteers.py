"""The volunteer loop in a real browser.

A resident applies on the portal; the community head approves and sets the points rules; the
grid worker announces an activity; the volunteer signs up and checks in with the code shown on
the organiser's page, then claims points with a note; the grid worker reviews and the points
post; the volunteer redeems a reward and the worker confirms the pick-up.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from linli.volunteers.models import PointsEntry, Redemption, Volunteer
from tests.factories import PASSWORD, World, make_world
from tests.volunteers.factories import photo_bytes

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


def _staff_page(browser: Any, url: str, username: str) -> Any:
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(f"{url}/w/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))
    return page


def _resident_page(browser: Any, url: str, phone: str, capfd: Any) -> Any:
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{url}/p/login/")
    page.fill("input[name=phone]", phone)
    page.locator("form button[type=submit]").first.click()
    page.locator("input[name=code]").wait_for()
    match = re.search(rf"\[SMS → {phone}\].*?(\d{{6}})", capfd.readouterr().out)
    assert match
    page.fill("input[name=code]", match.group(1))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/p/$"))
    return page


def test_volunteer_loop(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, capfd: Any
) -> None:
    w = live_world
    url = live_server.url

    # 1. The resident applies on the portal.
    resident = _resident_page(browser, url, w.a.householder_phone, capfd)
    resident.get_by_role("link", name="申请成为志愿者").click()
    resident.get_by_label("全名").check()
    resident.fill("input[name=skills]", "水电维修，急救")
    resident.fill("input[name=availability]", "周末上午")
    resident.screenshot(path=str(artifacts / "volunteers-portal-apply.png"), full_page=True)
    resident.get_by_role("button", name="提交申请").click()
    resident.locator("#application-status").wait_for()
    assert resident.locator("#application-status").inner_text() == "已申请"

    # 2. The community head approves and sets the points rules.
    head = _staff_page(browser, url, w.head.username)
    head.get_by_role("link", name="志愿者", exact=True).first.click()
    head.wait_for_url(re.compile(r"/w/volunteers/$"))
    assert head.locator("#card-registrations .value").inner_text() == "1"
    head.screenshot(path=str(artifacts / "volunteers-home.png"), full_page=True)
    head.locator("#card-registrations").click()
    card = head.locator(".registration", has_text=w.a.householder.name)
    assert "水电维修、急救" in card.inner_text()
    head.screenshot(path=str(artifacts / "volunteers-registrations.png"), full_page=True)
    card.get_by_role("button", name="通过").click()
    head.get_by_text("已成为志愿者").wait_for()
    assert Volunteer.objects.get().status == "approved"
    head.goto(f"{url}/w/volunteers/rules/")
    for kind, points in (("activity_hour", "10"), ("order_rated", "20")):
        head.select_option("select[name=area]", str(w.community.pk))
        head.select_option("select[name=kind]", kind)
        head.fill("input[name=points]", points)
        head.get_by_role("button", name="保存").click()
        head.get_by_text("规则已保存。").wait_for()
    head.screenshot(path=str(artifacts / "volunteers-rules.png"), full_page=True)

    # 3. The grid worker announces an activity that has just begun.
    worker = _staff_page(browser, url, w.a.worker.username)
    worker.goto(f"{url}/w/volunteers/activities/new/")
    start = timezone.localtime() - dt.timedelta(minutes=10)
    worker.fill("input[name=title]", "清扫楼道")
    worker.select_option("select[name=area]", str(w.a.grid.pk))
    worker.fill("input[name=place]", "1号楼")
    worker.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    worker.fill("input[name=ends_at]", (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    worker.fill("input[name=capacity]", "5")
    worker.get_by_role("button", name="发布").click()
    code = worker.locator("#check-in-code")
    code.wait_for()
    check_in_code = code.inner_text().strip()

    # 4. The volunteer signs up and checks in with the organiser's code.
    resident.goto(f"{url}/p/")
    resident.get_by_role("link", name="申请成为志愿者").click()
    resident.get_by_role("link", name="进入志愿者服务").click()
    resident.get_by_role("link", name="找活动").click()
    act = resident.locator(".activity", has_text="清扫楼道")
    act.get_by_role("button", name="报名").click()
    resident.get_by_text("您已报名").wait_for()
    act = resident.locator(".activity", has_text="清扫楼道")
    act.locator("input[name=code]").fill(check_in_code)
    act.get_by_role("button", name="签到").click()
    resident.get_by_text("签到成功").wait_for()
    resident.screenshot(path=str(artifacts / "volunteers-me-activities.png"), full_page=True)
    worker.reload()
    assert "已签到" in worker.locator("#signups").inner_text()
    worker.screenshot(path=str(artifacts / "volunteers-activity-organiser.png"), full_page=True)

    # 5. The volunteer claims points, saying what they did.
    resident.locator(".activity", has_text="清扫楼道").get_by_role("link", name="申报积分").click()
    resident.fill("textarea[name=note]", "清扫了1号楼一至六层楼道，清理了杂物")
    resident.set_input_files(
        "input[name=photo]",
        files=[{"name": "楼道.png", "mimeType": "image/png", "buffer": photo_bytes((320, 240))}],
    )
    resident.screenshot(path=str(artifacts / "volunteers-me-claim.png"), full_page=True)
    resident.get_by_role("button", name="提交审核").click()
    resident.get_by_text("已提交审核").wait_for()
    assert resident.locator("#balance").inner_text() == "0"

    # 6. The grid worker reviews the claim and the points post.
    worker.goto(f"{url}/w/volunteers/claims/")
    claim = worker.locator(".claim", has_text="清理了杂物")
    assert "20积分" in claim.inner_text()
    photo = claim.locator("img.claim-photo")
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 320
    worker.screenshot(path=str(artifacts / "volunteers-claims.png"), full_page=True)
    claim.get_by_role("button", name="通过并入账").click()
    worker.get_by_text("积分已记入").wait_for()
    assert list(PointsEntry.objects.values_list("delta", flat=True)) == [20]

    # 7. The worker stocks the store; the volunteer redeems a reward.
    worker.goto(f"{url}/w/volunteers/store/")
    worker.fill("input[name=name]", "洗衣液")
    worker.select_option("select[name=area]", str(w.a.grid.pk))
    worker.fill("input[name=price]", "15")
    worker.fill("input[name=stock]", "3")
    worker.get_by_role("button", name="添加", exact=True).click()
    worker.get_by_text("奖品已上架。").wait_for()
    resident.goto(f"{url}/w/volunteers/me/store/")
    assert resident.locator("#balance").inner_text() == "20"
    resident.locator(".reward", has_text="洗衣液").get_by_role("button").click()
    resident.get_by_text("已为您预留").wait_for()
    assert resident.locator("#balance").inner_text() == "5"
    resident.screenshot(path=str(artifacts / "volunteers-me-store.png"), full_page=True)

    # 8. The worker hands the reward over.
    worker.goto(f"{url}/w/volunteers/redemptions/")
    row = worker.locator("tr", has_text="洗衣液")
    worker.screenshot(path=str(artifacts / "volunteers-handout.png"), full_page=True)
    row.get_by_role("button", name="已领取").click()
    worker.get_by_text("已发放。").wait_for()
    assert Redemption.objects.get().status == "picked_up"

    # The volunteer's timeline tells the whole story; the portal board shows the points.
    v = Volunteer.objects.get()
    worker.goto(f"{url}/w/volunteers/people/{v.pk}/")
    timeline = worker.locator("#timeline").inner_text()
    for step in (
        "已申请",
        "已通过",
        "报名活动",
        "活动签到",
        "申报积分",
        "积分入账",
        "兑换奖品",
        "领取奖品",
    ):
        assert step in timeline, step
    worker.screenshot(path=str(artifacts / "volunteers-detail.png"), full_page=True)
    resident.goto(f"{url}/p/volunteers/board/")
    assert resident.locator(".board-name").first.inner_text() == w.a.householder.name
    resident.screenshot(path=str(artifacts / "volunteers-portal-board.png"), full_page=True)
    for p in (resident, head, worker):
        p.close()
