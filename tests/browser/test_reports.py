"""Reports in a real browser: a community head copies a library form, edits it without code
(rename a heading, drag a column to the top, move one up with the keyboard, drop one),
previews it on real data, saves a version, makes the form and downloads the spreadsheet, whose
column order openpyxl and LibreOffice both read back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from linli.reports.models import ReportTemplate
from linli.reports.services import library_load
from tests.factories import PASSWORD, World, make_world
from tests.reports.conftest import csv_rows, soffice_text

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None, settings: Any, tmp_path: Path) -> World:
    settings.VAR_DIR = tmp_path / "var"
    w = make_world()
    library_load()
    return w


def test_head_edits_previews_and_downloads_a_form(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", w.head.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))

    # The nav leads to the library; the roster's page previews real rows.
    page.get_by_role("link", name="报表").first.click()
    page.wait_for_url(re.compile(r"/w/reports/$"))
    page.get_by_role("link", name="实有人口花名册").click()
    page.locator("[data-test=preview]").wait_for()
    assert "张建国" in page.locator("#preview").inner_text()

    # Copy it, then edit: rename 姓名 and drag it to the top by its handle, move 性别 up one
    # with the keyboard (the fallback), drop the phone column.
    page.fill("#copy-code", "our-roster")
    page.get_by_role("button", name="复制").click()
    page.wait_for_url(re.compile(r"/edit/$"))
    rows = page.locator("#columns tbody tr")
    name_row = rows.filter(has=page.locator("input[name=col_label][value='姓名']"))
    name_row.locator("input[name=col_label]").fill("居民姓名")
    name_row.locator("[data-drag-handle]").drag_to(
        rows.first.locator("[data-drag-handle]"), target_position={"x": 4, "y": 2}
    )
    sex_row = rows.filter(has=page.locator("input[name=col_label][value='性别']"))
    sex_row.get_by_role("button", name="上移").focus()
    page.keyboard.press("Enter")
    phone_row = rows.filter(has=page.locator("input[name=col_label][value='联系电话']"))
    phone_row.get_by_role("button", name="删除").click()
    order = [
        "居民姓名",
        "序号",
        "住址",
        "户主姓名",
        "性别",
        "与户主关系",
        "出生日期",
        "公民身份号码",
        "人口类别",
    ]
    assert [r.locator("input[name=col_label]").input_value() for r in rows.all()] == order
    page.fill("#f-title", "{community}居民花名册（新）")
    page.get_by_role("button", name="预览").click()
    preview = page.locator("[data-test=preview]")
    preview.wait_for()
    assert preview.locator("thead th").all_inner_texts() == order
    assert "测试社区居民花名册（新）" in preview.inner_text()
    page.screenshot(path=str(artifacts / "reports-editor.png"), full_page=True)
    page.get_by_role("button", name="保存为新版本").click()
    page.wait_for_url(re.compile(r"/w/reports/templates/\d+/$"))
    assert "已保存为第 2 版" in page.content()
    template = ReportTemplate.objects.get(code="our-roster")
    assert [c["label"] for c in template.current().spec["columns"]] == order

    # Make the form for the community and download it.
    page.select_option("#id_format", "xlsx")
    page.get_by_role("button", name="生成报表").click()
    page.wait_for_url(re.compile(r"/w/reports/renders/\d+/$"))
    download_link = page.get_by_role("link", name="下载")
    download_link.wait_for()
    page.screenshot(path=str(artifacts / "reports-render.png"), full_page=True)
    with page.expect_download() as info:
        download_link.click()
    target = tmp_path / "download.xlsx"
    info.value.save_as(target)
    sheet = openpyxl.load_workbook(target).active
    values = [c.value for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "测试社区居民花名册（新）" in values and "居民姓名" in values
    assert "张建国" in values and "李建国" in values and "联系电话" not in values
    header = next([c.value for c in row] for row in sheet.iter_rows() if row[0].value == "居民姓名")
    assert header == order
    # LibreOffice reads the same column order (and 张建国 under 居民姓名).
    lines = csv_rows(soffice_text(target, tmp_path))
    lo_header = next(r for r in lines if r and r[0] == "居民姓名")
    assert lo_header[: len(order)] == order
    assert any(r and r[0] == "张建国" for r in lines)
    page.close()
