"""Old .xls files through xlrd. No Python library can write .xls (xlwt is not a dependency),
so the fixture is converted from a generated .xlsx by LibreOffice when it is installed."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from linli.intake.errors import IntakeError
from linli.intake.readers import OLE2_MAGIC, Row, read_table

from .conftest import make_id

ID = make_id("11010519491231001")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is needed to write .xls")
def test_xls_roster(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "名单"
    ws.append(["花园社区名单"])
    ws.append([])
    ws.append(["姓名", "身份证号", "电话", "出生日期"])
    ws.append(["张三", ID, 13800138000, dt.date(1949, 12, 31)])
    ws.append(["李四", int(ID), "13900139000", "1985年3月5日"])
    ws.append(["合计", "2人"])
    src = tmp_path / "in.xlsx"
    wb.save(src)
    assert SOFFICE is not None
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "xls",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    path = tmp_path / "in.xls"
    assert path.read_bytes()[:8] == OLE2_MAGIC
    table = read_table(path, filename="名单.xls")
    assert (table.format, table.sheet, table.header_row) == ("xls", "名单", 3)
    assert table.headers == ["姓名", "身份证号", "电话", "出生日期"]
    # .xls numbers are floats: the ID typed into a number cell comes out visibly damaged.
    assert table.rows == [
        Row(4, ("张三", ID, "13800138000", "1949-12-31"), frozenset({2})),
        Row(
            5,
            (
                "李四",
                f"{float(ID):.14e}".split("e")[0].rstrip("0") + "E+17",
                "13900139000",
                "1985年3月5日",
            ),
            frozenset({1}),
        ),
    ]
    assert table.dropped == [(6, "totals")]


def test_damaged_xls_is_refused() -> None:
    with pytest.raises(IntakeError) as exc:
        read_table(OLE2_MAGIC + b"\0" * 2000, filename="x.xls")
    assert exc.value.code == "corrupt"
