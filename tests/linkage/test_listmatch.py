"""The cheap parts of a list match agree with the careful ones: the cached ID check with
core.identity, the bulk HMAC with crypto.blind_index, the plain CSV records with
intake's row stream."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from linli.core import crypto
from linli.core.identity import national_id_check_digit, parse_national_id
from linli.intake.errors import IntakeError
from linli.intake.stream import open_records, open_rows
from linli.linkage.listmatch import QuickIds


def _parsed(raw: str) -> str | None:
    try:
        return parse_national_id(raw).number
    except Exception:
        return None


def test_the_cached_id_check_agrees_with_core_identity() -> None:
    rng = random.Random(3)
    today = dt.date(2026, 11, 22)
    quick = QuickIds(today)
    regions = ["110101", "370102", "440305", "999999", "110100", "000000", "37010a"]
    samples: list[str] = []
    for _ in range(3000):
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(46000))
        first17 = f"{rng.choice(regions)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        right = national_id_check_digit(first17) if first17.isdigit() else "0"
        wrong = rng.choice([c for c in "0123456789X" if c != right])
        samples += [first17 + right, first17 + wrong]
    samples += [
        "11010119900230123X",  # no 30 February
        "110101" + "20270101" + "123" + "0",  # born in the future (check digit aside)
        "110101199001011234"[:17],
        "１１０１０１１９９００１０１１２３４",
        "11010119900101123x",
        "",
    ]
    for raw in samples:
        expected = _parsed(raw) if len(raw) == 18 and raw.isascii() and raw == raw.upper() else None
        if expected is not None:
            born = dt.date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
            if born > today:
                expected = None
        assert quick.check(raw) == expected, raw
    # Plenty of both answers were seen.
    assert sum(quick.check(s) is not None for s in samples) > 1000


def test_the_bulk_hmac_is_the_blind_index() -> None:
    index = crypto.blind_indexer("national_id")
    for value in ("110101199001011234", "甲", "", "x" * 200):
        assert index(value) == crypto.blind_index("national_id", value)
    assert crypto.blind_indexer("phone")("13800000000") == crypto.blind_index(
        "phone", "13800000000"
    )


def _records(path: Path) -> list[tuple[int, list[str]]]:
    with open_records(path, filename=path.name) as stream:
        return [(n, list(cells)) for n, cells in stream.records]


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    with open_rows(path, filename=path.name) as stream:
        return [(r.number, list(r.cells)) for r in stream.rows]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_plain_csv_records_are_the_row_streams_rows(tmp_path: Path, encoding: str) -> None:
    lines = [
        "11月来返人员名单,,,",
        "姓名,身份证号,来源地,抵达时间",
        "张三,110101199001011234,某市,2026-11-01",
        "",
        " 李四 ,,某省",
        ",,,",
        "王五,110101199001011234,某市,2026-11-01,多余",
        "合计,3,,",
        "制表人：赵六,,,",
    ]
    path = tmp_path / "list.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    got = _records(path)
    assert [(n, c[:4]) for n, c in got] == [(n, c[:4]) for n, c in _rows(path)]
    assert [n for n, _c in got] == [3, 5, 7]
    assert got[1][1][:4] == [" 李四 ", "", "某省", ""]  # padded to the header's width


def test_a_workbook_goes_through_the_row_stream(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "身份证号"])
    ws.append(["张三", "110101199001011234"])
    path = tmp_path / "list.xlsx"
    wb.save(path)
    assert _records(path) == [(2, ["张三", "110101199001011234"])]


def test_a_broken_csv_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("姓名,身份证号\n张三,1\n".encode() + b"\xff\xfe\xfa" * 10 + b"\n")
    with pytest.raises(IntakeError):
        _records(path)
