"""The review queue and the follow-up queue in a real browser: a grid worker merges a
duplicate, undoes it, and marks a flagged resident as followed up."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest

from linli.linkage.models import CandidateStatus, ConcernCategory, ConcernFlag, MergeCandidate
from linli.linkage.services import watch_list_match
from linli.register.models import Person, PersonStatus
from tests.factories import PASSWORD, World, make_world
from tests.linkage.conftest import make_duplicates

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))


def test_review_queue_merge_and_undo(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    dups = make_duplicates(w)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in(page, live_server.url, w.a.worker.username)
    page.get_by_role("button", name="登记管理").click()
    page.get_by_role("link", name="疑似重复").click()
    page.wait_for_url(re.compile(r"/w/linkage/review/$"))
    card = page.locator(f"#candidate-{dups['pair_a'].pk}")
    assert "姓名相同" in card.inner_text() and "电话相同" in card.inner_text()
    # The cross-grid pair is not for a grid worker.
    assert page.locator(f"#candidate-{dups['pair_ab'].pk}").count() == 0
    page.screenshot(path=str(artifacts / "linkage-review.png"), full_page=True)
    card.get_by_role("button", name="合并为一人").click()
    page.wait_for_url(re.compile(r"/w/linkage/review/$"))
    assert "两条记录已合并" in page.locator(".alert").inner_text()
    assert Person.objects.get(pk=dups["dup_a"].pk).status == PersonStatus.MERGED
    page.get_by_role("link", name="已处理").click()
    row = page.locator(f"#candidate-{dups['pair_a'].pk}")
    assert "已合并" in row.inner_text()
    page.screenshot(path=str(artifacts / "linkage-decided.png"), full_page=True)
    row.get_by_role("button", name=re.compile("撤销")).click()
    page.wait_for_url(re.compile(r"decided=1$"))
    assert "已撤销" in page.locator(".alert").inner_text()
    assert MergeCandidate.objects.get(pk=dups["pair_a"].pk).status == CandidateStatus.OPEN
    assert Person.objects.get(pk=dups["dup_a"].pk).status == PersonStatus.LIVING
    page.close()


def test_follow_up_queue_mark_followed_up(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    w = live_world
    path = tmp_path / "来返.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["姓名", "身份证号", "来源地", "抵达时间"],
                [w.a.householder.name, w.a.householder_id_number, "某市某区", "2026-11-01"],
                [w.b.householder.name, w.b.householder_id_number, "某市", "2026-11-02"],
            ]
        )
    watch_list_match(
        actor=None,
        path=path,
        list_name="11月来返",
        area=w.community,
        # transactional_db empties the tables the data migration seeded.
        category=ConcernCategory.objects.get_or_create(
            code="risk_area_arrival", defaults={"name": "中高风险地区来返"}
        )[0],
    )
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in(page, live_server.url, w.a.worker.username)
    page.get_by_role("button", name="登记管理").click()
    page.get_by_role("link", name="重点人员").click()
    page.wait_for_url(re.compile(r"/w/linkage/followups/$"))
    flag = ConcernFlag.objects.get(person=w.a.householder)
    card = page.locator(f"#flag-{flag.pk}")
    assert "中高风险地区来返" in card.inner_text()
    assert w.b.householder.name not in page.content()
    page.screenshot(path=str(artifacts / "linkage-followups.png"), full_page=True)
    # An empty note is not accepted by the browser; a note is.
    card.locator("input[name=note]").fill("已电话联系，落实居家健康监测")
    card.get_by_role("button", name=re.compile("标记已跟进")).click()
    page.wait_for_url(re.compile(r"/w/linkage/followups/"))
    assert "已标记为已跟进" in page.locator(".alert").inner_text()
    flag.refresh_from_db()
    assert (flag.status, flag.note) == ("followed_up", "已电话联系，落实居家健康监测")
    page.goto(f"{live_server.url}/w/linkage/followups/?status=followed_up")
    assert "已电话联系，落实居家健康监测" in page.locator(f"#flag-{flag.pk}").inner_text()
    page.screenshot(path=str(artifacts / "linkage-followed-up.png"), full_page=True)
    page.close()


def test_community_head_matches_a_list_from_the_workbench(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    w = live_world
    ConcernCategory.objects.get_or_create(
        code="risk_area_arrival", defaults={"name": "中高风险地区来返"}
    )
    path = tmp_path / "来返.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["姓名", "身份证号", "来源地", "抵达时间"],
                [w.a.householder.name, w.a.householder_id_number, "某市某区", "2026-11-01"],
                ["赵六", "", "外省", "2026-11-03"],
            ]
        )
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in(page, live_server.url, w.head.username)
    page.goto(f"{live_server.url}/w/linkage/lists/")
    page.get_by_role("link", name=re.compile("比对名单")).click()
    page.fill("input[name=name]", "11月来返")
    page.select_option("select[name=area]", str(w.community.pk))
    page.select_option("select[name=category]", label="中高风险地区来返")
    page.set_input_files("input[name=file]", str(path))
    page.screenshot(path=str(artifacts / "linkage-upload.png"), full_page=True)
    page.get_by_role("button", name="开始比对").click()
    page.wait_for_url(re.compile(r"/w/linkage/lists/\d+/$"))
    assert "共读取 2 行：比中 1 人" in page.locator(".alert").inner_text()
    assert "赵六" in page.locator("table").inner_text()
    page.screenshot(path=str(artifacts / "linkage-list.png"), full_page=True)
    page.close()


def test_a_background_list_match_shows_its_progress_then_the_list(
    live_server: Any,
    live_world: World,
    browser: Any,
    artifacts: Path,
    tmp_path: Path,
    settings: Any,
) -> None:
    """On a phone: the bar of a list being matched in the background, polled until the run
    is done, when the page becomes the list."""
    from linli.linkage import runs
    from linli.linkage.models import ListMatchRun, RunStatus, WatchList

    settings.VAR_DIR = tmp_path / "var"
    w = live_world
    run = ListMatchRun.objects.create(
        name="11月来返（全市）",
        area=w.community,
        file_name="来返人员.csv",
        status=RunStatus.RUNNING,
        created_by=w.head,
    )
    runs.progress_file_write(runs.run_dir(run.pk) / "progress.json", 420_000, 1_000_000)
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    _sign_in(page, live_server.url, w.head.username)
    page.goto(f"{live_server.url}/w/linkage/lists/")
    page.get_by_role("link", name="11月来返（全市）").click()
    page.wait_for_url(re.compile(rf"/w/linkage/lists/runs/{run.pk}/$"))
    bar = page.locator("#run-progress")
    assert "420000 / 1000000 行 · 42%" in bar.inner_text()
    assert "可以离开本页" in bar.inner_text()
    page.screenshot(path=str(artifacts / "linkage-list-run.png"), full_page=True)
    done = WatchList.objects.create(
        name=run.name,
        area=w.community,
        file_name=run.file_name,
        file_sha256="0" * 64,
        counts={"rows": 3, "exact": 2, "probable": 0, "not_found": 1, "rejected": 0},
    )
    ListMatchRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, watch_list=done)
    page.wait_for_url(re.compile(rf"/w/linkage/lists/{done.pk}/"), timeout=15_000)
    assert "共读取 3 行" in page.locator(".alert").inner_text()
    page.screenshot(path=str(artifacts / "linkage-list-run-done.png"), full_page=True)
    page.close()
