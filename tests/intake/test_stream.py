"""Streaming rows (stream.open_rows) gives what read_table gives, and refuses what it refuses."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from linli.intake.errors import IntakeError
from linli.intake.readers import Limits, Row, read_table
from linli.intake.stream import open_rows

from .conftest import rewrite_member
from .test_hostile import small_xlsx
from .test_readers import ledger_xlsx


def _streamed(path: Path, limits: Limits | None = None) -> tuple[object, list[Row], int]:
    with open_rows(path, filename=path.name, limits=limits) as stream:
        rows = list(stream.rows)
        return stream.table, rows, stream.estimated_rows


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "r.csv"
    path.write_bytes(text.encode(encoding))
    return path


def _merged_xlsx(tmp_path: Path) -> Path:
    """A building written once for three rows (merged down), a totals row, blank rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["花名册"])
    ws.append(["姓名", "楼栋", "房号"])
    ws.append(["甲", "3栋", "101"])
    ws.append(["乙", None, "102"])
    ws.append([])
    ws.append(["丙", None, "103"])
    ws.append(["丁", "4栋", "101"])
    ws.append(["合计", 4, None])
    ws.merge_cells("B3:B6")
    path = tmp_path / "m.xlsx"
    wb.save(path)
    return path


FILES: dict[str, Callable[[Path], Path]] = {
    "ledger xlsx": lambda d: ledger_xlsx(d / "ledger.xlsx"),
    "merged xlsx": _merged_xlsx,
    "gbk csv with a title row and totals": lambda d: _csv(
        d,
        "人口台账\n姓名,电话,楼栋\n张三,13800138000,1\n\n李四,,2\n合计,2,\n制表人：王\n",
        "gb18030",
    ),
    "utf-8 bom tsv": lambda d: _csv(d, "\ufeff姓名\t楼栋\n张三\t1\n李四\t2\n"),
}


@pytest.mark.parametrize("make", FILES.values(), ids=list(FILES))
def test_streamed_rows_are_the_rows_read_table_gives(tmp_path: Path, make: Callable) -> None:
    path = make(tmp_path)
    whole = read_table(path, filename=path.name)
    table, rows, estimated = _streamed(path)
    assert rows == whole.rows
    assert len(rows) >= 2
    assert table.headers == whole.headers  # type: ignore[attr-defined]
    assert table.header_row == whole.header_row  # type: ignore[attr-defined]
    assert table.dropped == whole.dropped  # type: ignore[attr-defined]
    assert (table.encoding, table.delimiter) == (whole.encoding, whole.delimiter)  # type: ignore[attr-defined]
    assert estimated >= len(rows)


def test_merged_cells_are_filled_down_while_streaming(tmp_path: Path) -> None:
    _table, rows, _n = _streamed(_merged_xlsx(tmp_path))
    assert [r.cells for r in rows] == [
        ("甲", "3栋", "101"),
        ("乙", "3栋", "102"),
        ("丙", "3栋", "103"),
        ("丁", "4栋", "101"),
    ]


def _formula_late(tmp_path: Path) -> Path:
    rows: list[list[object]] = [["姓名", "备注"]] + [[f"人{i}", "ok"] for i in range(50)]
    rows.append(["李四", "=1+1"])
    return small_xlsx(tmp_path / "f.xlsx", rows)


HOSTILE: dict[str, tuple[Callable[[Path], Path], str, Limits | None]] = {
    "formula without value on row 52": (_formula_late, "formula_without_value", None),
    "cell too long late in a csv": (
        lambda d: _csv(d, "姓名,备注\n" + "张三,x\n" * 100 + '李四,"' + "a" * 20_000 + '"\n'),
        "cell_too_long",
        None,
    ),
    "too many rows": (
        lambda d: _csv(d, "姓名,电话\n" + "张三,1\n" * 10),
        "too_many_rows",
        Limits(max_rows=5),
    ),
    "binary junk named .xlsx": (
        lambda d: (d / "j.xlsx").write_bytes(random.Random(1).randbytes(4096)) and d / "j.xlsx",
        "not_spreadsheet",
        None,
    ),
    "empty csv": (lambda d: _csv(d, ""), "empty", None),
    "entity in the sheet": (
        lambda d: _entity(small_xlsx(d / "e.xlsx")),
        "xml_entities",
        None,
    ),
}


def _entity(path: Path) -> Path:
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaa">]><worksheet', 1
        ),
    )
    return path


@pytest.mark.parametrize(("make", "code", "limits"), HOSTILE.values(), ids=list(HOSTILE))
def test_streaming_refuses_what_read_table_refuses(
    tmp_path: Path, make: Callable, code: str, limits: Limits | None
) -> None:
    path = make(tmp_path)
    with pytest.raises(IntakeError) as whole:
        read_table(path, filename=path.name, limits=limits)
    with pytest.raises(IntakeError) as streamed:
        _streamed(path, limits)
    assert (whole.value.code, streamed.value.code) == (code, code)
    assert str(streamed.value.message) == str(whole.value.message)
