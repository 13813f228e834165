"""The form's cell writer (renderers._sheet_class) writes the same sheet XML as xlsxwriter's
own Worksheet, byte for byte, for every kind of cell a table holds."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from xlsxwriter.worksheet import Worksheet

from linli.reports import renderers
from linli.reports.engine import DATA, SUBTOTAL, TOTAL, HeaderCell, Table

CELLS: list[Any] = [
    "张三",
    "A & B <c> \"d\" 'e'",
    "two\nlines",
    "  leading and trailing  ",
    "control \x01 \x1f char",
    "_x0041_ literal escape",
    "<r>looks rich</r>",
    "=1+2",
    "",
    None,
    0,
    -7,
    12345678901234567,
    1.5,
    1e20,
    2.0 / 3.0,
    Decimal("12.30"),
    True,
    dt.date(2024, 2, 29),
    dt.date(1900, 1, 15),
    "\ufffe odd",
]
KINDS = ["text"] * 10 + ["int"] * 3 + ["decimal"] * 4 + ["text", "date", "date", "text"]


def _table() -> Table:
    columns = [
        HeaderCell(f"c{i}", "group" if 2 <= i <= 5 else "", 10, kind)
        for i, kind in enumerate(KINDS)
    ]
    rows: list[tuple[str, list[Any]]] = [
        (DATA, list(CELLS)),
        (DATA, list(reversed(CELLS))),
        (SUBTOTAL, ["Subtotal", *[""] * (len(CELLS) - 1)]),
        (DATA, [str(v) if v is not None else "" for v in CELLS]),
        (TOTAL, ["Total", "", *[1] * (len(CELLS) - 2)]),
    ]
    return Table(
        title="Title & <more>",
        lines=["Issued by: x"],
        info=["A：", "B：{x}", "C"],
        unit="unit",
        footer=["Signed:", "Checked:"],
        columns=columns,
        rows=iter(rows),
        total=3,
        landscape=True,
    )


def _sheets(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith(("xl/worksheets/", "xl/styles"))}


@pytest.mark.parametrize("max_rows", [renderers.EXCEL_MAX_ROWS, 9])
def test_form_cells_write_what_xlsxwriter_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_rows: int
) -> None:
    ours = tmp_path / "ours.xlsx"
    renderers.render_xlsx(_table(), ours, max_rows=max_rows)
    assert renderers._sheet_class() is not Worksheet
    monkeypatch.setattr(renderers, "_sheet_class", lambda: Worksheet)
    stock = tmp_path / "stock.xlsx"
    renderers.render_xlsx(_table(), stock, max_rows=max_rows)
    a, b = _sheets(ours), _sheets(stock)
    assert a.keys() == b.keys() and len(a) >= 2
    for name in a:
        assert a[name] == b[name], name
    # The comparison covers each kind of cell the form cells write themselves.
    sheet = b"".join(v for k, v in sorted(a.items()) if "worksheets" in k).decode()
    assert 't="inlineStr"><is><t xml:space="preserve">  leading' in sheet
    assert "A &amp; B &lt;c&gt;" in sheet
    assert "_x0001_" in sheet and "_x005F_x0041_" in sheet
    assert "<v>-7</v>" in sheet and "<v>1E+20</v>" in sheet
    assert '"/><c r=' in sheet  # bordered blanks
