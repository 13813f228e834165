"""Cleaning the cells of community ledgers: widths, spaces, national IDs, phones and dates.

Every cleaner returns a `Checked`: the value, or no value and a reason the worker can read
(translatable). Damaged values are reported, never repaired by guessing: an ID that lost its
final X or its last digits to Excel's number format is returned as a problem.
Validation itself (check digit, region, phone shape) is linli.core.identity's.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.core.identity import NationalId, national_id_check_digit, parse_national_id
from linli.core.identity import normalise_phone as _identity_phone

T = TypeVar("T")


@dataclass(frozen=True)
class Checked(Generic[T]):
    """A cleaned value, or None with a code and a reason. Empty input is ok with value None."""

    value: T | None
    code: str | None = None
    reason: str | Promise | None = None
    #: Further values found in the cell (a second phone number), kept for the notes.
    extra: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code is None


def _problem(code: str, reason: str | Promise) -> Checked[T]:
    return Checked(value=None, code=code, reason=reason)


# Full-width digits, letters and the ideographic space; other characters keep their width,
# so Chinese punctuation in names and addresses （，：） is left alone.
_WIDTH = {
    c: c - 0xFEE0
    for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for c in range(start, end + 1)
} | {0x3000: 0x20}
_SPACES_RE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\ufeff]+")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP_RE = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")
_NAME_DOTS_RE = re.compile(r"[•・‧∙⋅●.．]")


def clean_text(value: str) -> str:
    """Full-width letters, digits and spaces to half-width; trim; collapse runs of spaces."""
    value = value.translate(_WIDTH)
    return _SPACES_RE.sub(" ", value).strip()


def clean_name(value: str) -> str:
    """A person's name: spaces padding Chinese names ("张  三") go, the dot of names such as
    阿依古丽·买买提 is made one character; Latin names keep their single spaces."""
    value = unicodedata.normalize("NFKC", clean_text(value))
    value = _CJK_GAP_RE.sub("", value)
    return _NAME_DOTS_RE.sub("·", value)


def _fold_code(value: str) -> str:
    """For numbers and codes: NFKC, no spaces or dashes, no leading apostrophe (Excel's
    'store as text' mark), upper case."""
    value = unicodedata.normalize("NFKC", value)
    value = _SPACES_RE.sub("", value).replace("-", "")
    return value.lstrip("'`‘’").upper()


_SCIENTIFIC_RE = re.compile(r"^\d(\.\d+)?E\+?\d+$")
_FLOAT_TEXT_RE = re.compile(r"^(\d+)\.0+$")


def normalise_national_id(value: str, *, from_number: bool = False) -> Checked[NationalId]:
    """A national ID from a cell. `from_number`: the cell was stored as a number, so a final
    X cannot have survived."""
    raw = _fold_code(value)
    if not raw:
        return Checked(None)
    if _SCIENTIFIC_RE.match(raw):
        return _problem(
            "id_scientific",
            _(
                "The national ID was stored as a number and shown in scientific notation; its "
                "last digits are lost. Enter it again from the original, formatted as text."
            ),
        )
    float_text = _FLOAT_TEXT_RE.match(raw)
    if float_text:
        raw = float_text.group(1)
        from_number = True
        if len(raw) > 15:
            # A floating-point number keeps 15 significant digits: the rest is not the ID.
            return _problem(
                "id_number_precision",
                _(
                    "The national ID was stored as a number, which keeps only 15 digits. "
                    "Enter it again from the original, formatted as text."
                ),
            )
    if len(raw) == 15 and raw.isdigit():
        return _problem(
            "id_old15", _("This is an old 15-digit ID number; enter the 18-digit number.")
        )
    if len(raw) == 17 and raw.isdigit():
        if national_id_check_digit(raw) == "X":
            return _problem(
                "id_lost_x",
                _(
                    "The national ID has 17 digits: its final X was probably lost. Check the "
                    "original and enter it with the X."
                ),
            )
        return _problem("id_length", _("The national ID has 17 digits: one is missing."))
    if (
        from_number
        and len(raw) == 18
        and raw.isdigit()
        and national_id_check_digit(raw[:17]) == "X"
    ):
        return _problem(
            "id_lost_x",
            _(
                "The national ID was stored as a number and its check digit is wrong: the final "
                "X was probably lost. Check the original and enter it with the X."
            ),
        )
    try:
        return Checked(parse_national_id(raw))
    except ValidationError as exc:
        err = exc.error_list[0]
        return _problem(f"id_{err.code or 'invalid'}", err.message)


_PHONE_SPLIT_RE = re.compile(r"[/、,，;；|]|\s{1,}|或")


def normalise_phone(value: str, *, from_number: bool = False) -> Checked[str]:
    """A phone number from a cell; a cell with several numbers gives the first valid one and
    the others in `extra`."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return Checked(None)
    compact = _fold_code(text)
    if _SCIENTIFIC_RE.match(compact):
        return _problem(
            "phone_scientific",
            _("The phone number was stored as a number and shown in scientific notation."),
        )
    float_text = _FLOAT_TEXT_RE.match(compact)
    if float_text:
        compact = float_text.group(1)
    candidates = [compact]
    parts = [p for p in _PHONE_SPLIT_RE.split(text) if p.strip()]
    if len(parts) > 1 and not _is_phone(compact):
        candidates = [_fold_code(p).strip("()（）") for p in parts]
    found: list[str] = []
    for cand in candidates:
        cand = re.sub(r"[()]", "", cand)
        try:
            found.append(_identity_phone(cand))
        except ValidationError:
            continue
    if not found:
        return _problem(
            "phone_invalid",
            _("Enter an 11-digit mobile number or a landline with its area code."),
        )
    return Checked(found[0], extra=tuple(found[1:]))


def _is_phone(value: str) -> bool:
    try:
        _identity_phone(re.sub(r"[()]", "", value))
    except ValidationError:
        return False
    return True


@dataclass(frozen=True)
class ParsedDate:
    """A date read from a cell; precision "month" for 出生年月 such as 1980年3月 (day 1)."""

    date: dt.date
    precision: Literal["day", "month"] = "day"


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DAY_RES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_RES = (
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
    re.compile(r"^(\d{4})[-/](\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{2})$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
MIN_YEAR = 1880
MAX_YEAR = 2100


def _make_date(year: int, month: int, day: int, original: str) -> Checked[dt.date]:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return _problem(
            "date_range", format_lazy(_("{value}: the year is implausible."), value=original)
        )
    try:
        return Checked(dt.date(year, month, day))
    except ValueError:
        return _problem(
            "date_invalid", format_lazy(_("{value}: there is no such date."), value=original)
        )


def parse_date(value: str, *, from_number: bool = False) -> Checked[ParsedDate]:
    """A date in the formats of Chinese ledgers: 2024-3-5, 2024/03/05, 2024.3.5, 20240305,
    2024年3月5日, an Excel serial number (43530), 1980年3月 (month precision)."""
    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", value))
    if not text:
        return Checked(None)
    for rx in _DAY_RES:
        m = rx.match(text)
        if m:
            got = _make_date(int(m[1]), int(m[2]), int(m[3]), text)
            if got.value is None:
                return _problem(got.code or "date_invalid", got.reason or "")
            return Checked(ParsedDate(got.value))
    if from_number and re.match(r"^\d{4}\.\d$", text):
        # 1980.10 typed into a number cell became 1980.1: October or January cannot be told.
        return _problem(
            "date_month_number",
            format_lazy(
                _("{value}: a year and month stored as a number; the month is ambiguous."),
                value=text,
            ),
        )
    for rx in _MONTH_RES:
        m = rx.match(text)
        if m:
            got = _make_date(int(m[1]), int(m[2]), 1, text)
            if got.code or got.value is None:
                return _problem(got.code or "date_invalid", got.reason or "")
            return Checked(ParsedDate(got.value, "month"))
    if re.match(r"^\d{4}(年)?$", text):
        return _problem(
            "date_year_only",
            format_lazy(_("{value}: only a year; the month and day are needed."), value=text),
        )
    # Serial numbers (days since 1899-12-30) of 5 digits cover 1927 to 2173: a date cell
    # whose format was lost, or a CSV saved from one.
    serial = re.match(r"^(\d{5})(\.\d+)?$", text)
    if serial:
        days = int(serial[1])
        # Excel counts 1900-02-29, which did not exist; serials from 1900-03-01 on are right.
        if days == 60 or days < 1:
            return _problem(
                "date_invalid", format_lazy(_("{value}: there is no such date."), value=text)
            )
        date = _EXCEL_EPOCH + dt.timedelta(days=days + (1 if days < 60 else 0))
        if not MIN_YEAR <= date.year <= MAX_YEAR:
            return _problem(
                "date_range", format_lazy(_("{value}: the year is implausible."), value=text)
            )
        return Checked(ParsedDate(date))
    return _problem(
        "date_format",
        format_lazy(_("{value}: not a date in a format we know (e.g. 2024-03-05)."), value=text),
    )


_SEX = {
    "男": "M",
    "男性": "M",
    "m": "M",
    "male": "M",
    "女": "F",
    "女性": "F",
    "f": "F",
    "female": "F",
}


def normalise_sex(value: str) -> Checked[str]:
    """男/女 (and M/F) → "M"/"F"."""
    text = clean_text(value).lower()
    if not text:
        return Checked(None)
    if text in _SEX:
        return Checked(_SEX[text])
    return _problem("sex_invalid", format_lazy(_("{value}: write 男 or 女."), value=value))
