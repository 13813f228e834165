"""Importing a people roster: counts, register effects, error file, dry run, repeat, scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils import translation

from linli.intake.mapping import suggest_mapping
from linli.intake.models import ImportBatch, ImportStatus
from linli.intake.services import escape_cell, people_import
from linli.register.models import Household, Person, RegisterEvent, Relation
from tests.factories import World, make_national_id

HEADERS = ["序号", "姓名", "身份证号", "联系电话", "楼栋", "单元", "房号", "与户主关系", "备注"]
NEW_ID = make_national_id(dt.date(1991, 2, 3))
NEW_PHONE = "13712345678"
CHANGED_PHONE = "13698765432"
FORMULA = '=HYPERLINK("http://x","y")'


def _rows(world: World) -> list[list[Any]]:
    bad_id = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
    return [
        [1, "王新", NEW_ID, NEW_PHONE, "1号楼", "1单元", "302", "户主", ""],
        # The building written as "1" and the entrance as "1": the same dwelling as 1号楼 1单元.
        [2, "张建国", world.a.householder_id_number, CHANGED_PHONE, "1", "1", "301", "户主", ""],
        [3, "张小A", "", "", "1号楼", "1单元", "301", "女儿", ""],
        [4, "赵错", bad_id, "", "1号楼", "1单元", "302", "配偶", FORMULA],
        [5, "钱无", "", "", "1号楼", "1单元", "999", "户主", "-1"],
    ]


def _xlsx(path: Path, world: World, title: str = "测试社区居民花名册") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([title])
    ws.append(HEADERS)
    for row in _rows(world):
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"  # text that looks like a formula, as a hostile file has
    wb.save(path)
    return path


@pytest.fixture
def roster(world: World, tmp_path: Path, settings: Any) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return _xlsx(tmp_path / "花名册.xlsx", world)


def _register_counts() -> tuple[int, int, int]:
    return Person.objects.count(), Household.objects.count(), RegisterEvent.objects.count()


def _read_error_file(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_import_creates_updates_and_rejects(world: World, roster: Path) -> None:
    result = people_import(actor=world.a.worker, path=roster, area=world.a.grid, source="花名册")
    assert result.counts == {"read": 5, "created": 1, "updated": 1, "unchanged": 1, "rejected": 2}
    assert result.batch.status == ImportStatus.COMMITTED
    assert result.batch.counts == result.counts
    assert result.batch.created_by == world.a.worker
    assert result.table is not None and result.table.header_row == 2

    # The new person opened a household in 302 as its householder.
    new = Person.objects.get(name="王新")
    assert new.reveal_phone() == NEW_PHONE
    assert new.relation == Relation.SELF
    assert new.household is not None
    assert new.household.dwelling is not None and new.household.dwelling.number == "302"
    assert new.household.householder_id == new.pk
    assert new.grid == world.a.grid
    assert new.provenance["name"]["source"] == "花名册"

    head = Person.objects.get(pk=world.a.householder.pk)
    assert head.reveal_phone() == CHANGED_PHONE
    assert head.provenance["phone"]["source"] == "花名册"
    change = RegisterEvent.objects.filter(person=head, kind="change").get()
    assert change.data["source"] == "花名册"
    assert Person.objects.filter(name="张小A").count() == 1
    assert not Person.objects.filter(name__in=["赵错", "钱无"]).exists()

    # The error file: BOM, the original cells, the reasons in Chinese, formulas escaped.
    assert result.error_file == Path(result.batch.error_file)
    assert result.error_file.parent.name == "intake"
    raw, rows = _read_error_file(result.error_file)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == [*HEADERS, "原因"]
    assert [r[1] for r in rows[1:]] == ["赵错", "钱无"]
    assert rows[1][8] == "'" + FORMULA
    assert rows[1][9] == "身份证号校验位错误。"
    assert rows[2][8] == "'-1"
    # The import creates missing dwellings, but not one on a floor the building lacks.
    assert rows[2][9] == "1号楼 1单元 999：房号表示第 9 层，但登记的 1号楼 只有 6 层。"


def test_dry_run_writes_nothing_to_the_register(world: World, roster: Path) -> None:
    before = _register_counts()
    result = people_import(actor=world.a.worker, path=roster, area=world.a.grid, dry_run=True)
    assert result.counts == {"read": 5, "created": 1, "updated": 1, "unchanged": 1, "rejected": 2}
    assert _register_counts() == before
    assert Person.objects.get(pk=world.a.householder.pk).reveal_phone() == (
        world.a.householder_phone
    )
    assert result.batch.status == ImportStatus.PREVIEWED
    assert result.error_file is not None and result.error_file.exists()
    # A preview does not count as an import: the commit afterwards does the work.
    again = people_import(actor=world.a.worker, path=roster, area=world.a.grid)
    assert again.already_committed is None
    assert again.counts["created"] == 1


def test_same_file_twice_changes_nothing(world: World, roster: Path) -> None:
    first = people_import(actor=None, path=roster, area=world.a.grid)
    assert first.batch.created_by is None
    before = _register_counts()
    second = people_import(actor=None, path=roster, area=world.a.grid)
    assert second.already_committed == first.batch
    assert _register_counts() == before
    assert ImportBatch.objects.count() == 1


def test_changed_file_matches_the_people_already_imported(
    world: World, roster: Path, tmp_path: Path
) -> None:
    people_import(actor=None, path=roster, area=world.a.grid)
    before = _register_counts()
    # Next month's file: another title, so another hash, but the same people.
    again = _xlsx(tmp_path / "again.xlsx", world, title="测试社区居民花名册（12月）")
    result = people_import(actor=None, path=again, area=world.a.grid)
    assert result.already_committed is None
    assert result.counts == {"read": 5, "created": 0, "updated": 0, "unchanged": 3, "rejected": 2}
    assert _register_counts() == before


def test_worker_cannot_import_into_the_sibling_grid(world: World, roster: Path) -> None:
    before = _register_counts()
    with pytest.raises(PermissionDenied):
        people_import(actor=world.a.worker, path=roster, area=world.b.grid)
    with pytest.raises(PermissionDenied):
        people_import(actor=world.a.worker, path=roster, area=world.community)
    assert _register_counts() == before
    assert not ImportBatch.objects.exists()


def test_rows_of_another_grid_are_not_found_in_mine(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.VAR_DIR = tmp_path
    path = tmp_path / "b.csv"
    path.write_text(
        "姓名,身份证号,楼栋,单元,房号\n"
        f"李建国,{world.b.householder_id_number},2号楼,1单元,301\n"
        "孙某,,2号楼,1单元,302\n",
        encoding="utf-8",
    )
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert result.counts["rejected"] == 2
    assert not Person.objects.filter(name="孙某").exists()
    # The community head sees both grids: the same file goes in there.
    result = people_import(actor=world.head, path=path, area=world.community)
    assert result.counts == {"read": 2, "created": 1, "updated": 0, "unchanged": 1, "rejected": 0}
    assert Person.objects.get(name="孙某").grid == world.b.grid


def test_a_person_registered_elsewhere_is_rejected_not_moved(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.VAR_DIR = tmp_path
    path = tmp_path / "x.csv"
    path.write_text(
        f"姓名,身份证号,楼栋,单元,房号\n李建国,{world.b.householder_id_number},1号楼,1单元,302\n",
        encoding="utf-8",
    )
    result = people_import(actor=None, path=path, area=world.a.grid)
    assert result.counts["rejected"] == 1
    with translation.override("zh-hans"):
        assert str(result.rejected[0].reason) == "该身份证号已在其他辖区登记，请联系社区办理迁转。"
    assert Person.objects.get(pk=world.b.householder.pk).grid == world.b.grid


def test_a_write_failure_rolls_back_everything(
    world: World, roster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.exceptions import ValidationError

    from linli.intake.writer import Writer

    def refuse(self: Writer, *args: Any) -> None:
        raise ValidationError({"phone": ["拒绝"]})

    monkeypatch.setattr(Writer, "_update", refuse)
    before = _register_counts()
    result = people_import(actor=None, path=roster, area=world.a.grid)
    assert result.failed
    assert result.batch.failure == "第 3–7 行：拒绝 本次未导入任何数据。"
    assert _register_counts() == before
    assert ImportBatch.objects.get().status == ImportStatus.FAILED


def test_given_mapping_is_applied_by_header(world: World, roster: Path) -> None:
    mapping = suggest_mapping(HEADERS)
    data = mapping.to_dict()
    for col in data["columns"]:
        if col["header"] == "备注":
            col["field"] = None
    from linli.intake.mapping import Mapping

    result = people_import(
        actor=None, path=roster, area=world.a.grid, mapping=Mapping.from_dict(data)
    )
    assert result.counts["created"] == 1


def test_escape_cell() -> None:
    assert [escape_cell(v) for v in ["=1+1", "+86", "-", "@x", "a=b", ""]] == [
        "'=1+1",
        "'+86",
        "'-",
        "'@x",
        "a=b",
        "",
    ]


def test_cli_dry_run_then_commit(world: World, roster: Path) -> None:
    out = io.StringIO()
    call_command("import", str(roster), "--area", world.a.grid.code, "--dry-run", stdout=out)
    text = out.getvalue()
    assert "姓名" in text and "身份证号" in text
    assert "读取 5 行：新建 1，更新 1，无变化 1，拒绝 2" in text
    assert "试运行" in text
    assert not Person.objects.filter(name="王新").exists()

    out = io.StringIO()
    call_command("import", str(roster), "--kind", "people", "--area", world.a.grid.code, stdout=out)
    text = out.getvalue()
    assert "读取 5 行：新建 1，更新 1，无变化 1，拒绝 2" in text
    batch = ImportBatch.objects.get(status=ImportStatus.COMMITTED)
    assert batch.error_file in text
    assert Person.objects.filter(name="王新").exists()

    out = io.StringIO()
    call_command("import", str(roster), "--area", world.a.grid.code, stdout=out)
    assert "已导入" in out.getvalue()


def test_cli_refuses_an_unreadable_file(world: World, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="文件是空的"):
        call_command("import", str(empty), "--area", world.a.grid.code)
    with pytest.raises(CommandError):
        call_command("import", str(empty), "--area", "NOPE")
