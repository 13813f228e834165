"""A grid worker imports a real Excel roster through the workbench, in a real browser.

Upload an .xlsx with a title row and Chinese headers → fix the one column that was not
recognised → save the mapping as a profile → preview → commit → the progress bar at 100% →
download the rejected rows. Next month's file from the same source goes straight to the
preview, with no mapping questions. A running import's bar moves by polling and the page
turns into the result when the run ends.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from linli.intake import jobs
from linli.intake.models import ImportBatch, ImportStatus, MappingProfile
from linli.register.models import Person
from tests.factories import PASSWORD, World, make_national_id, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# 住户 is not a header the mapping knows: the worker tells it that this is the name.
NEW_ID = make_national_id()
HEADERS = ["序号", "住户", "公民身份号码", "联系电话", "楼号", "单元", "房号", "与户主关系"]


@pytest.fixture
def live_world(transactional_db: None, tmp_path: Path, settings: Any) -> World:
    settings.VAR_DIR = tmp_path / "var"
    return make_world()


def _roster(path: Path, world: World, title: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws.append(HEADERS)
    ws.append([1, "王新", NEW_ID, "13712345678", "1号楼", "1单元", "302", "户主"])
    ws.append([2, "张建国", world.a.householder_id_number, "", "1", "1", "301", "户主"])
    ws.append([3, "钱无", "", "", "1号楼", "1单元", "999", "户主"])
    wb.save(path)
    return path


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))


def _upload(page: Any, path: Path) -> None:
    page.locator("#mainnav").get_by_role("button", name="登记管理").click()
    page.locator("#mainnav").get_by_role("link", name="数据导入", exact=True).click()
    page.get_by_role("link", name=re.compile("导入文件")).click()
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=source]", "网格花名册")
    page.get_by_role("button", name="上传并继续").click()


def test_grid_worker_imports_a_roster_and_next_month_needs_no_questions(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    w = live_world
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in(page, base, w.a.worker.username)

    # 1. Upload.
    page.locator("#mainnav").get_by_role("button", name="登记管理").click()
    page.locator("#mainnav").get_by_role("link", name="数据导入", exact=True).click()
    page.screenshot(path=str(artifacts / "intake-1-history-empty.png"), full_page=True)
    page.get_by_role("link", name=re.compile("导入文件")).click()
    page.screenshot(path=str(artifacts / "intake-2-upload.png"), full_page=True)
    page.go_back()
    _upload(page, _roster(tmp_path / "十一月花名册.xlsx", w, "春风社区居民花名册（11月）"))

    # 2. The mapping: the header row found under the title, 住户 not recognised.
    page.wait_for_url(re.compile(r"/w/intake/\d+/mapping/$"))
    assert "表头在第 2 行" in page.inner_text("main")
    row = page.locator("tr[data-column='1']")
    assert "未识别" in row.inner_text()
    assert "王新" in row.inner_text()
    ids = page.locator("tr[data-column='2']").inner_text()
    assert "**********" in ids and w.a.householder_id_number not in ids
    row.locator("select").select_option("name")
    page.fill("input[name=profile_name]", "网格月报")
    page.screenshot(path=str(artifacts / "intake-3-mapping.png"), full_page=True)
    page.get_by_role("button", name="预览导入结果").click()

    # 3. The preview: counts and the rejected row with its reason; nothing written yet.
    page.wait_for_url(re.compile(r"/w/intake/\d+/$"))
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.PREVIEWED
    counts = page.locator(".import-counts").inner_text()
    assert re.search(r"新建\s+1", counts) and re.search(r"未通过\s+1", counts), counts
    assert "1号楼 1单元 999" in page.locator("table.rejected-rows").inner_text()
    assert not Person.objects.filter(name="王新").exists()
    page.screenshot(path=str(artifacts / "intake-4-preview.png"), full_page=True)

    # 4. Commit: the bar reaches 100%, the person is in the register.
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_url(re.compile(rf"/w/intake/{batch.pk}/$"))
    assert page.locator(".progress-bar").inner_text().strip() == "100%"
    assert "3 / 3 行" in page.locator("#import-progress").inner_text()
    assert "已于" in page.inner_text("main")
    assert Person.objects.filter(name="王新").count() == 1
    page.screenshot(path=str(artifacts / "intake-5-committed.png"), full_page=True)

    # 5. The rejected rows come back as a file the worker can fix.
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("下载未导入的行")).click()
    download = info.value
    assert download.suggested_filename == "十一月花名册-未导入的行.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == [*HEADERS, "原因"]
    assert rows[1][1] == "钱无" and "999" in rows[1][-1]

    # 6. Next month's file from the same source: straight to the preview.
    assert MappingProfile.objects.get().name == "网格月报"
    _upload(page, _roster(tmp_path / "十二月花名册.xlsx", w, "春风社区居民花名册（12月）"))
    page.wait_for_url(re.compile(r"/w/intake/\d+/$"))
    assert "mapping" not in page.url
    assert "网格月报" in page.inner_text("main")
    assert "确认提交" in page.inner_text("main")
    counts = page.locator(".import-counts").inner_text()
    assert re.search(r"无变化\s+2", counts), counts
    page.screenshot(path=str(artifacts / "intake-6-next-month.png"), full_page=True)

    # 7. The history shows both imports; the profile page shows the profile.
    page.locator("#mainnav").get_by_role("button", name="登记管理").click()
    page.locator("#mainnav").get_by_role("link", name="数据导入", exact=True).click()
    assert page.locator("tbody tr").count() == 2
    page.screenshot(path=str(artifacts / "intake-7-history.png"), full_page=True)
    page.get_by_role("link", name="映射方案").click()
    assert "住户 → 姓名" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "intake-8-profiles.png"), full_page=True)


def test_a_running_import_shows_moving_progress_and_then_its_result(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    w = live_world
    path = _roster(tmp_path / "r.xlsx", w, "花名册")
    batch = jobs.batch_upload(
        actor=w.a.worker,
        area=w.a.grid,
        source="网格花名册",
        file_name=path.name,
        chunks=[path.read_bytes()],
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING)
    jobs.progress_write(batch.pk, 1, 3)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 700})
    _sign_in(page, live_server.url, w.a.worker.username)
    page.goto(f"{live_server.url}/w/intake/{batch.pk}/")
    assert page.locator(".progress-bar").inner_text().strip() == "33%"
    page.screenshot(path=str(artifacts / "intake-9-running.png"), full_page=True)
    # The worker's run moves on: the bar follows without a reload.
    jobs.progress_write(batch.pk, 2, 3)
    page.locator(".progress-bar", has_text="66%").wait_for(timeout=10_000)
    # The run ends: the page turns into the result.
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.PREVIEWED,
        rows_done=3,
        counts={"read": 3, "created": 1, "updated": 0, "unchanged": 1, "rejected": 1},
    )
    page.locator(".import-counts").wait_for(timeout=10_000)
    assert page.locator(".progress-bar").inner_text().strip() == "100%"
    assert "确认提交" in page.inner_text("main")
