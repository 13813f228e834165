"""The flows people really follow, in a real browser.

A grid worker walks down to the building view (楼栋图) and a dwelling; a person form keeps what
was typed when the national ID is wrong; the workbench stays Chinese for an English browser
until the user switches; a resident's correction travels from the portal to the workbench and
back; the community head reads the command view's totals and charts and drills down to a grid.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from linli.register.models import Person
from tests.factories import PASSWORD, World, make_national_id, make_phone, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


def _sign_in_workbench(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    # A volunteer lands on their own menu; everyone else on the jurisdiction page.
    page.wait_for_url(re.compile(r"/w/(volunteers/me/)?$"))


def _sign_in_portal(page: Any, base: str, phone: str, capfd: Any) -> None:
    page.goto(f"{base}/p/login/")
    page.fill("input[name=phone]", phone)
    page.locator("form button[type=submit]").first.click()
    page.locator("input[name=code]").wait_for()
    printed = capfd.readouterr().out
    match = re.search(rf"\[SMS → {phone}\].*?(\d{{6}})", printed)
    assert match, printed
    page.fill("input[name=code]", match.group(1))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/p/$"))


def test_grid_worker_walks_down_to_building_view_and_dwelling(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in_workbench(page, base, w.a.worker.username)

    # Home → the grid's buildings → the building card.
    page.get_by_role("link", name=re.compile("查看本网格楼栋")).click()
    page.wait_for_url(re.compile(rf"/w/areas/{w.a.grid.pk}/$"))
    assert page.locator("h1").inner_text().startswith(w.a.grid.name)
    assert page.get_by_text(w.b.building.name, exact=True).count() == 0
    page.locator("a.building-card", has_text=w.a.building.name).click()
    page.wait_for_url(re.compile(rf"/w/buildings/{w.a.building.pk}/$"))

    # The floor plan: floor 3 holds 301 (lived in) and 302 (empty).
    plan = page.locator("table.floor-plan")
    plan.wait_for()
    row = plan.locator("tr", has=page.locator("th", has_text="3"))
    cell_301 = row.locator("td.dwelling-cell", has_text="301")
    assert cell_301.count() == 1
    assert "occ-occupied" in (cell_301.get_attribute("class") or "")
    assert "2" in cell_301.inner_text()  # two residents
    assert "occ-vacant" in (
        row.locator("td.dwelling-cell", has_text="302").get_attribute("class") or ""
    )
    page.screenshot(path=str(artifacts / "flow-building-view.png"), full_page=True)

    cell_301.locator("a").click()
    page.wait_for_url(re.compile(rf"/w/dwellings/{w.a.dwelling.pk}/$"))
    household = page.locator(
        ".card", has=page.locator(f"a[href='/w/households/{w.a.household.pk}/']")
    )
    household.first.wait_for()
    members = household.first.locator("li.list-group-item")
    assert members.count() == 2
    assert members.nth(0).get_by_role("link").inner_text() == w.a.householder.name == "张建国"
    assert members.nth(1).get_by_role("link").inner_text() == w.a.member.name
    assert w.a.householder_id_number not in page.content()
    page.screenshot(path=str(artifacts / "flow-dwelling.png"), full_page=True)

    # Grid B's building is not there for grid A's worker.
    response = page.goto(f"{base}/w/buildings/{w.b.building.pk}/")
    assert response is not None and response.status == 404
    assert w.b.building.name not in page.content()
    page.close()


def test_person_form_keeps_what_was_typed_and_shows_id_error(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in_workbench(page, base, w.a.worker.username)
    page.goto(f"{base}/w/persons/new/?household={w.a.household.pk}")

    good_id = make_national_id(male=False)
    bad_id = good_id[:-1] + ("1" if good_id[-1] != "1" else "2")
    phone = make_phone()
    page.fill("input[name=name]", "王秀英")
    page.fill("input[name=national_id]", bad_id)
    page.fill("input[name=phone]", phone)
    page.select_option("select[name=relation]", "spouse")
    page.get_by_role("button", name="登记", exact=True).click()

    # Same page again, with the error under the ID field and nothing lost.
    error = page.locator("#id_national_id ~ .invalid-feedback")
    error.wait_for()
    assert "身份证号校验位错误" in error.inner_text()
    assert page.input_value("input[name=name]") == "王秀英"
    assert page.input_value("input[name=phone]") == phone
    assert page.input_value("select[name=relation]") == "spouse"
    assert page.input_value("input[name=national_id]") == bad_id
    assert not Person.objects.filter(name="王秀英").exists()
    page.screenshot(path=str(artifacts / "flow-person-form-error.png"), full_page=True)

    page.fill("input[name=national_id]", good_id)
    page.get_by_role("button", name="登记", exact=True).click()
    # Registering into a household goes back to the household, ready for the next member.
    page.wait_for_url(re.compile(rf"/w/households/{w.a.household.pk}/$"))
    person = Person.objects.get(name="王秀英")
    page.locator(f"a[href='/w/persons/{person.pk}/']").first.click()
    page.wait_for_url(re.compile(rf"/w/persons/{person.pk}/$"))
    assert page.locator("h1").inner_text().startswith("王秀英")
    shown = page.locator("#reveal-national_id .masked").inner_text().strip()
    assert shown == good_id[:4] + "*" * 10 + good_id[-4:] == person.id_masked
    assert good_id not in page.content()
    assert phone not in page.content()
    page.screenshot(path=str(artifacts / "flow-person-created.png"), full_page=True)
    page.close()


def test_person_timeline_names_the_changed_detail_in_chinese(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in_workbench(page, base, w.a.worker.username)
    page.goto(f"{base}/w/persons/{w.a.member.pk}/edit/")
    page.fill("input[name=name]", "张小安")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(rf"/w/persons/{w.a.member.pk}/$"))
    page.get_by_text("修改已保存").wait_for()
    latest = page.locator("ul.timeline li").first.inner_text()
    page.screenshot(path=str(artifacts / "flow-person-edited.png"), full_page=True)
    page.close()
    assert "修改了：姓名" in latest, latest


def _nav_labels(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#mainnav .nav-link").all_inner_texts()]


def test_workbench_is_chinese_for_english_browser_until_switched(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    _sign_in_workbench(page, base, w.a.worker.username)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert _nav_labels(page)[:2] == ["辖区", "人员"]
    assert page.locator("h1").inner_text() == "我的辖区"

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_url(re.compile(r"/w/$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert _nav_labels(page)[:2] == ["Jurisdiction", "Persons"]
    assert page.locator("h1").inner_text() == "My jurisdiction"
    page.screenshot(path=str(artifacts / "flow-language-en.png"), full_page=True)

    # The choice sticks across pages, then switching back gives Chinese again.
    page.goto(f"{base}/w/persons/")
    assert _nav_labels(page)[:2] == ["Jurisdiction", "Persons"]
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    page.wait_for_url(re.compile(r"/w/persons/$"))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert _nav_labels(page)[:2] == ["辖区", "人员"]
    page.close()


def test_resident_correction_accepted_by_grid_worker(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, capfd: Any
) -> None:
    w = live_world
    base = live_server.url
    member = w.a.member
    new_name = "张小安"

    # The resident proposes a new name for a member of the household.
    resident_ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    portal = resident_ctx.new_page()
    _sign_in_portal(portal, base, w.a.householder_phone, capfd)
    portal.locator(f"li.member[data-person='{member.pk}'] a").click()
    portal.wait_for_url(re.compile(rf"/p/correct/{member.pk}/$"))
    portal.fill("input[name=name]", new_name)
    portal.get_by_role("button", name="提交审核").click()
    portal.wait_for_url(re.compile(r"/p/(#corrections)?$"))
    pending = portal.locator(".correction", has_text=new_name)
    pending.wait_for()
    assert pending.get_attribute("data-status") == "pending"
    assert "待审核" in pending.inner_text()
    portal.screenshot(path=str(artifacts / "flow-portal-correction-pending.png"), full_page=True)

    # Grid A's worker accepts it on the workbench, in another browser context.
    worker_ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    bench = worker_ctx.new_page()
    _sign_in_workbench(bench, base, w.a.worker.username)
    bench.get_by_role("button", name="登记管理").click()
    bench.get_by_role("link", name="信息更正").first.click()
    bench.wait_for_url(re.compile(r"/w/corrections/$"))
    card = bench.locator(".card", has_text=new_name)
    card.wait_for()
    assert member.name in card.inner_text()
    bench.screenshot(path=str(artifacts / "flow-corrections.png"), full_page=True)
    card.get_by_role("button", name=re.compile("采纳")).click()
    bench.wait_for_url(re.compile(r"/w/corrections/$"))
    bench.get_by_text("已采纳该更正").wait_for()
    assert bench.locator(".card", has_text=new_name).count() == 0

    bench.goto(f"{base}/w/persons/{member.pk}/")
    assert bench.locator("h1").inner_text().startswith(new_name)
    name_row = bench.locator("table tr", has=bench.locator("td", has_text=re.compile("^姓名$")))
    assert name_row.locator("td").nth(1).inner_text() == "居民本人更正"
    bench.screenshot(path=str(artifacts / "flow-person-corrected.png"), full_page=True)
    member.refresh_from_db()
    assert member.name == new_name and member.provenance["name"]["source"] == "resident"

    # The resident sees the proposal accepted.
    portal.reload()
    accepted = portal.locator(".correction", has_text=new_name)
    accepted.wait_for()
    assert accepted.get_attribute("data-status") == "accepted"
    assert "已采纳" in accepted.inner_text()
    member_card = portal.locator(f"li.member[data-person='{member.pk}'] .fs-5")
    assert member_card.inner_text() == new_name
    portal.screenshot(path=str(artifacts / "flow-portal-correction-accepted.png"), full_page=True)
    worker_ctx.close()
    resident_ctx.close()


def test_community_head_reads_command_view_and_drills_down(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    _sign_in_workbench(page, base, w.head.username)

    page.goto(f"{base}/c/")
    totals = page.locator("#command-totals")
    assert totals.locator("[data-count=persons]").inner_text() == "4"
    assert totals.locator("[data-count=households]").inner_text() == "2"
    charts = page.locator(".chart")
    assert charts.count() >= 3
    for i in range(charts.count()):
        charts.nth(i).locator("svg, canvas").first.wait_for()
    breakdown = page.locator("#command-breakdown")
    assert (
        breakdown.locator(f"tr[data-node='{w.a.grid.pk}'] [data-count=persons]").inner_text() == "2"
    )
    assert (
        breakdown.locator(f"tr[data-node='{w.b.grid.pk}'] [data-count=persons]").inner_text() == "2"
    )
    page.screenshot(path=str(artifacts / "flow-command-community.png"), full_page=True)

    breakdown.get_by_role("link", name=w.a.grid.name).click()
    page.wait_for_url(re.compile(rf"/c/\?area={w.a.grid.pk}$"))
    assert totals.locator("[data-count=persons]").inner_text() == "2"
    assert totals.locator("[data-count=households]").inner_text() == "1"
    page.locator("#chart-breakdown svg, #chart-breakdown canvas").first.wait_for()
    assert w.a.grid.name in page.locator("#command-breadcrumb").inner_text()
    # Below a grid the breakdown is per building: grid A's building only.
    rows = page.locator("#command-breakdown tbody").inner_text()
    assert w.a.building.name in rows and w.b.building.name not in rows
    page.screenshot(path=str(artifacts / "flow-command-grid.png"), full_page=True)
    assert errors == []
    page.close()
