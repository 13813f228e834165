"""Work orders in a real browser.

1. A resident asks for help on the portal with a photo; the grid worker accepts it and
   dispatches it to a volunteer; the volunteer, on a phone, takes it, starts, and finishes with
   a note and a photo; the resident rates it.
2. An order nobody handles passes its time limit, climbs to the community (the escalation task,
   run on a clock moved forward), is whistled to a department by the community head, and the
   department's liaison answers; the community closes it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from linli.orders import services as svc
from linli.orders.models import Level, OrderEvent, Status, WorkOrder
from tests.browser.test_flows import _sign_in_portal, _sign_in_workbench
from tests.factories import World, make_world
from tests.orders.factories import department, department_user, jpeg_bytes, order_in, volunteer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None, settings: Any, tmp_path: Path) -> World:
    settings.LINLI_ORDER_FILES_DIR = tmp_path / "order-files"
    # A transactional test empties the tables afterwards, seeded categories included.
    seed = importlib.import_module("linli.orders.migrations.0002_seed_categories")
    seed.seed(apps, None)
    return make_world()


def _photo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(jpeg_bytes(exif=True, size=(320, 240)))
    return path


def test_resident_request_dispatched_to_volunteer_done_and_rated(
    live_server: Any,
    live_world: World,
    browser: Any,
    artifacts: Path,
    capfd: Any,
    tmp_path: Path,
) -> None:
    w = live_world
    base = live_server.url
    vol = volunteer(w.a.grid, "vol-li")

    # The resident, on a phone, asks for help with a photo.
    resident_ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    portal = resident_ctx.new_page()
    _sign_in_portal(portal, base, w.a.householder_phone, capfd)
    portal.get_by_role("link", name=re.compile("我要求助")).first.click()
    portal.wait_for_url(re.compile(r"/p/orders/$"))
    portal.get_by_role("link", name=re.compile("我要求助")).click()
    portal.wait_for_url(re.compile(r"/p/orders/new/$"))
    portal.select_option("select[name=category]", label="维修报修")
    portal.fill("input[name=title]", "楼道灯不亮")
    portal.fill("textarea[name=description]", "三楼楼道灯坏了一周，晚上看不见台阶")
    portal.fill("input[name=location]", "1号楼1单元三楼")
    portal.set_input_files("input[name=photo]", str(_photo(tmp_path, "lamp.jpg")))
    portal.screenshot(path=str(artifacts / "orders-portal-new.png"), full_page=True)
    portal.get_by_role("button", name="提交诉求").click()
    portal.wait_for_url(re.compile(r"/p/orders/\d+/$"))
    order = WorkOrder.objects.get()
    assert (order.status, order.grid, order.source) == (Status.SUBMITTED, w.a.grid, "portal")
    assert "已提交" in portal.locator(".order-status").inner_text()
    assert portal.locator("img.order-photo").count() == 1
    portal.screenshot(path=str(artifacts / "orders-portal-submitted.png"), full_page=True)

    # The grid worker accepts and dispatches it to the volunteer.
    worker_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    bench = worker_ctx.new_page()
    _sign_in_workbench(bench, base, w.a.worker.username)
    bench.locator("#mainnav").get_by_role("link", name="工单").click()
    bench.wait_for_url(re.compile(r"/w/orders/$"))
    bench.get_by_role("link", name=re.compile("辖区工单")).click()
    row = bench.locator(f"a.order-row[data-number='{order.number}']")
    row.wait_for()
    bench.screenshot(path=str(artifacts / "orders-board-grid.png"), full_page=True)
    row.click()
    bench.wait_for_url(re.compile(rf"/w/orders/{order.pk}/$"))
    bench.screenshot(path=str(artifacts / "orders-detail-submitted.png"), full_page=True)
    bench.locator("form[data-action=accept] button[type=submit]").click()
    bench.get_by_text("已完成：受理").wait_for()
    dispatch = bench.locator("form[data-action=dispatch]")
    dispatch.locator("select[name=assignee]").select_option(label=vol.label)
    dispatch.locator("textarea[name=note]").fill("请今天下午去看看")
    dispatch.locator("button[type=submit]").click()
    bench.get_by_text("已完成：派单").wait_for()
    assert "已派单" in bench.locator(".order-status").inner_text()
    bench.screenshot(path=str(artifacts / "orders-detail-dispatched.png"), full_page=True)

    # The volunteer, on a phone: my orders → take → start → finish with a note and a photo.
    vol_ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    phone = vol_ctx.new_page()
    _sign_in_workbench(phone, base, vol.username)
    phone.goto(f"{base}/w/orders/")
    mine = phone.locator(f"a.order-row[data-number='{order.number}']")
    mine.wait_for()
    phone.screenshot(path=str(artifacts / "orders-volunteer-board.png"), full_page=True)
    mine.click()
    phone.locator("form[data-action=take] button[type=submit]").click()
    phone.get_by_text("已完成：接单").wait_for()
    phone.locator("form[data-action=start] button[type=submit]").click()
    phone.get_by_text("已完成：开始办理").wait_for()
    finish = phone.locator("form[data-action=finish]")
    # A photo alone is refused: the note is required, and what was chosen is kept.
    finish.locator("input[name=minutes_spent]").fill("40")
    finish.locator("input[name=photo]").set_input_files(str(_photo(tmp_path, "fixed.jpg")))
    finish.locator("button[type=submit]").click()
    phone.get_by_text("照片不能代替办理记录").wait_for()
    finish = phone.locator("form[data-action=finish]")
    assert finish.locator("input[name=minutes_spent]").input_value() == "40"
    phone.screenshot(path=str(artifacts / "orders-volunteer-note-required.png"), full_page=True)
    finish.locator("textarea[name=note]").fill("更换了声控灯泡，试过三次都亮")
    finish.locator("input[name=photo]").set_input_files(str(_photo(tmp_path, "fixed.jpg")))
    finish.locator("button[type=submit]").click()
    phone.get_by_text("已完成：办结").wait_for()
    phone.screenshot(path=str(artifacts / "orders-volunteer-done.png"), full_page=True)
    done = OrderEvent.objects.get(order=order, action="finish")
    assert (done.note, done.minutes_spent, done.actor, done.attachments.count()) == (
        "更换了声控灯泡，试过三次都亮",
        40,
        vol,
        1,
    )

    # The resident rates it on the portal.
    portal.goto(f"{base}/p/orders/{order.pk}/")
    rate = portal.locator("#rate-form")
    rate.wait_for()
    rate.locator("label[for=stars5]").click()
    rate.locator("input[name=words]").fill("很及时，谢谢小李")
    rate.get_by_role("button", name="提交评价").click()
    portal.get_by_text("感谢您的评价").wait_for()
    assert "已评价" in portal.locator(".order-status").inner_text()
    assert portal.locator(".order-timeline img.order-photo").count() == 2
    portal.screenshot(path=str(artifacts / "orders-portal-rated.png"), full_page=True)
    order.refresh_from_db()
    assert (order.status, order.rating_stars, order.rating_words, order.assignee) == (
        Status.RATED,
        5,
        "很及时，谢谢小李",
        vol,
    )
    assert [e.action for e in OrderEvent.objects.filter(order=order).order_by("at", "id")] == [
        "submit",
        "accept",
        "dispatch",
        "take",
        "start",
        "finish",
        "rate",
    ]
    for ctx in (vol_ctx, worker_ctx, resident_ctx):
        ctx.close()


def test_unhandled_order_escalates_and_is_whistled_to_a_department(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    liaison = department_user(w, "urban-liaison")
    dept = department(w, users=(liaison,))
    filed = timezone.now() - dt.timedelta(hours=60)
    order = order_in(w, now=filed, code="environment", title="小区门口占道堆放杂物")
    # Nobody at the grid handles it; the escalation task runs past the 48-hour grid limit.
    assert svc.orders_escalate_overdue(now=filed + dt.timedelta(hours=47)) == {
        "escalated": 0,
        "whistled": 0,
        "left": 0,
    }
    assert svc.orders_escalate_overdue(now=filed + dt.timedelta(hours=49))["escalated"] == 1
    order.refresh_from_db()
    assert (order.level, order.status) == (Level.COMMUNITY, Status.SUBMITTED)

    # The grid worker no longer has it to act on; the community head does, and whistles.
    head_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    bench = head_ctx.new_page()
    _sign_in_workbench(bench, base, w.head.username)
    bench.goto(f"{base}/w/orders/?board=grid")
    row = bench.locator(f"a.order-row[data-number='{order.number}']")
    row.wait_for()
    assert "社区" in row.inner_text()
    bench.screenshot(path=str(artifacts / "orders-board-community.png"), full_page=True)
    row.click()
    bench.wait_for_url(re.compile(rf"/w/orders/{order.pk}/$"))
    escalated = bench.locator(".order-event[data-action=escalate]")
    assert "系统" in escalated.inner_text() and "已超过办理时限" in escalated.inner_text()
    whistle = bench.locator("form[data-action=whistle]")
    whistle.locator("select[name=department]").select_option(str(dept.pk))
    whistle.locator("textarea[name=note]").fill("占道堆放已超一周，请城管执法队清理")
    whistle.locator("button[type=submit]").click()
    bench.get_by_text("已完成：吹哨职能部门").wait_for()
    assert "已吹哨至职能部门" in bench.locator(".order-status").inner_text()
    bench.screenshot(path=str(artifacts / "orders-detail-whistled.png"), full_page=True)

    # The department's liaison sees it in the department queue and answers.
    dept_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    desk = dept_ctx.new_page()
    _sign_in_workbench(desk, base, liaison.username)
    desk.locator("#mainnav").get_by_role("link", name="工单").click()
    queue = desk.locator(f"a.order-row[data-number='{order.number}']")
    queue.wait_for()
    assert desk.locator(".board-tabs .nav-link.active").inner_text().startswith("部门待办")
    desk.screenshot(path=str(artifacts / "orders-department-queue.png"), full_page=True)
    queue.click()
    answer = desk.locator("form[data-action=answer]")
    answer.locator("textarea[name=note]").fill("已于今日上午清理完毕，并告知商户")
    answer.locator("button[type=submit]").click()
    desk.get_by_text("已完成：报到答复").wait_for()
    desk.screenshot(path=str(artifacts / "orders-department-answered.png"), full_page=True)

    # Back at the community: it closes the order.
    bench.reload()
    assert "部门已报到答复" in bench.locator(".order-status").inner_text()
    bench.locator("form[data-action=close] button[type=submit]").click()
    bench.get_by_text("已完成：关闭工单").wait_for()
    order.refresh_from_db()
    assert (order.status, order.department, order.level) == (
        Status.CLOSED,
        dept,
        Level.COMMUNITY,
    )
    assert [e.action for e in OrderEvent.objects.filter(order=order).order_by("at", "id")] == [
        "submit",
        "escalate",
        "whistle",
        "answer",
        "close",
    ]
    bench.screenshot(path=str(artifacts / "orders-detail-closed.png"), full_page=True)
    head_ctx.close()
    dept_ctx.close()


def test_worker_files_a_pasted_wechat_message_and_reads_the_statistics(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in_workbench(page, base, w.a.worker.username)
    page.goto(f"{base}/w/orders/")
    page.get_by_role("link", name=re.compile("代居民提交诉求")).click()
    page.wait_for_url(re.compile(r"/w/orders/new/$"))
    page.select_option("select[name=channel]", "wechat")
    page.fill("input[name=contact_name]", "王阿姨")
    page.fill("input[name=phone]", "1370000")  # too short: refused, everything kept
    page.select_option("select[name=category]", label="代购代办")
    page.fill("input[name=title]", "帮独居老人买药")
    page.fill("textarea[name=description]", "【3号楼群】王阿姨：降压药吃完了，腿不方便下楼")
    page.get_by_role("button", name="提交工单").click()
    page.locator("#id_phone ~ .invalid-feedback").wait_for()
    assert page.input_value("input[name=title]") == "帮独居老人买药"
    assert "降压药" in page.input_value("textarea[name=description]")
    page.screenshot(path=str(artifacts / "orders-worker-new-error.png"), full_page=True)
    assert WorkOrder.objects.count() == 0
    page.fill("input[name=phone]", "13700001234")
    page.get_by_role("button", name="提交工单").click()
    page.wait_for_url(re.compile(r"/w/orders/\d+/$"))
    order = WorkOrder.objects.get()
    assert (order.channel, order.contact_name, order.phone_masked) == (
        "wechat",
        "王阿姨",
        "137****1234",
    )
    assert "13700001234" not in page.content()
    page.locator("form[data-action=accept] button[type=submit]").click()
    page.get_by_text("已完成：受理").wait_for()
    page.goto(f"{base}/w/orders/stats/")
    grid_table = page.locator("table[data-table=grid]")
    grid_table.wait_for()
    assert w.a.grid.name in grid_table.inner_text()
    page.screenshot(path=str(artifacts / "orders-stats.png"), full_page=True)
    page.close()


def test_district_admin_adds_and_edits_a_category(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    from linli.orders.models import OrderCategory

    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in_workbench(page, base, w.admin.username)
    page.goto(f"{base}/w/orders/")
    page.get_by_role("link", name="类别", exact=True).click()
    page.wait_for_url(re.compile(r"/w/orders/categories/$"))
    assert page.locator("tr.order-category[data-code=repair]").count() == 1
    page.get_by_role("link", name=re.compile("新增工单类别")).click()
    page.fill("input[name=code]", "宠物")  # refused: the code must be Latin
    page.fill("input[name=name]", "宠物扰民")
    page.fill("input[name=grid_hours]", "12")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("代码请使用 1 到 32 个小写字母、数字、- 或 _。").wait_for()
    assert page.input_value("input[name=name]") == "宠物扰民"
    assert page.input_value("input[name=grid_hours]") == "12"
    page.screenshot(path=str(artifacts / "orders-category-error.png"), full_page=True)
    page.fill("input[name=code]", "pets")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("类别“宠物扰民”已保存。").wait_for()
    row = page.locator("tr.order-category[data-code=pets]")
    assert "12 小时" in row.inner_text() and "启用" in row.inner_text()
    row.get_by_role("link", name="修改").click()
    page.uncheck("input[name=is_active]")
    page.fill("input[name=community_hours]", "24")
    page.screenshot(path=str(artifacts / "orders-category-edit.png"), full_page=True)
    page.get_by_role("button", name="保存").click()
    page.get_by_text("类别“宠物扰民”已保存。").wait_for()
    assert "停用" in page.locator("tr.order-category[data-code=pets]").inner_text()
    page.screenshot(path=str(artifacts / "orders-categories.png"), full_page=True)
    cat = OrderCategory.objects.get(code="pets")
    assert (cat.grid_hours, cat.community_hours, cat.is_active) == (12, 24, False)
    page.close()
