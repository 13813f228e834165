"""Cell cleaners: widths and spaces, national IDs, phones, sex and dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from linli.intake.normalise import (
    ParsedDate,
    clean_name,
    clean_text,
    normalise_national_id,
    normalise_phone,
    normalise_sex,
    parse_date,
)

from .conftest import first17_with_check, make_id

ID = make_id("11010519491231001")
SPACED = " ".join([ID[:4], ID[4:8], ID[8:12], ID[12:16], ID[16:]])
WIDE = "".join(chr(ord(c) + 0xFEE0) for c in ID)


def test_clean_text_folds_widths_and_spaces() -> None:
    assert clean_text("  花园小区\u3000３栋　Ａ座  ") == "花园小区 3栋 A座"
    assert clean_text("a\u00a0\u00a0b\t\nc") == "a b c"
    # Chinese punctuation keeps its width.
    assert clean_text("幸福路（东段）") == "幸福路（东段）"


def test_clean_name() -> None:
    assert clean_name("张　 三") == "张三"
    assert clean_name(" 阿依古丽•买买提 ") == "阿依古丽·买买提"
    assert clean_name("John  Smith") == "John Smith"


@pytest.mark.parametrize(
    "cell",
    [ID, SPACED, WIDE, "'" + ID, "\t" + ID + " "],
)
def test_valid_id_forms(cell: str) -> None:
    got = normalise_national_id(cell)
    assert got.ok and got.value is not None
    assert got.value.number == ID
    assert got.value.birth_date == dt.date(1949, 12, 31)


def test_id_with_x_lower_case() -> None:
    first17 = first17_with_check("X")
    got = normalise_national_id(first17 + "x")
    assert got.ok and got.value is not None and got.value.number == first17 + "X"


def test_empty_id_is_ok_without_value() -> None:
    got = normalise_national_id("  ")
    assert got.ok and got.value is None


def test_scientific_notation_id_is_damaged() -> None:
    got = normalise_national_id("1.10101199003071E+17", from_number=True)
    assert (got.ok, got.value, got.code) == (False, None, "id_scientific")
    assert normalise_national_id("1.10105E+17").code == "id_scientific"


def test_float_text_of_an_id_is_damaged() -> None:
    assert normalise_national_id("110105194912310000.0").code == "id_number_precision"


def test_17_digits_whose_x_was_lost() -> None:
    first17 = first17_with_check("X")
    got = normalise_national_id(first17)
    assert got.code == "id_lost_x"
    with translation.override("zh-hans"):
        assert "X" in str(got.reason) and "17" in str(got.reason)


def test_17_digits_not_an_x() -> None:
    first17 = first17_with_check("5")
    assert normalise_national_id(first17).code == "id_length"


def test_18_digit_number_cell_whose_x_became_a_digit() -> None:
    first17 = first17_with_check("X")
    got = normalise_national_id(first17 + "0", from_number=True)
    assert got.code == "id_lost_x"
    # The same text typed as text is an ordinary check-digit error.
    assert normalise_national_id(first17 + "0").code == "id_checksum"


def test_old_15_digit_id() -> None:
    assert normalise_national_id("110105491231002").code == "id_old15"


def test_invalid_id_reason_comes_from_identity() -> None:
    wrong = "1" if ID[-1] != "1" else "2"
    got = normalise_national_id(ID[:-1] + wrong)
    assert got.code == "id_checksum"
    with translation.override("en"):
        assert str(got.reason) == "The national ID number's check digit is wrong."


@pytest.mark.parametrize(
    ("cell", "expected", "extra"),
    [
        ("13800138000", "13800138000", ()),
        ("138 0013 8000", "13800138000", ()),
        ("１３８００１３８０００", "13800138000", ()),
        ("+86 138-0013-8000", "13800138000", ()),
        ("13800138000.0", "13800138000", ()),
        ("(010)62345678", "01062345678", ()),
        ("13800138000/13900139000", "13800138000", ("13900139000",)),
        ("13800138000、13900139000", "13800138000", ("13900139000",)),
    ],
)
def test_phone_forms(cell: str, expected: str, extra: tuple[str, ...]) -> None:
    got = normalise_phone(cell)
    assert (got.ok, got.value, got.extra) == (True, expected, extra)


def test_bad_phones() -> None:
    assert normalise_phone("1380013800").code == "phone_invalid"
    assert normalise_phone("1.38001E+10", from_number=True).code == "phone_scientific"
    assert normalise_phone("").value is None and normalise_phone("").ok


def test_sex() -> None:
    assert normalise_sex("男").value == "M"
    assert normalise_sex(" 女 ").value == "F"
    assert normalise_sex("未知").code == "sex_invalid"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-3-5", ParsedDate(dt.date(2024, 3, 5))),
        ("2024/03/05", ParsedDate(dt.date(2024, 3, 5))),
        ("2024.3.5", ParsedDate(dt.date(2024, 3, 5))),
        ("20240305", ParsedDate(dt.date(2024, 3, 5))),
        ("2024年3月5日", ParsedDate(dt.date(2024, 3, 5))),
        ("2024 年 3 月 5 号", ParsedDate(dt.date(2024, 3, 5))),
        ("２０２４－０３－０５", ParsedDate(dt.date(2024, 3, 5))),
        ("2024-03-05T00:00:00", ParsedDate(dt.date(2024, 3, 5))),
        ("2024-03-05 08:30:00", ParsedDate(dt.date(2024, 3, 5))),
        ("45356", ParsedDate(dt.date(2024, 3, 5))),
        ("45356.5", ParsedDate(dt.date(2024, 3, 5))),
        ("1980年3月", ParsedDate(dt.date(1980, 3, 1), "month")),
        ("1980-03", ParsedDate(dt.date(1980, 3, 1), "month")),
        ("1980.03", ParsedDate(dt.date(1980, 3, 1), "month")),
        ("198003", ParsedDate(dt.date(1980, 3, 1), "month")),
    ],
)
def test_dates(cell: str, expected: ParsedDate) -> None:
    got = parse_date(cell)
    assert (got.ok, got.value) == (True, expected)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("2023-2-29", "date_invalid"),
        ("2024-13-01", "date_invalid"),
        ("1066-10-14", "date_range"),
        ("1980", "date_year_only"),
        ("三月五日", "date_format"),
        ("05/03/2024", "date_format"),
    ],
)
def test_bad_dates(cell: str, code: str) -> None:
    got = parse_date(cell)
    assert (got.ok, got.value, got.code) == (False, None, code)


def test_month_stored_as_a_number_is_ambiguous() -> None:
    assert parse_date("1980.1", from_number=True).code == "date_month_number"


def test_reasons_are_chinese() -> None:
    with translation.override("zh-hans"):
        assert str(parse_date("2023-2-29").reason) == "2023-2-29：没有这一天。"
