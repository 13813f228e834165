"""Reading rosters as communities keep them: .xlsx with title rows and merged cells, CSV in
the encodings Excel and WPS write. Every file is generated here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from linli.intake.errors import IntakeError
from linli.intake.mapping import suggest_mapping
from linli.intake.normalise import normalise_national_id, normalise_phone, parse_date
from linli.intake.readers import Limits, Row, cell_text, read_table, sniff_delimiter

from .conftest import first17_with_check, make_id, rewrite_member

ID_A = make_id("11010519491231001")
ID_C = make_id("33010219850615002")
LOST_X = first17_with_check("X")

HEADER = [
    "序号",
    "姓名",
    "身份证号（18位）",
    "联系电话",
    "性别",
    "出生日期",
    "楼栋",
    "单元",
    "房号",
    "备注",
]


def ledger_xlsx(path: Path) -> Path:
    """A ledger as grid workers keep it (row numbers in comments)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "人口台账"
    ws["A1"] = "花园社区2024年人口台账"  # 1: title merged across the table
    ws.merge_cells("A1:J1")
    ws["A2"] = "填报单位：花园社区居委会"  # 2: one cell only
    # 3: blank
    for col, h in enumerate(HEADER, start=1):  # 4: the header
        ws.cell(row=4, column=col, value=h)
    rows = {
        5: [1, "张三", ID_A, "13800138000", "男", "1949-12-31", "3栋", "1", "101", ""],
        6: [
            2,
            "李\u3000四",
            1.10101199003071e17,
            "１３９００１３９０００",
            "女",
            "1985年3月5日",
            None,
            "1",
            "102",
            "流动人口",
        ],
        # 7: blank
        8: [3, "王五", int(ID_C), 13700137000, "男", dt.date(1985, 6, 15), "4栋", "2", "201", None],
        9: [4, "赵六", LOST_X, "", "女", "20240305", "4栋", "2", "202", "  "],
        10: ["合计", "4人", None, None, None, None, None, None, None, None],
        11: ["制表人：王芳", None, None, None, None, None, None, None, None, None],
    }
    for r, values in rows.items():
        for col, v in enumerate(values, start=1):
            if v is not None:
                ws.cell(row=r, column=col, value=v)
    ws.merge_cells("G5:G6")  # building written once for rows 5 and 6
    wb.save(path)
    # openpyxl itself writes big integers as floats; other programs write every digit.
    float_id = f"<v>{float(int(ID_C))!r}</v>".encode()
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(float_id, f"<v>{ID_C}</v>".encode()),
    )
    return path


def test_xlsx_ledger(tmp_path: Path) -> None:
    table = read_table(ledger_xlsx(tmp_path / "台账.xlsx"), filename="台账.xlsx")
    assert table.format == "xlsx"
    assert (table.sheet, table.sheets) == ("人口台账", ["人口台账"])
    assert table.headers == HEADER
    assert table.header_row == 4
    assert [r.number for r in table.rows] == [5, 6, 8, 9]
    assert table.dropped == [(10, "totals"), (11, "footer")]
    assert table.rows[0] == Row(
        5,
        ("1", "张三", ID_A, "13800138000", "男", "1949-12-31", "3栋", "1", "101", ""),
        frozenset({0}),
    )
    # The merged building cell is filled down; the ID typed into a number cell is shown as
    # Excel shows it, visibly damaged.
    assert table.rows[1].cells == (
        "2",
        "李\u3000四",
        "1.10101199003071E+17",
        "１３９００１３９０００",
        "女",
        "1985年3月5日",
        "3栋",
        "1",
        "102",
        "流动人口",
    )
    assert table.rows[1].numeric == frozenset({0, 2})
    assert table.rows[2].cells == (
        "3",
        "王五",
        ID_C,
        "13700137000",
        "男",
        "1985-06-15",
        "4栋",
        "2",
        "201",
        "",
    )
    assert table.rows[2].numeric == frozenset({0, 2, 3})
    assert table.rows[3].cells[2] == LOST_X
    assert table.rows[3].cells[9] == ""  # blank trailing cells are trimmed, then padded


def test_xlsx_ledger_cleaned_through_mapping(tmp_path: Path) -> None:
    table = read_table(ledger_xlsx(tmp_path / "a.xlsx"), filename="a.xlsx")
    mapping = suggest_mapping(table.headers)
    assert [c.header for c in mapping.unmapped] == ["序号"]
    col = mapping.fields
    results = []
    for row in table.rows:
        i = col["national_id"]
        got = normalise_national_id(row.cells[i], from_number=i in row.numeric)
        results.append((row.number, got.value.number if got.value else None, got.code))
    assert results == [
        (5, ID_A, None),
        (6, None, "id_scientific"),
        (8, ID_C, None),
        (9, None, "id_lost_x"),
    ]
    phone = normalise_phone(table.rows[1].cells[col["phone"]])
    assert phone.value == "13900139000"
    dates = [parse_date(r.cells[col["birth_date"]]).value for r in table.rows]
    assert [d.date if d else None for d in dates] == [
        dt.date(1949, 12, 31),
        dt.date(1985, 3, 5),
        dt.date(1985, 6, 15),
        dt.date(2024, 3, 5),
    ]


def test_number_cell_id_whose_x_became_zero(tmp_path: Path) -> None:
    digits = LOST_X + "0"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "身份证号"])
    ws.append(["赵六", 1])
    path = tmp_path / "n.xlsx"
    wb.save(path)
    rewrite_member(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<v>1</v>", f"<v>{digits}</v>".encode()),
    )
    row = read_table(path, filename="n.xlsx").rows[0]
    assert (row.cells, row.numeric) == (("赵六", digits), frozenset({1}))
    assert normalise_national_id(row.cells[1], from_number=True).code == "id_lost_x"


def test_xlsx_from_bytes_and_named_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "说明"
    first["A1"] = "本表由社区填报"
    ws = wb.create_sheet("名单")
    ws.append(["姓名", "手机号"])
    ws.append(["张三", "13800138000"])
    path = tmp_path / "b.xlsx"
    wb.save(path)
    table = read_table(path.read_bytes(), filename="b.xlsx", sheet="名单")
    assert (table.sheet, table.header_row, table.headers) == ("名单", 1, ["姓名", "手机号"])
    assert table.rows == [Row(2, ("张三", "13800138000"))]
    with pytest.raises(IntakeError) as exc:
        read_table(path, filename="b.xlsx", sheet="没有")
    assert exc.value.code == "no_sheet"
    # The first sheet has no header row (one cell).
    with pytest.raises(IntakeError) as exc:
        read_table(path, filename="b.xlsx")
    assert exc.value.code == "no_header"


def test_renamed_files_are_read_by_content(tmp_path: Path) -> None:
    path = ledger_xlsx(tmp_path / "a.xlsx")
    table = read_table(path.read_bytes(), filename="名单.xls")
    assert table.format == "xlsx" and len(table.rows) == 4


def test_header_without_known_names_falls_back_to_first_wide_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("city list 2024\nid,full name\n1,Zhang\n", encoding="utf-8")
    table = read_table(path, filename="c.csv")
    assert (table.header_row, table.headers) == (2, ["id", "full name"])
    assert table.rows == [Row(3, ("1", "Zhang"))]


@pytest.mark.parametrize(
    ("value", "text", "numeric"),
    [
        (None, "", False),
        (True, "TRUE", False),
        (110105194912310021, "110105194912310021", True),
        (13800138000.0, "13800138000", True),
        (1.10101199003071e17, "1.10101199003071E+17", True),
        (1234567890123456.0, "1.23456789012346E+15", True),
        (0.1 + 0.2, "0.3", True),
        (dt.datetime(2024, 3, 5), "2024-03-05", False),
        (dt.datetime(2024, 3, 5, 8, 30), "2024-03-05T08:30:00", False),
        (dt.date(2024, 3, 5), "2024-03-05", False),
        ("  文本 ", "  文本 ", False),
    ],
)
def test_cell_text(value: object, text: str, numeric: bool) -> None:
    assert cell_text(value) == (text, numeric)


# --- CSV ------------------------------------------------------------------------------

CSV_TEXT = (
    "花园社区流动人口登记表\n"
    "\n"
    "姓名,身份证号,联系电话,现住址\n"
    f'张三,{ID_A},13800138000,"幸福路1号,3栋"\n'
    ",,,\n"
    '李四,1.10101E+17,13900139000,"多行\n地址"\n'
    "合计,2人,,\n"
)
EXPECTED_ROWS = [
    Row(4, ("张三", ID_A, "13800138000", "幸福路1号,3栋")),
    Row(6, ("李四", "1.10101E+17", "13900139000", "多行\n地址")),
]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gb18030", "gb18030"),
        ("gbk", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_csv_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    table = read_table(path, filename="list.csv")
    assert (table.format, table.encoding, table.delimiter) == ("csv", expected, ",")
    assert table.header_row == 3
    assert table.headers == ["姓名", "身份证号", "联系电话", "现住址"]
    assert table.rows == EXPECTED_ROWS
    assert table.dropped == [(8, "totals")]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters(tmp_path: Path, delimiter: str) -> None:
    text = f"姓名{delimiter}手机号{delimiter}备注\n张三{delimiter}13800138000{delimiter}a,b\n"
    if delimiter == ",":
        text = text.replace("a,b", '"a,b"')
    table = read_table(text.encode("utf-8"), filename="x.txt")
    assert table.delimiter == delimiter
    assert table.rows == [Row(2, ("张三", "13800138000", "a,b"))]


def test_sniff_delimiter_prefers_consistent_splits() -> None:
    assert sniff_delimiter(["a;b;c", "1;2,5;3", "4;5;6"]) == ";"
    assert sniff_delimiter([]) == ","


def test_undecidable_encoding_is_refused(tmp_path: Path) -> None:
    # Latin-1 text: not UTF-8, not GB18030, and not a Chinese encoding.
    path = tmp_path / "x.csv"
    path.write_bytes("Name;Ort\nJosé Müller;Köln\xff\n".encode("latin-1"))
    with pytest.raises(IntakeError) as exc:
        read_table(path, filename="x.csv")
    assert exc.value.code == "encoding_unknown"


def test_big5_is_not_read_as_gbk_silently(tmp_path: Path) -> None:
    text = "姓名,電話,地址\n陳大文,0912345678,臺北市信義路\n林小美,0987654321,高雄市鳳山區\n" * 20
    path = tmp_path / "tw.csv"
    path.write_bytes(text.encode("big5"))
    try:
        table = read_table(path, filename="tw.csv")
    except IntakeError as exc:
        assert exc.code == "encoding_unknown"
    else:
        # Either refused, or read right: never garbled.
        assert table.encoding in ("big5", "cp950", "big5hkscs")
        assert table.rows[0].cells[0] == "陳大文"


def test_binary_as_csv_is_refused() -> None:
    with pytest.raises(IntakeError) as exc:
        read_table(b"\x00\x01\x02name,phone\n", filename="x.csv")
    assert exc.value.code == "binary"


def test_limits_from_settings(settings: object) -> None:
    settings.LINLI_INTAKE_MAX_ROWS = 7  # type: ignore[attr-defined]
    assert Limits.from_settings().max_rows == 7
    assert Limits.from_settings(max_rows=9).max_rows == 9
    assert Limits.from_settings().max_cell_chars == 10_000
