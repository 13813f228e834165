"""Bulk import of results and vaccinations: all or nothing, refused rows come back with reasons
in Chinese, the same file twice changes nothing, unreadable files get a clear answer."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from linli.health import services as hs
from linli.health.importing import import_file
from linli.health.models import PositiveAlert, TestRecord, Vaccination
from tests.factories import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_var_dir(settings: Any, tmp_path: Any) -> None:
    """Background runs keep their files under the var directory by run id; parallel test
    workers (each with its own database, so the same ids) must not share one."""
    settings.VAR_DIR = tmp_path


@pytest.fixture
def rnd(world: World) -> Any:
    return hs.round_open(
        actor=None, name="第一轮", area=world.community, date=timezone.localdate(), sites=["广场"]
    )


def _csv(rows: list[list[str]], encoding: str = "gb18030") -> bytes:
    return "\n".join(",".join(r) for r in rows).encode(encoding)


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _results(world: World) -> list[list[str]]:
    a = world.a
    return [
        ["序号", "姓名", "身份证号码", "检测结果", "采样编号", "采样时间"],
        ["1", a.householder.name, a.householder_id_number, "阴性", "S-001", "2026/11/20"],
        ["2", a.member.name, a.member.reveal_national_id(), "阳性", "S-002", "2026-11-20"],
    ]


def test_good_result_file_in_gbk_is_imported_and_twice_changes_nothing(
    world: World, rnd: Any
) -> None:
    data = _csv(_results(world))
    out = import_file(
        actor=world.a.worker, kind="results", data=data, filename="结果.csv", round=rnd
    )
    assert (out.written, out.changed, out.unchanged, out.refused) == (True, 2, 0, [])
    recs = {r.person_id: r for r in TestRecord.objects.all()}
    assert recs[world.a.householder.pk].result == "negative"
    assert recs[world.a.member.pk].result == "positive"
    assert recs[world.a.member.pk].external_id == "S-002"
    assert recs[world.a.member.pk].source == "import"
    assert timezone.localtime(recs[world.a.member.pk].sampled_at).date() == dt.date(2026, 11, 20)
    assert PositiveAlert.objects.count() == 1
    before = list(TestRecord.objects.values_list("pk", "result", "updated_at"))
    again = import_file(
        actor=world.a.worker, kind="results", data=data, filename="结果.csv", round=rnd
    )
    assert (again.written, again.changed, again.unchanged) == (True, 0, 2)
    assert list(TestRecord.objects.values_list("pk", "result", "updated_at")) == before
    assert PositiveAlert.objects.count() == 1


def test_bad_rows_refuse_the_whole_file_with_reasons_in_chinese(world: World, rnd: Any) -> None:
    rows = [
        *_results(world),
        ["3", world.b.householder.name, world.b.householder_id_number, "阴性", "S-003", ""],
        ["4", "王五", "110101199003077777", "阴性", "S-004", ""],
        ["5", "错名字", world.a.householder_id_number, "阴性", "S-005", ""],
        ["6", world.a.member.name, world.a.member.reveal_national_id(), "不知道", "", ""],
    ]
    out = import_file(
        actor=world.a.worker, kind="results", data=_xlsx(rows), filename="r.xlsx", round=rnd
    )
    assert not out.written and out.changed == 0
    assert TestRecord.objects.count() == 0 and PositiveAlert.objects.count() == 0
    reasons = {n: r for n, _cells, r in out.refused}
    # B's person answers exactly like an unknown number: nothing tells A that B has them.
    assert reasons[4] == "登记册中没有此身份证号码的人员。"
    assert "校验" in reasons[5] or "身份证" in reasons[5]
    assert reasons[6] == "姓名与身份证号码不一致。"
    assert "同一人" in reasons[7] or "阴性" in reasons[7]
    wb = load_workbook(io.BytesIO(out.refused_workbook()))
    ws = wb.active
    assert ws[1][0].value == "原行号" and ws[1][-1].value == "未导入原因"
    assert ws.max_row == 1 + len(out.refused)


def test_missing_columns_and_unreadable_files_get_a_clear_answer(world: World, rnd: Any) -> None:
    out = import_file(
        actor=world.a.worker,
        kind="results",
        data=_csv([["姓名", "身份证号"], ["张三", "x"]]),
        filename="r.csv",
        round=rnd,
    )
    assert out.problem == "缺少列：检测结果。"
    fake = import_file(
        actor=world.a.worker, kind="results", data=b"not a workbook", filename="r.xlsx", round=rnd
    )
    assert "Excel" in fake.problem and not fake.written
    with pytest.raises(PermissionDenied):
        import_file(actor=_resident(world), kind="vaccinations", data=b"x", filename="v.csv")


def _resident(world: World) -> Any:
    from linli.accounts.models import User

    return User.objects.create(username="res", person=world.a.householder)


def test_vaccination_file_twice_and_a_conflicting_dose(world: World) -> None:
    a = world.a
    rows = [
        ["姓名", "身份证号", "剂次", "疫苗名称", "接种日期", "接种单位"],
        [
            a.householder.name,
            a.householder_id_number,
            "1",
            "科兴",
            "2021-04-01",
            "社区卫生服务中心",
        ],
        [a.householder.name, a.householder_id_number, "第2剂", "科兴", "2021年5月1日", ""],
    ]
    data = _xlsx(rows)
    out = import_file(actor=world.a.worker, kind="vaccinations", data=data, filename="v.xlsx")
    assert (out.written, out.changed) == (True, 2)
    assert list(Vaccination.objects.values_list("dose", "vaccinated_on")) == [
        (1, dt.date(2021, 4, 1)),
        (2, dt.date(2021, 5, 1)),
    ]
    again = import_file(actor=world.a.worker, kind="vaccinations", data=data, filename="v.xlsx")
    assert (again.written, again.changed, again.unchanged) == (True, 0, 2)
    clash = _xlsx(
        [rows[0], [a.householder.name, a.householder_id_number, "1", "北京生物", "2021-04-01", ""]]
    )
    out = import_file(actor=world.a.worker, kind="vaccinations", data=clash, filename="v.xlsx")
    assert not out.written and "已记录" in out.refused[0][2]
    assert Vaccination.objects.count() == 2


def test_import_page_offers_the_refused_rows_file(world: World, rnd: Any) -> None:
    c = Client()
    c.force_login(world.a.worker)
    rows = [*_results(world), ["3", "王五", "110101199003077777", "阴性", "", ""]]
    upload = io.BytesIO(_csv(rows, "utf-8-sig"))
    upload.name = "结果.csv"
    r = c.post(reverse("health:import"), {"kind": "results", "round": rnd.pk, "file": upload})
    assert r.status_code == 200
    body = r.content.decode()
    assert reverse("health:import_rejects") in body and "第 4 行" in body
    got = c.get(reverse("health:import_rejects"))
    assert got.status_code == 200
    ws = load_workbook(io.BytesIO(got.content)).active
    assert ws.max_row == 2 and ws[2][0].value == 4
    assert TestRecord.objects.count() == 0
    # Another worker has no such file.
    other = Client()
    other.force_login(world.b.worker)
    assert other.get(reverse("health:import_rejects")).status_code == 404


def test_refused_rows_file_holds_no_formula(world: World, rnd: Any) -> None:
    """A refused row whose cells look like formulas comes back as text, never as a formula
    the worker's Excel would run."""
    rows = [
        ["序号", "姓名", "身份证号码", "检测结果", "采样编号", "采样时间"],
        ["1", "=1+2", "110101199003077777", "阴性", "+S-9", ""],
    ]
    out = import_file(
        actor=world.a.worker, kind="results", data=_csv(rows), filename="r.csv", round=rnd
    )
    assert not out.written and len(out.refused) == 1
    ws = load_workbook(io.BytesIO(out.refused_workbook())).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    values = [c.value for c in cells]
    assert "'=1+2" in values and "'+S-9" in values


def _upload(rows: list[list[str]], name: str = "大文件.csv") -> io.BytesIO:
    upload = io.BytesIO(_csv(rows, "utf-8-sig"))
    upload.name = name
    return upload


def test_a_large_file_is_imported_in_the_background_with_its_progress(
    world: World, rnd: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """Above the inline size the upload is stored and queued; the worker lands on the run's
    page, which shows the bar while it works and the counts once done; the upload is gone."""
    from linli.health import runs
    from linli.health.models import ImportRun, ImportRunStatus

    monkeypatch.setattr(runs, "INLINE_MAX_BYTES", 10)
    c = Client()
    c.force_login(world.a.worker)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = c.post(
            reverse("health:import"),
            {"kind": "results", "round": rnd.pk, "file": _upload(_results(world))},
        )
    run = ImportRun.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("health:import_run", args=[run.pk])
    # Queued, not yet run: the page polls its bar.
    page = c.get(r["Location"]).content.decode()
    assert run.status == ImportRunStatus.QUEUED and "hx-trigger" in page
    assert TestRecord.objects.count() == 0 and len(queued) == 1
    queued[0]()  # the worker picks it up (huey runs tasks at once in tests)
    run.refresh_from_db()
    assert run.status == ImportRunStatus.DONE and (run.rows, run.changed) == (2, 2)
    assert TestRecord.objects.count() == 2 and not run.stored_file
    assert not any(runs.run_dir(run.pk).glob("upload*"))
    page = c.get(reverse("health:import_run", args=[run.pk])).content.decode()
    assert 'id="import-done"' in page and "hx-trigger" not in page
    bar = c.get(reverse("health:import_run_progress", args=[run.pk]), {"seen": "running"})
    assert bar["HX-Refresh"] == "true"
    # The import page lists the worker's recent runs.
    assert run.file_name in c.get(reverse("health:import")).content.decode()


def test_a_refused_background_import_keeps_its_rows_for_its_worker_only(
    world: World, rnd: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from linli.health import runs
    from linli.health.models import ImportRun, ImportRunStatus

    monkeypatch.setattr(runs, "INLINE_MAX_BYTES", 10)
    c = Client()
    c.force_login(world.a.worker)
    rows = [*_results(world), ["3", "王五", "110101199003077777", "阴性", "", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        c.post(
            reverse("health:import"), {"kind": "results", "round": rnd.pk, "file": _upload(rows)}
        )
    run = ImportRun.objects.get()
    assert run.status == ImportRunStatus.REFUSED and run.refused == 1
    assert TestRecord.objects.count() == 0  # all or nothing
    page = c.get(reverse("health:import_run", args=[run.pk])).content.decode()
    assert "第 4 行" in page and reverse("health:import_run_rejects", args=[run.pk]) in page
    got = c.get(reverse("health:import_run_rejects", args=[run.pk]))
    ws = load_workbook(io.BytesIO(got.content)).active
    assert ws.max_row == 2 and ws[2][0].value == 4
    # Another worker (grid B) sees none of it.
    other = Client()
    other.force_login(world.b.worker)
    for name in ("health:import_run", "health:import_run_progress", "health:import_run_rejects"):
        assert other.get(reverse(name, args=[run.pk])).status_code == 404
    # A day later the daily purge takes the workbook; the run's record stays. (The folder is
    # aged rather than the clock moved: other tests' fresh folders, in the same var directory
    # under another worker's database, must not look a day old.)
    old = time.time() - runs.KEEP_SECONDS - 60
    os.utime(runs.run_dir(run.pk), (old, old))
    assert runs.import_files_purge() >= 1
    assert not runs.run_dir(run.pk).exists()
    assert c.get(reverse("health:import_run_rejects", args=[run.pk])).status_code == 404
    assert ImportRun.objects.filter(pk=run.pk).exists()


def test_an_unreadable_large_file_ends_the_run_with_the_reason(
    world: World, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from linli.health import runs
    from linli.health.models import ImportRun, ImportRunStatus

    monkeypatch.setattr(runs, "INLINE_MAX_BYTES", 10)
    c = Client()
    c.force_login(world.a.worker)
    junk = io.BytesIO(b"\x00\x01 not a workbook " * 50)
    junk.name = "坏文件.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("health:import"), {"kind": "vaccinations", "file": junk})
    run = ImportRun.objects.get()
    assert run.status == ImportRunStatus.FAILED and run.problem
    page = c.get(reverse("health:import_run", args=[run.pk])).content.decode()
    assert 'id="import-problem"' in page and Vaccination.objects.count() == 0
