"""The workbench import pages: every refusal keeps what was chosen, the whole flow through
the pages, mapping errors keep the choices, progress, downloads, and the sibling grid."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from linli.audit.models import AuditEntry
from linli.intake import jobs
from linli.intake.errors import IntakeError
from linli.intake.models import ImportBatch, ImportStatus, MappingProfile
from linli.intake.readers import read_table
from linli.register.models import Person
from tests.factories import World
from tests.intake.factories import batch_b, profile_b
from tests.intake.test_import import HEADERS, _xlsx

S = ImportStatus


@pytest.fixture
def var(tmp_path: Path, settings: Any) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def client_a(world: World, var: Path) -> Client:
    c = Client()
    c.force_login(world.a.worker)
    return c


def _post_upload(
    client: Client, area_pk: int, name: str, data: bytes, source: str = "网格花名册"
) -> Any:
    return client.post(
        reverse("intake:upload"),
        {"file": SimpleUploadedFile(name, data), "area": str(area_pk), "source": source},
    )


def _wb_bytes(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# name → (file name, bytes, settings) for files every reader refuses with its own code.
def _bad_files() -> dict[str, tuple[str, bytes, dict[str, int]]]:
    good = "姓名,楼栋,房号\n" + "".join(f"张{i},1号楼,301\n" for i in range(10))
    return {
        "empty": ("名单.csv", b"", {}),
        "unsupported_format": ("名单.pdf", b"%PDF-1.4 ...", {}),
        "not_spreadsheet": ("名单.xlsx", b"\x00\x01binary junk" * 20, {}),
        "corrupt": ("名单.xlsx", _wb_bytes([["姓名"], ["张三"]])[:900], {}),
        "binary": ("名单.csv", b"\x00\x00\x01\x02" * 200, {}),
        "no_header": ("名单.csv", "社区居民名单\n张三\n李四\n".encode(), {}),
        "too_many_rows": ("名单.csv", good.encode(), {"LINLI_INTAKE_MAX_ROWS": 5}),
        "cell_too_long": (
            "名单.csv",
            ("姓名,楼栋,房号\n" + "张" * 200 + ",1,301\n").encode(),
            {"LINLI_INTAKE_MAX_CELL_CHARS": 100},
        ),
        "too_many_columns": ("名单.csv", (",".join(["姓名"] * 600) + "\n").encode(), {}),
        "formula_without_value": (
            "名单.xlsx",
            _wb_bytes([["姓名", "楼栋", "房号"], ["张三", "=1+1", "301"]]),
            {},
        ),
    }


BAD = _bad_files()


@pytest.mark.parametrize("code", sorted(BAD))
def test_every_refused_file_is_answered_in_chinese_and_keeps_the_choices(
    world: World, client_a: Client, settings: Any, code: str
) -> None:
    name, data, extra = BAD[code]
    for key, value in extra.items():
        setattr(settings, key, value)
    # The message the reader gives for this file, in Chinese (the page must show it).
    expected = ""
    if code != "unsupported_format":
        with pytest.raises(IntakeError) as exc:
            read_table(data, filename=name)
        assert exc.value.code == code
        with translation.override("zh-hans"):
            expected = str(exc.value.message)
    else:
        expected = "只能导入 .xlsx、.xls 和 .csv 文件。"
    r = _post_upload(client_a, world.a.grid.pk, name, data, source="派出所流动人口")
    assert r.status_code == 200
    body = r.content.decode()
    assert html.escape(expected) in body or expected in body
    assert 'value="派出所流动人口"' in body
    assert f'<option value="{world.a.grid.pk}" selected>' in body
    assert not ImportBatch.objects.exists()


def test_too_large_and_already_imported_uploads(
    world: World,
    client_a: Client,
    tmp_path: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    data = _xlsx(tmp_path / "r.xlsx", world).read_bytes()
    settings.LINLI_INTAKE_UPLOAD_MAX_MB = 0
    r = _post_upload(client_a, world.a.grid.pk, "r.xlsx", data)
    assert "文件超过 0 MB" in r.content.decode()
    settings.LINLI_INTAKE_UPLOAD_MAX_MB = 100
    r = _post_upload(client_a, world.a.grid.pk, "r.xlsx", data)
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.batch_queue(actor=world.a.worker, batch=batch, dry_run=True)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.batch_queue(actor=world.a.worker, batch=batch, dry_run=False)
    r = _post_upload(client_a, world.a.grid.pk, "r.xlsx", data)
    assert r.status_code == 200
    assert f"该文件已导入过网格A（批次 {batch.pk}），再次导入不会有任何变化。" in r.content.decode()
    assert ImportBatch.objects.count() == 1


def test_the_whole_flow_through_the_pages(
    world: World,
    client_a: Client,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    data = _xlsx(tmp_path / "花名册.xlsx", world).read_bytes()
    r = _post_upload(client_a, world.a.grid.pk, "花名册.xlsx", data)
    batch = ImportBatch.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse(
        "intake:batch_mapping", args=[batch.pk]
    )

    r = client_a.get(r["Location"])
    body = r.content.decode()
    assert r.status_code == 200
    assert "表头在第 2 行" in body
    # The first rows are shown, national IDs masked.
    assert world.a.householder_id_number not in body
    assert world.a.householder_id_number[:4] + "**********" in body
    assert "王新" in body
    assert "序号列，无需导入" in body  # 序号 is no question for the worker

    form = {f"col_{i}": "" for i in range(len(HEADERS))}
    fields = ["", "name", "national_id", "phone", "building", "entrance", "dwelling_number"]
    form.update({f"col_{i}": f for i, f in enumerate(fields)})
    form["col_7"] = "relation"
    form["col_8"] = ""  # 备注 not imported, the worker's choice
    form["profile_name"] = "网格月报"
    people = Person.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        r = client_a.post(reverse("intake:batch_mapping", args=[batch.pk]), form)
    assert r.status_code == 302
    batch.refresh_from_db()
    assert batch.status == S.PREVIEWED
    assert "notes" not in jobs.Mapping.from_dict(batch.mapping).fields
    assert MappingProfile.objects.get().name == "网格月报"
    assert Person.objects.count() == people

    r = client_a.get(reverse("intake:batch_detail", args=[batch.pk]))
    body = r.content.decode()
    assert "这只是预览" in body
    assert 'data-count="created"' in body and 'data-count="rejected"' in body
    assert "身份证号校验位错误。" in body
    assert "确认提交" in body

    with django_capture_on_commit_callbacks(execute=True):
        r = client_a.post(reverse("intake:batch_commit", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == S.COMMITTED
    assert Person.objects.count() == people + 1

    # Progress: done, so the poll tells the page to reload.
    r = client_a.get(reverse("intake:batch_progress", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"
    assert "5 / 5 行 · 100%" in r.content.decode()

    # The rejected rows: a CSV with BOM, the original cells and the reason; audited.
    r = client_a.get(reverse("intake:batch_rejected", args=[batch.pk]))
    assert r.status_code == 200
    assert "attachment" in r["Content-Disposition"]
    raw = b"".join(r.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [*HEADERS, "原因"]
    assert [row[1] for row in rows[1:]] == ["赵错", "钱无"]
    exports = AuditEntry.objects.filter(action="export", object_type="importbatch")
    assert list(exports.values_list("object_id", "area_id")) == [(str(batch.pk), world.a.grid.pk)]

    # Committing again is refused with a message; nothing changes.
    r = client_a.post(reverse("intake:batch_commit", args=[batch.pk]), follow=True)
    assert "只有已预览的导入才能提交" in r.content.decode()
    assert Person.objects.count() == people + 1

    # The history lists it; the profile page shows the profile.
    assert "花名册.xlsx" in client_a.get(reverse("intake:batch_list")).content.decode()
    assert "网格月报" in client_a.get(reverse("intake:profile_list")).content.decode()


def test_mapping_errors_keep_the_choices(world: World, client_a: Client, tmp_path: Path) -> None:
    data = _xlsx(tmp_path / "r.xlsx", world).read_bytes()
    _post_upload(client_a, world.a.grid.pk, "r.xlsx", data)
    batch = ImportBatch.objects.get()
    url = reverse("intake:batch_mapping", args=[batch.pk])
    # No name column chosen.
    form = {"col_1": "", "col_2": "national_id", "col_4": "building", "col_6": "dwelling_number"}
    form |= {"col_3": "phone", "profile_name": "我的方案"}
    r = client_a.post(url, form)
    body = r.content.decode()
    assert r.status_code == 200
    assert "至少要指定姓名、楼栋和房号这三列。" in body
    assert 'value="我的方案"' in body
    assert '<option value="phone" selected>' in body
    # A field chosen twice.
    form |= {"col_1": "name", "col_8": "name"}
    r = client_a.post(url, form)
    assert "每个字段只能对应一列；有字段被选了两次。" in r.content.decode()
    batch.refresh_from_db()
    assert batch.status == S.UPLOADED
    assert not MappingProfile.objects.exists()


def test_progress_while_running_polls(world: World, client_a: Client, tmp_path: Path) -> None:
    data = _xlsx(tmp_path / "r.xlsx", world).read_bytes()
    _post_upload(client_a, world.a.grid.pk, "r.xlsx", data)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status=S.RUNNING)
    jobs.progress_write(batch.pk, 2, 5)
    for url in ("intake:batch_detail", "intake:batch_progress"):
        r = client_a.get(reverse(url, args=[batch.pk]))
        body = r.content.decode()
        assert "2 / 5 行 · 40%" in body
        assert 'hx-trigger="every 1s"' in body
        assert "HX-Refresh" not in r
        assert "可以离开本页面" in body
    # The page was drawn while queued and the run has started: the page redraws itself.
    url = reverse("intake:batch_progress", args=[batch.pk])
    assert "HX-Refresh" not in client_a.get(url, {"seen": "running"})
    assert client_a.get(url, {"seen": "queued"})["HX-Refresh"] == "true"


def test_the_sibling_grid_sees_nothing_of_a_batch(world: World, var: Path) -> None:
    b = batch_b(world)
    p = profile_b(world)
    error_file = var / "intake" / f"{b.pk}.csv"
    error_file.parent.mkdir(parents=True)
    error_file.write_text("姓名,原因\n李乙,x\n", encoding="utf-8-sig")
    ImportBatch.objects.filter(pk=b.pk).update(error_file=str(error_file))
    c = Client()
    c.force_login(world.a.worker)
    assert b.file_name not in c.get(reverse("intake:batch_list")).content.decode()
    assert p.name not in c.get(reverse("intake:profile_list")).content.decode()
    assert c.get(reverse("intake:batch_rejected", args=[b.pk])).status_code == 404
    assert c.post(reverse("intake:profile_delete", args=[p.pk])).status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()
    assert MappingProfile.objects.filter(pk=p.pk).exists()
    # Not vacuous: B's own worker sees and downloads it.
    cb = Client()
    cb.force_login(world.b.worker)
    assert b.file_name in cb.get(reverse("intake:batch_list")).content.decode()
    assert cb.get(reverse("intake:batch_rejected", args=[b.pk])).status_code == 200
    assert AuditEntry.objects.filter(action="export").count() == 1


def test_an_error_file_outside_var_is_never_served(world: World, var: Path, tmp_path: Path) -> None:
    b = batch_b(world)
    outside = tmp_path / "secret.csv"
    outside.write_text("x", encoding="utf-8")
    ImportBatch.objects.filter(pk=b.pk).update(error_file=str(outside))
    c = Client()
    c.force_login(world.b.worker)
    assert c.get(reverse("intake:batch_rejected", args=[b.pk])).status_code == 404


def test_nav_has_the_data_import_entry(world: World, client_a: Client) -> None:
    body = client_a.get(reverse("workbench:home")).content.decode()
    assert f'href="{reverse("intake:batch_list")}">数据导入</a>' in body


def test_a_large_upload_shows_reading_then_failure_with_a_way_back(
    world: World,
    client_a: Client,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.LINLI_INTAKE_INLINE_READ_KB = 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = _post_upload(client_a, world.a.grid.pk, "名单.xlsx", b"\x00junk" * 400)
    batch = ImportBatch.objects.get()
    assert r["Location"] == reverse("intake:batch_detail", args=[batch.pk])
    body = client_a.get(r["Location"]).content.decode()
    assert "正在读取文件……" in body and 'hx-trigger="every 1s"' in body
    assert re.search(r'text-bg-primary">1\. 上传文件', body)  # still step 1
    for cb in callbacks:
        cb()
    body = client_a.get(r["Location"]).content.decode()
    assert "这个文件虽然扩展名是 Excel" in body
    assert (
        f"?area={world.a.grid.pk}&amp;source=%E7%BD%91%E6%A0%BC%E8%8A%B1%E5%90%8D%E5%86%8C" in body
    )
    assert "重新预览" not in body  # nothing was read: only a new upload helps
    # The mapping page of an unread batch leads back to the batch.
    r = client_a.get(reverse("intake:batch_mapping", args=[batch.pk]))
    assert r.status_code == 302
    # The upload form comes back with the area and source filled in.
    r = client_a.get(reverse("intake:upload"), {"area": world.a.grid.pk, "source": "网格花名册"})
    assert 'value="网格花名册"' in r.content.decode()
