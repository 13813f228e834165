"""Reading the tables of .xlsx, .xls and .csv files into rows of text.

What a file is comes from its first bytes, not its name (a renamed file is common). Hostile
files are refused before the expensive work: the zip directory of an .xlsx is checked for
bombs before openpyxl opens it, and openpyxl parses XML through defusedxml, which refuses
entity declarations. Formulas are never evaluated: a cell's cached value is read, and a
formula without one is refused with the cell named. Every refusal is an IntakeError.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.intake.errors import IntakeError
from linli.intake.mapping import header_score

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: Rows looked at to find the header row (title rows may sit above it).
HEADER_SEARCH_ROWS = 30
_TOTALS = frozenset({"合计", "总计", "小计", "共计", "总数", "累计"})
_FOOTERS = ("制表人", "填表人", "审核人", "制表日期", "填报日期", "填报单位", "负责人")


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused. Defaults can be set in settings
    (LINLI_INTAKE_MAX_ROWS, LINLI_INTAKE_MAX_CELL_CHARS, LINLI_INTAKE_MAX_FILE_BYTES, ...)."""

    max_rows: int = 1_100_000
    max_cell_chars: int = 10_000
    max_columns: int = 500
    max_file_bytes: int = 512 * 1024 * 1024
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: int = 200
    max_zip_members: int = 5_000

    @classmethod
    def from_settings(cls, **overrides: int | None) -> Limits:
        values: dict[str, int] = {}
        for name in cls.__dataclass_fields__:
            given = overrides.get(name)
            if given is not None:
                values[name] = given
            else:
                values[name] = int(getattr(settings, f"LINLI_INTAKE_{name.upper()}", 0)) or int(
                    getattr(cls, name)
                )
        return cls(**values)


@dataclass(frozen=True)
class Row:
    """One data row: its 1-based row (line) number in the file and its cells as text."""

    number: int
    cells: tuple[str, ...]
    #: Indexes of the cells that were stored as numbers (an ID there may have lost its X).
    numeric: frozenset[int] = frozenset()


@dataclass
class Table:
    """A table read from a file: the header row, the data rows, and how it was read."""

    format: str  # "xlsx", "xls" or "csv"
    headers: list[str]
    header_row: int
    rows: list[Row]
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    #: Rows left out on purpose: (row number, "totals" or "footer").
    dropped: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Raw:
    number: int
    cells: list[str]
    numeric: set[int]


def read_table(
    source: str | Path | bytes,
    *,
    filename: str,
    sheet: str | None = None,
    max_rows: int | None = None,
    max_cell_chars: int | None = None,
    limits: Limits | None = None,
) -> Table:
    """Read the table of a spreadsheet or CSV file (a path or its bytes).

    Raises IntakeError when the file cannot be read safely or at all. A cell longer than
    max_cell_chars refuses the whole file: such a cell is a broken export or an attack, and
    openpyxl has already had to hold it, so the file is not worth reading further.
    """
    lim = limits or Limits.from_settings(max_rows=max_rows, max_cell_chars=max_cell_chars)
    if limits is not None and (max_rows is not None or max_cell_chars is not None):
        lim = Limits(
            **{
                **lim.__dict__,
                **({"max_rows": max_rows} if max_rows is not None else {}),
                **({"max_cell_chars": max_cell_chars} if max_cell_chars is not None else {}),
            }
        )
    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    if size == 0:
        raise IntakeError("empty", _("The file is empty."))
    if size > lim.max_file_bytes:
        raise IntakeError(
            "file_too_large",
            format_lazy(
                _("The file is larger than {limit} MB; split it into smaller files."),
                limit=lim.max_file_bytes // (1024 * 1024),
            ),
        )
    with _open(source) as fh:
        head = fh.read(8)
        fh.seek(0)
        suffix = Path(filename).suffix.lower()
        if head.startswith(ZIP_MAGIC):
            return _read_xlsx(fh, sheet, lim)
        if head == OLE2_MAGIC:
            return _read_xls(fh.read(), sheet, lim)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            raise IntakeError(
                "not_spreadsheet",
                _(
                    "This file is not an Excel workbook, whatever its name says. Open it in "
                    "Excel or WPS and save it as .xlsx, then import it again."
                ),
            )
        if suffix in (".csv", ".txt", ".tsv"):
            return _read_csv(fh, lim)
    raise IntakeError("unsupported_format", _("Only .xlsx, .xls and .csv files can be imported."))


def _open(source: str | Path | bytes) -> BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    return Path(source).open("rb")


# --- cells -------------------------------------------------------------------------------


def cell_text(value: Any) -> tuple[str, bool]:
    """(text, stored as a number) for a cell value from openpyxl or xlrd.

    Integers keep every digit. A float keeps at most 15 significant digits in Excel, so an
    integral float of 16 digits or more (an ID typed into a number cell) is written the way
    Excel shows it, 1.10101199003071E+17: visibly damaged, never a plausible wrong ID.
    """
    if type(value) is str:
        return value, False  # most cells; what the last line below gives them, sooner
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value), True
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), True
        if value.is_integer():
            mantissa, exponent = f"{value:.14e}".split("e")
            mantissa = mantissa.rstrip("0").rstrip(".")
            return f"{mantissa}E+{int(exponent)}", True
        return format(value, ".15g"), True
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat(), False
        return value.isoformat(), False
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(), False
    if isinstance(value, dt.timedelta):
        return str(value), False
    return str(value), False


def _check_cell(text: str, row: int, col: int, lim: Limits) -> None:
    if len(text) > lim.max_cell_chars:
        raise IntakeError(
            "cell_too_long",
            format_lazy(
                _(
                    "Row {row}, column {column} holds more than {limit} characters; a roster "
                    "cell is never that long. The file was not read."
                ),
                row=row,
                column=_column_letter(col),
                limit=lim.max_cell_chars,
            ),
        )


def _column_letter(index: int) -> str:
    """0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _too_many_rows(lim: Limits) -> IntakeError:
    return IntakeError(
        "too_many_rows",
        format_lazy(
            _("The file has more than {limit} rows; split it into smaller files."),
            limit=lim.max_rows,
        ),
    )


def _too_many_columns(row: int, lim: Limits) -> IntakeError:
    return IntakeError(
        "too_many_columns",
        format_lazy(
            _("Row {row} has more than {limit} columns; this is not a roster."),
            row=row,
            limit=lim.max_columns,
        ),
    )


def _convert_row(values: Sequence[Any], number: int, lim: Limits) -> _Raw:
    if len(values) > lim.max_columns:
        # openpyxl pads to the last cell; only a non-empty cell beyond the limit counts.
        if any(v is not None and v != "" for v in values[lim.max_columns :]):
            raise _too_many_columns(number, lim)
        values = values[: lim.max_columns]
    cells: list[str] = []
    numeric: set[int] = set()
    for col, value in enumerate(values):
        text, is_number = cell_text(value)
        _check_cell(text, number, col, lim)
        cells.append(text)
        if is_number:
            numeric.add(col)
    while cells and not cells[-1].strip():
        cells.pop()
    return _Raw(number, cells, numeric)


# --- xlsx --------------------------------------------------------------------------------


def _check_zip(zf: zipfile.ZipFile, lim: Limits) -> None:
    """Refuse zip bombs from the sizes the zip directory declares (zipfile enforces them
    when the members are read: a member that inflates past its declared size is an error)."""
    infos = zf.infolist()
    if len(infos) > lim.max_zip_members:
        raise IntakeError("zip_bomb", _("The workbook holds too many parts to be a roster."))
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > lim.max_compression_ratio:
            raise IntakeError(
                "zip_bomb",
                _(
                    "The workbook is compressed far beyond what a real spreadsheet is "
                    "(a 'zip bomb'); it was not opened."
                ),
            )
    if total > lim.max_uncompressed_bytes:
        raise IntakeError(
            "zip_bomb",
            format_lazy(
                _("Unpacked, the workbook would take more than {limit} MB; it was not opened."),
                limit=lim.max_uncompressed_bytes // (1024 * 1024),
            ),
        )
    names = set(zf.namelist())
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise IntakeError(
            "not_spreadsheet",
            _("This zip file is not an Excel workbook. Save it as .xlsx and try again."),
        )


_COORD_RE = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _coordinate(ref: str) -> tuple[int, int]:
    """ "C5" → (row 5, column index 2)."""
    m = _COORD_RE.match(ref)
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    return int(m[2]), col - 1


_SCAN_RE = re.compile(rb"<(?:\w+:)?(?:f|mergeCell)[\s>/]")


def _scan_sheet(zf: zipfile.ZipFile, member: str) -> tuple[set[tuple[int, int]], list[str]]:
    """Cells holding a formula without a cached value, and the merged ranges of a sheet.

    openpyxl in data_only mode hides both, so the sheet XML is read once more, with
    defusedxml, and only when a cheap byte search says it contains formulas or merges.
    """
    with zf.open(member) as raw:
        tail = b""
        found = False
        for chunk in iter(lambda: raw.read(1024 * 1024), b""):
            if _SCAN_RE.search(tail + chunk):
                found = True
                break
            tail = chunk[-32:]
    if not found:
        return set(), []
    from defusedxml.ElementTree import iterparse

    formulas: set[tuple[int, int]] = set()
    merges: list[str] = []
    with zf.open(member) as raw:
        for _event, elem in iterparse(raw, events=("end",)):
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "c":
                has_formula = has_value = False
                for child in elem:
                    ctag = child.tag.rsplit("}", 1)[-1]
                    if ctag == "f":
                        has_formula = True
                    elif ctag in ("v", "is") and (child.text or len(child)):
                        has_value = True
                ref = elem.get("r")
                if has_formula and not has_value and ref:
                    formulas.add(_coordinate(ref))
                elem.clear()
            elif tag == "row":
                elem.clear()
            elif tag == "mergeCell" and elem.get("ref"):
                merges.append(str(elem.get("ref")))
    return formulas, merges


def _read_xlsx(fh: BinaryIO, sheet: str | None, lim: Limits) -> Table:
    import openpyxl
    from defusedxml import DefusedXmlException

    if not openpyxl.DEFUSEDXML:
        # Fail closed: without defusedxml openpyxl would expand XML entities.
        raise IntakeError(
            "xml_unsafe", _("Workbooks cannot be read safely on this server (defusedxml).")
        )
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt() from exc
    with zf:
        _check_zip(zf, lim)
        try:
            return _read_workbook(fh, sheet, lim, zf)
        except IntakeError:
            raise
        except Exception as exc:
            if not _caused_by(exc, DefusedXmlException):
                # openpyxl raises many kinds of errors on a malformed part.
                raise _corrupt() from exc
            raise IntakeError(
                "xml_entities",
                _(
                    "The workbook contains XML entity declarations, which real spreadsheets "
                    "never do (an 'entity bomb'); it was not read."
                ),
            ) from exc


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """True when `kind` is anywhere in the chain (openpyxl wraps parse errors in ValueError)."""
    seen: BaseException | None = exc
    for _depth in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _corrupt() -> IntakeError:
    return IntakeError(
        "corrupt",
        _(
            "The workbook is damaged and cannot be read. Open it in Excel or WPS, save it "
            "again as .xlsx, and import it again."
        ),
    )


def _read_workbook(fh: BinaryIO, sheet: str | None, lim: Limits, zf: zipfile.ZipFile) -> Table:
    import openpyxl

    fh.seek(0)
    wb = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
    try:
        names = list(wb.sheetnames)
        ws = _pick_sheet(wb, names, sheet)
        member = str(ws._worksheet_path).lstrip("/")
        formulas, merge_refs = _scan_sheet(zf, member)
        ws.reset_dimensions()  # a lying <dimension> must not make us pad a million rows
        raws: list[_Raw] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if not any(v is not None and v != "" for v in values):
                continue
            if len(raws) >= lim.max_rows:
                raise _too_many_rows(lim)
            raws.append(_convert_row(values, number, lim))
    finally:
        wb.close()
    table = _assemble(raws, "xlsx", merges=_vertical_merges(merge_refs))
    table.sheet = ws.title
    table.sheets = names
    _refuse_formulas(table, formulas)
    return table


def _pick_sheet(wb: Any, names: list[str], sheet: str | None) -> Any:
    if sheet is None:
        if not wb.worksheets:
            raise IntakeError("no_sheet", _("The workbook has no worksheet."))
        return wb.worksheets[0]
    if sheet not in names:
        raise IntakeError(
            "no_sheet",
            format_lazy(_("The workbook has no sheet named {sheet}."), sheet=sheet),
        )
    return wb[sheet]


def _vertical_merges(refs: Iterable[str]) -> list[tuple[int, int, int]]:
    """(first row, last row, column) of merged ranges spanning rows: a building or unit
    written once for many rows. Ranges spanning only columns (titles) are not filled."""
    out = []
    for ref in refs:
        if ":" not in ref:
            continue
        start, end = ref.split(":", 1)
        try:
            (r1, c1), (r2, _c2) = _coordinate(start), _coordinate(end)
        except ValueError:
            continue
        if r2 > r1:
            out.append((r1, r2, c1))
    return out


def _refuse_formulas(table: Table, formulas: set[tuple[int, int]]) -> None:
    kept = {table.header_row} | {r.number for r in table.rows}
    bad = sorted((r, c) for r, c in formulas if r in kept)
    if bad:
        r, c = bad[0]
        raise IntakeError(
            "formula_without_value",
            format_lazy(
                _(
                    "Cell {cell} holds a formula that was never calculated, so it has no value "
                    "to import ({count} such cells). Formulas are not run here: open the file "
                    "in Excel or WPS, save it, or paste the values over the formulas."
                ),
                cell=f"{_column_letter(c)}{r}",
                count=len(bad),
            ),
        )


# --- xls ---------------------------------------------------------------------------------


def _read_xls(data: bytes, sheet: str | None, lim: Limits) -> Table:
    """Old .xls (BIFF) through xlrd, which reads cached formula results and runs nothing."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct.error …
        raise IntakeError(
            "corrupt",
            _(
                "The .xls file is damaged or password-protected and cannot be read. Open it "
                "in Excel or WPS and save it as .xlsx."
            ),
        ) from exc
    try:
        names = list(book.sheet_names())
        if not names:
            raise IntakeError("no_sheet", _("The workbook has no worksheet."))
        if sheet is not None and sheet not in names:
            raise IntakeError(
                "no_sheet",
                format_lazy(_("The workbook has no sheet named {sheet}."), sheet=sheet),
            )
        ws = book.sheet_by_name(sheet or names[0])
        if ws.ncols > lim.max_columns:
            raise _too_many_columns(1, lim)
        raws: list[_Raw] = []
        for r in range(ws.nrows):
            values: list[Any] = []
            for cell in ws.row(r):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        values.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                    except (ValueError, OverflowError):
                        values.append(cell.value)
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    values.append(xlrd.error_text_from_code.get(cell.value, "#ERROR"))
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    values.append(bool(cell.value))
                else:
                    values.append(cell.value)
            if not any(v is not None and v != "" for v in values):
                continue
            if len(raws) >= lim.max_rows:
                raise _too_many_rows(lim)
            raws.append(_convert_row(values, r + 1, lim))
    finally:
        book.release_resources()
    table = _assemble(raws, "xls")
    table.sheet = ws.name
    table.sheets = names
    return table


# --- csv ---------------------------------------------------------------------------------

_CHUNK = 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")
# charset-normalizer is asked only among encodings a Chinese roster can plausibly be in.
_OTHER_ENCODINGS = ["big5", "big5hkscs", "cp950", "utf_16_le", "utf_16_be"]


def _encoding_refused() -> IntakeError:
    return IntakeError(
        "encoding_unknown",
        _(
            "The text encoding of this file cannot be established with confidence, so it was "
            "not read (a wrong guess would garble every name). Save it from Excel or WPS as "
            "'CSV UTF-8' and import it again."
        ),
    )


def _decodes(fh: BinaryIO, encoding: str) -> bool:
    """True when the whole file decodes strictly (read in chunks, nothing kept)."""
    fh.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _plausible_chinese(sample: str) -> bool:
    """GB18030 decodes almost any byte pairs (Big5 text too), so check that what came out is
    mostly common Chinese: characters of GB2312, the set every GBK ledger mostly uses."""
    non_ascii = sum(1 for ch in sample if ord(ch) > 127)
    if non_ascii == 0:
        return True
    encoded = sample.encode("gb2312", errors="replace")
    unusual = encoded.count(b"?") - sample.count("?")
    return unusual <= non_ascii * 0.05


def detect_encoding(fh: BinaryIO) -> str:
    """BOM; else strict UTF-8; else GB18030 if it reads as common Chinese; else what
    charset-normalizer finds among Chinese encodings with little noise; else refuse."""
    fh.seek(0)
    head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text"
    else:
        encoding = ""
    if encoding:
        if not _decodes(fh, encoding):
            raise _encoding_refused()
        return encoding
    fh.seek(0)
    sample = fh.read(256 * 1024)
    if b"\x00" in sample:
        raise IntakeError("binary", _("This file is not text; a .csv file must be a text file."))
    if _decodes(fh, "utf-8"):
        return "utf-8"
    if _decodes(fh, "gb18030") and _plausible_chinese(sample.decode("gb18030", errors="ignore")):
        return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=_OTHER_ENCODINGS).best()
    if best is not None and best.chaos <= 0.1 and _decodes(fh, best.encoding):
        return str(best.encoding)
    raise _encoding_refused()


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter among , ; tab | that splits the most lines into the same number of
    fields (more than one)."""
    best = (0.0, 0, ",")
    nonblank = [ln for ln in lines if ln.strip()]
    if not nonblank:
        return ","
    for delim in _DELIMITERS:
        counts = [len(r) for r in csv.reader(nonblank, delimiter=delim)]
        widths = [c for c in counts if c > 1]
        if not widths:
            continue
        mode = max(set(widths), key=widths.count)
        score = (widths.count(mode) / len(counts), mode, delim)
        if score[:2] > best[:2]:
            best = score
    return best[2]


def _lines(text: IO[str], limit: int) -> Iterator[str]:
    """Lines of at most `limit` characters: a file with no line breaks must not be read into
    one enormous string."""
    while True:
        line = text.readline(limit)
        if not line:
            return
        if len(line) >= limit and not line.endswith(("\n", "\r")):
            raise IntakeError(
                "line_too_long",
                format_lazy(
                    _("A line of the file is longer than {limit} characters; it was not read."),
                    limit=limit,
                ),
            )
        yield line


def _read_csv(fh: BinaryIO, lim: Limits) -> Table:
    encoding = detect_encoding(fh)
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, newline="", errors="strict")
    try:
        sample = text.read(64 * 1024)
        delimiter = sniff_delimiter(sample.splitlines()[:-1] or sample.splitlines())
        text.seek(0)
        line_limit = max(1024 * 1024, lim.max_cell_chars * 10)
        # The csv module's own field limit is process-wide; ours (max_cell_chars) is lower
        # and checked below, so only make sure the module's does not fire first.
        if csv.field_size_limit() < lim.max_cell_chars + 1:
            csv.field_size_limit(lim.max_cell_chars + 1)
        lines = _lines(text, line_limit)
        reader = csv.reader(lines, delimiter=delimiter)
        raws: list[_Raw] = []
        previous_line = 0
        try:
            for record in reader:
                number = previous_line + 1
                previous_line = reader.line_num
                if not any(c.strip() for c in record):
                    continue
                if len(raws) >= lim.max_rows:
                    raise _too_many_rows(lim)
                raw = _convert_row(record, number, lim)
                raw.numeric.clear()  # a CSV has no number cells, only text
                raws.append(raw)
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise IntakeError(
                    "cell_too_long",
                    format_lazy(
                        _(
                            "A cell after line {row} holds more than {limit} characters; a "
                            "roster cell is never that long. The file was not read."
                        ),
                        row=previous_line,
                        limit=lim.max_cell_chars,
                    ),
                ) from exc
            raise IntakeError(
                "corrupt",
                format_lazy(_("The CSV file is malformed near line {row}."), row=previous_line),
            ) from exc
        except UnicodeDecodeError as exc:
            raise _encoding_refused() from exc
    finally:
        text.detach()
    table = _assemble(raws, "csv")
    table.encoding = encoding
    table.delimiter = delimiter
    return table


# --- the table ---------------------------------------------------------------------------


def _folded_first(cells: Sequence[str]) -> str:
    for cell in cells:
        folded = re.sub(r"[\s:：]", "", cell)
        if folded:
            return folded
    return ""


def _assemble(raws: list[_Raw], fmt: str, *, merges: Sequence[tuple[int, int, int]] = ()) -> Table:
    """Find the header row, fill vertically merged cells, drop totals and footer rows."""
    if not raws:
        raise IntakeError("empty", _("The file contains no rows."))
    header_at: int | None = None
    best = 0
    for i, raw in enumerate(raws[:HEADER_SEARCH_ROWS]):
        if sum(1 for c in raw.cells if c.strip()) < 2:
            continue
        score = header_score(raw.cells)
        if header_at is None or score > best:
            header_at, best = i, score
    if header_at is None:
        raise IntakeError(
            "no_header",
            _("No header row was found: the header must have at least two column names."),
        )
    header = raws[header_at]
    width = len(header.cells)
    data = raws[header_at + 1 :]
    by_number = {raw.number: raw for raw in data}
    for first, last, col in merges:
        top = by_number.get(first)
        if top is None or col >= len(top.cells) or not top.cells[col]:
            continue
        for number in range(first + 1, last + 1):
            below = by_number.get(number)
            if below is None:
                continue
            while len(below.cells) <= col:
                below.cells.append("")
            if not below.cells[col]:
                below.cells[col] = top.cells[col]
                if col in top.numeric:
                    below.numeric.add(col)
    rows: list[Row] = []
    dropped: list[tuple[int, str]] = []
    for raw in data:
        lead = _folded_first(raw.cells)
        if lead in _TOTALS:
            dropped.append((raw.number, "totals"))
            continue
        if lead.startswith(_FOOTERS):
            dropped.append((raw.number, "footer"))
            continue
        cells = raw.cells + [""] * (width - len(raw.cells))
        rows.append(Row(raw.number, tuple(cells), frozenset(raw.numeric)))
    return Table(
        format=fmt,
        headers=list(header.cells),
        header_row=header.number,
        rows=rows,
        dropped=dropped,
    )
