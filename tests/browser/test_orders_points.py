"""A work order earns a volunteer points, in a real browser, as one story (issue 5's "done").

The grid's rule gives 20 points for an order rated 4 stars or more; the grid's store holds
a reward. A resident asks for help on the portal; the grid worker accepts it and dispatches it
to a volunteer the community approved; the volunteer signs in at the workbench, takes it,
starts, and finishes with a note and a photo; the resident rates it 5 stars. Nothing posts on
the rating alone: the grid worker reviews the claim the rating opened (it names and links the
order) and approves it; the volunteer sees the points, redeems a reward, and the worker hands
it over.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from linli.orders.models import OrderEvent, Status, WorkOrder
from linli.volunteers import services as vsvc
from linli.volunteers.models import (
    ClaimStatus,
    PointsClaim,
    PointsEntry,
    Redemption,
    RuleKind,
    SourceType,
    Volunteer,
)
from tests.browser.test_flows import _sign_in_portal, _sign_in_workbench
from tests.browser.test_orders import _photo, live_world  # noqa: F401  (the fixture)
from tests.factories import World
from tests.volunteers.factories import reward

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _context(browser: Any, *, phone: bool) -> Any:
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    return browser.new_context(locale="zh-CN", viewport=size)


def test_rated_order_earns_reviewed_points_spent_in_the_store(
    live_server: Any,
    live_world: World,  # noqa: F811
    browser: Any,
    artifacts: Path,
    capfd: Any,
    tmp_path: Path,
) -> None:
    w = live_world
    base = live_server.url
    rule = vsvc.rule_create(
        actor=w.head, area=w.a.grid, kind=RuleKind.ORDER_RATED, points=20, min_stars=4
    )
    soap = reward(w.a.grid, name="洗衣液", price=15, stock=2)
    # The grid worker registers a walk-in volunteer; the community head approves on the page.
    applicant = vsvc.volunteer_register(
        actor=w.a.worker, name="李志愿", phone="13900001111", area=w.a.grid, skills="水电维修"
    )
    head_ctx = _context(browser, phone=False)
    head = head_ctx.new_page()
    _sign_in_workbench(head, base, w.head.username)
    head.goto(f"{base}/w/volunteers/registrations/")
    head.locator(".registration", has_text="李志愿").get_by_role("button", name="通过").click()
    head.locator("#new-password").wait_for()
    username = head.locator("#new-username").inner_text().strip()
    password = head.locator("#new-password").inner_text().strip()
    head.screenshot(path=str(artifacts / "points-volunteer-approved.png"), full_page=True)
    head_ctx.close()
    vol = Volunteer.objects.select_related("user").get(pk=applicant.pk)
    assert vol.status == "approved" and vol.user is not None
    assert vol.user.username == username

    # 1. The resident asks for help on the portal.
    resident_ctx = _context(browser, phone=True)
    portal = resident_ctx.new_page()
    _sign_in_portal(portal, base, w.a.householder_phone, capfd)
    portal.goto(f"{base}/p/orders/new/")
    portal.select_option("select[name=category]", label="维修报修")
    portal.fill("input[name=title]", "水龙头漏水")
    portal.fill("textarea[name=description]", "厨房水龙头一直滴水，关不紧")
    portal.fill("input[name=location]", "1号楼1单元301")
    portal.get_by_role("button", name="提交诉求").click()
    portal.wait_for_url(re.compile(r"/p/orders/\d+/$"))
    order = WorkOrder.objects.get()
    assert (order.status, order.grid) == (Status.SUBMITTED, w.a.grid)

    # 2. The grid worker accepts it and dispatches it to the volunteer.
    worker_ctx = _context(browser, phone=False)
    bench = worker_ctx.new_page()
    _sign_in_workbench(bench, base, w.a.worker.username)
    bench.goto(f"{base}/w/orders/{order.pk}/")
    bench.locator("form[data-action=accept] button[type=submit]").click()
    bench.get_by_text("已完成：受理").wait_for()
    dispatch = bench.locator("form[data-action=dispatch]")
    dispatch.locator("select[name=assignee]").select_option(label=vol.user.label)
    dispatch.locator("textarea[name=note]").fill("李师傅懂水电，请今天去看看")
    dispatch.locator("button[type=submit]").click()
    bench.get_by_text("已完成：派单").wait_for()
    bench.screenshot(path=str(artifacts / "points-order-dispatched.png"), full_page=True)

    # 3. The volunteer signs in at the workbench with the account the approval made.
    vol_ctx = _context(browser, phone=True)
    phone = vol_ctx.new_page()
    phone.goto(f"{base}/w/login/")
    phone.fill("input[name=username]", username)
    phone.fill("input[name=password]", password)
    phone.locator("form button[type=submit]").first.click()
    phone.wait_for_url(re.compile(r"/w/volunteers/me/$"))
    assert phone.locator("#balance").inner_text() == "0"
    phone.locator(".volunteer-menu").get_by_role("link", name="工单").click()
    phone.wait_for_url(re.compile(r"/w/orders/"))
    phone.locator(f"a.order-row[data-number='{order.number}']").click()
    phone.wait_for_url(re.compile(rf"/w/orders/{order.pk}/$"))
    phone.locator("form[data-action=take] button[type=submit]").click()
    phone.get_by_text("已完成：接单").wait_for()
    phone.locator("form[data-action=start] button[type=submit]").click()
    phone.get_by_text("已完成：开始办理").wait_for()
    finish = phone.locator("form[data-action=finish]")
    finish.locator("textarea[name=note]").fill("更换了水龙头阀芯，试水半小时不再滴漏")
    finish.locator("input[name=minutes_spent]").fill("45")
    finish.locator("input[name=photo]").set_input_files(str(_photo(tmp_path, "tap.jpg")))
    finish.locator("button[type=submit]").click()
    phone.get_by_text("已完成：办结").wait_for()
    phone.screenshot(path=str(artifacts / "points-volunteer-done.png"), full_page=True)

    # 4. The resident rates it 5 stars: a claim opens, nothing posts yet.
    portal.goto(f"{base}/p/orders/{order.pk}/")
    rate = portal.locator("#rate-form")
    rate.locator("label[for=stars5]").click()
    rate.locator("input[name=words]").fill("修得很好，谢谢李师傅")
    rate.get_by_role("button", name="提交评价").click()
    portal.get_by_text("感谢您的评价").wait_for()
    claim = PointsClaim.objects.get()
    assert (claim.volunteer_id, claim.source_type, claim.source_id, claim.points) == (
        vol.pk,
        SourceType.ORDER,
        order.pk,
        20,
    )
    assert (claim.status, vsvc.balance(vol)) == (ClaimStatus.PENDING, 0)
    phone.goto(f"{base}/w/volunteers/me/points/")
    assert phone.locator("#balance").inner_text() == "0"

    # 5. The grid worker reviews the claim: it names the order and links to its trace.
    bench.goto(f"{base}/w/volunteers/claims/")
    card = bench.locator(f".claim[data-claim='{claim.pk}']")
    assert order.number in card.inner_text()
    assert "20积分" in card.inner_text()
    link = card.locator("a.claim-order")
    assert link.get_attribute("href") == f"/w/orders/{order.pk}/"
    bench.screenshot(path=str(artifacts / "points-claims.png"), full_page=True)
    link.click()
    bench.wait_for_url(re.compile(rf"/w/orders/{order.pk}/$"))
    finished = bench.locator(".order-event[data-action=finish]")
    assert "更换了水龙头阀芯" in finished.inner_text()
    assert finished.locator("img.order-photo").count() == 1
    bench.go_back()
    card = bench.locator(f".claim[data-claim='{claim.pk}']")
    card.get_by_role("button", name="通过并入账").click()
    bench.get_by_text("积分已记入").wait_for()
    assert bench.locator(f".claim[data-claim='{claim.pk}']").count() == 0

    # 6. The volunteer sees the points and redeems a reward; the worker hands it over.
    phone.goto(f"{base}/w/volunteers/me/points/")
    assert phone.locator("#balance").inner_text() == "20"
    phone.screenshot(path=str(artifacts / "points-volunteer-balance.png"), full_page=True)
    phone.locator(".volunteer-menu").get_by_role("link", name="商城").click()
    phone.locator(".reward", has_text="洗衣液").get_by_role("button").click()
    phone.get_by_text("已为您预留").wait_for()
    assert phone.locator("#balance").inner_text() == "5"
    phone.screenshot(path=str(artifacts / "points-volunteer-store.png"), full_page=True)
    bench.goto(f"{base}/w/volunteers/redemptions/")
    row = bench.locator("tr", has_text="洗衣液")
    assert "李志愿" in row.inner_text()
    row.get_by_role("button", name="已领取").click()
    bench.get_by_text("已发放。").wait_for()
    bench.screenshot(path=str(artifacts / "points-handed-over.png"), full_page=True)

    # The database tells the same story.
    order.refresh_from_db()
    assert (order.status, order.rating_stars, order.assignee_id) == (Status.RATED, 5, vol.user.pk)
    assert list(OrderEvent.objects.filter(order=order).values_list("action", flat=True)) == [
        "submit",
        "accept",
        "dispatch",
        "take",
        "start",
        "finish",
        "rate",
    ]
    claim.refresh_from_db()
    assert (claim.status, claim.reviewed_by_id, claim.rule_id) == (
        ClaimStatus.APPROVED,
        w.a.worker.pk,
        rule.pk,
    )
    assert list(
        PointsEntry.objects.filter(volunteer=vol).order_by("id").values_list("delta", flat=True)
    ) == [20, -15]
    assert claim.entry is not None and claim.entry.delta == 20
    assert vsvc.balance(vol) == 5
    redemption = Redemption.objects.get()
    assert (redemption.volunteer_id, redemption.reward_id, redemption.status) == (
        vol.pk,
        soap.pk,
        "picked_up",
    )
    soap.refresh_from_db()
    assert soap.stock == 1
    for ctx in (vol_ctx, worker_ctx, resident_ctx):
        ctx.close()
