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


# --- the PostgreSQL entry path (decision 0046) -------------------------------------------------

_NOW = dt.datetime(2026, 11, 23, 2, 30, 5, 123456, tzinfo=dt.UTC)


def test_copy_line_escapes_what_copy_text_must_escape() -> None:
    from linli.linkage.listmatch import copy_line

    line = copy_line((7, "a\\b\tc\nd\re", None, 0.8567, _NOW, "某市"))
    assert line == "7\ta\\\\b\\tc\\nd\\re\t\\N\t0.8567\t2026-11-23T02:30:05.123456+00:00\t某市"


def test_exact_lines_are_copy_lines_of_the_whole_entry() -> None:
    from linli.linkage.listmatch import ENTRY_COLUMNS, copy_line, exact_lines

    hits = [
        (3, "张三", "1101**********1234", "", "某省某市", "2026-11-01", 41),
        (4, "李四", "1101**********123X", "138****0000", "C:\\某地", "11月\t2日", 42),
        (5, "王五", "1101**********5678", "", "", "", 43),
    ]
    lines = exact_lines(9, hits, _NOW)
    stamp = _NOW.isoformat()
    for line, (row, name, masked, phone, origin, arrived, pk) in zip(lines, hits, strict=True):
        whole = (9, row, name, masked, phone, origin, arrived, "exact", pk, 1.0)
        assert line == copy_line((*whole, '["id_exact"]', stamp, stamp))
        assert line.count("\t") == len(ENTRY_COLUMNS) - 1


def test_plain_rows_are_what_the_cleaners_would_make_of_them() -> None:
    from linli.core.identity import mask_national_id
    from linli.intake.normalise import clean_name, clean_text
    from linli.linkage.listmatch import _clean

    first17 = "11010119900101123"
    good = first17 + national_id_check_digit(first17)
    cells = [
        ["张三", good, "", "某省某市", "2026-11-01"],  # plain
        ["张 三", good, "", "某省某市", "2026-11-01"],  # name to clean
        ["李四", good, "13800000000", "某市", "11月1日"],  # a phone
        ["王五", good, "", "某省  某市", "2026-11-01"],  # where-from to clean
        ["赵六", good, "", "某" * 201, ""],  # too long a where-from
        ["钱七", good[:17] + "0" if good[17] != "0" else good[:17] + "1", "", "", ""],  # bad ID
        ["孙八", "１" + good[1:], "", "", ""],  # full-width digit
    ]
    columns = {"name": 0, "national_id": 1, "phone": 2, "origin": 3, "arrived": 4}
    index = crypto.blind_indexer("national_id")
    plain, other = _clean(
        list(enumerate(cells, start=2)), columns, QuickIds(dt.date(2026, 11, 23)), index
    )
    assert [p[0] for p in plain] == [2]
    assert [r.row for r in other] == [3, 4, 5, 6, 7, 8]
    _number, row_cells, name, origin, arrived, id_number, bidx, masked = plain[0]
    assert (name, origin, arrived) == (
        clean_name(row_cells[0]),
        clean_text(row_cells[3]),
        clean_text(row_cells[4]),
    )
    assert (id_number, bidx, masked) == (good, index(good), mask_national_id(good))
    by_row = {r.row: r for r in other}
    assert by_row[3].name == "张三" and by_row[3].id_bidx == bidx
    assert by_row[4].phone == "13800000000" and by_row[4].id_bidx == bidx
    assert by_row[5].origin == "某省 某市"
    assert by_row[6].origin == "某" * 200
    assert by_row[7].id_bidx == ""  # kept as typed for the engine, not looked up
    assert by_row[8].id_number == good and by_row[8].id_bidx == bidx


@pytest.mark.django_db
def test_postgres_reads_the_copy_text_back_as_the_values() -> None:
    from django.db import connection

    from linli.linkage.listmatch import copy_line, exact_lines

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's COPY")
    hits = [(4, "李\\四", "1101**********123X", "", "C:\\某地\t东", "11月\n2日", 42)]
    text = "\n".join([*exact_lines(9, hits, _NOW), copy_line((10, None, "x\ry", 0.5))]) + "\n"
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMPORARY TABLE t (a bigint, b int, c text, d text, e text, f text, "
            "g text, h text, i bigint, j float8, k jsonb, l timestamptz, m timestamptz)"
        )
        with cur.cursor.copy("COPY t FROM STDIN") as copy:
            copy.write(text.splitlines(keepends=True)[0].encode())
        cur.execute("CREATE TEMPORARY TABLE u (a bigint, b int, c text, d float8)")
        with cur.cursor.copy("COPY u FROM STDIN") as copy:
            copy.write(text.splitlines(keepends=True)[1].encode())
        cur.execute("SELECT c, e, f, g, h, i, j, k::text, l FROM t")
        assert cur.fetchone() == (
            "李\\四",
            "",
            "C:\\某地\t东",
            "11月\n2日",
            "exact",
            42,
            1.0,
            '["id_exact"]',
            _NOW,
        )
        cur.execute("SELECT a, b, c, d FROM u")
        assert cur.fetchone() == (10, None, "x\ry", 0.5)


@pytest.mark.django_db
def test_a_failed_background_write_undoes_the_whole_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry batch the server refuses (written by the thread) is raised in the match and
    nothing of the list is left: all or nothing, the index read in the background too."""
    from django.db import DatabaseError, connection

    from linli.linkage import listmatch
    from linli.linkage import services as svc
    from linli.linkage.models import WatchList, WatchListEntry
    from tests.factories import make_world
    from tests.linkage.test_match import write_list

    if connection.vendor != "postgresql":
        pytest.skip("the background writes are PostgreSQL's")
    world = make_world()
    path = write_list(tmp_path / "list.csv", world, member_id=world.a.member.reveal_national_id())
    monkeypatch.setattr(listmatch, "SCAN_FROM_ROWS", 0)
    real = listmatch.exact_lines
    monkeypatch.setattr(
        listmatch, "exact_lines", lambda *a: [line + "\textra" for line in real(*a)]
    )
    with pytest.raises(DatabaseError):
        svc.watch_list_match(actor=None, path=path, list_name="坏名单", area=world.community)
    assert not WatchList.objects.filter(name="坏名单").exists()
    assert not WatchListEntry.objects.exists()
    monkeypatch.setattr(listmatch, "exact_lines", real)
    result = svc.watch_list_match(actor=None, path=path, list_name="好名单", area=world.community)
    assert result.counts["exact"] == 2
    assert WatchListEntry.objects.filter(watch_list=result.watch_list).count() == 6
