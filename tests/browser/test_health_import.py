"""A grid worker imports a large results file from the workbench: it goes to the background,
the browser lands on the run's page, which ends with what was imported; a refused file's page
names the rows and offers them back as a workbook."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from linli.health import runs
from linli.health import services as hs
from linli.health.models import ImportRun, ImportRunStatus, TestRecord
from tests.factories import PASSWORD, World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None, migration_seeds: None) -> World:
    return make_world()


def _file(tmp_path: Path, w: World, extra: list[str] | None = None) -> Path:
    rows = [
        ["序号", "姓名", "身份证号码", "检测结果", "采样编号"],
        ["1", w.a.householder.name, w.a.householder_id_number, "阴性", "S-001"],
        ["2", w.a.member.name, w.a.member.reveal_national_id(), "阴性", "S-002"],
    ]
    if extra:
        rows.append(extra)
    path = tmp_path / "核酸结果.csv"
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8-sig")
    return path


def test_a_large_results_file_imports_in_the_background(
    live_server: Any,
    live_world: World,
    browser: Any,
    artifacts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    w = live_world
    monkeypatch.setattr(runs, "INLINE_MAX_BYTES", 10)  # every file counts as large here
    settings.VAR_DIR = tmp_path  # runs' files by id: not shared with other test workers
    rnd = hs.round_open(
        actor=None,
        name="全员核酸第二轮",
        area=w.community,
        date=timezone.localdate(),
        sites=["广场"],
    )
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", w.a.worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))

    # A refused file first: the run's page names the row and offers the workbook.
    page.goto(f"{base}/w/health/import/")
    page.select_option("select[name=kind]", "results")
    page.select_option("select[name=round]", str(rnd.pk))
    bad = _file(tmp_path, w, ["3", "王五", "110101199003077777", "阴性", ""])
    page.set_input_files("input[name=file]", str(bad))
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_url(re.compile(r"/w/health/import/\d+/$"))
    refused = page.locator("#import-refused")
    refused.wait_for()
    assert "第 4 行" in refused.inner_text()
    page.screenshot(path=str(artifacts / "health-import-refused.png"), full_page=True)
    with page.expect_download() as dl:
        refused.get_by_role("link").click()
    assert dl.value.suggested_filename == "rejected-rows.xlsx"
    assert TestRecord.objects.count() == 0

    # The good file: imported, and the import page lists both runs.
    page.goto(f"{base}/w/health/import/")
    page.select_option("select[name=kind]", "results")
    page.select_option("select[name=round]", str(rnd.pk))
    page.set_input_files("input[name=file]", str(_file(tmp_path, w)))
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_url(re.compile(r"/w/health/import/\d+/$"))
    done = page.locator("#import-done")
    done.wait_for()
    assert "新增或变更 2 条" in done.inner_text()
    page.screenshot(path=str(artifacts / "health-import-done.png"), full_page=True)
    assert TestRecord.objects.count() == 2
    assert list(ImportRun.objects.values_list("status", flat=True)) == [
        ImportRunStatus.DONE,
        ImportRunStatus.REFUSED,
    ]
    page.goto(f"{base}/w/health/import/")
    assert page.locator("#import-runs li").count() == 2
