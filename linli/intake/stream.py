"""Reading a roster row by row, for imports of any size.

`readers.read_table` reads a whole file into a `Table` (the preview and the tests want that).
An import of a million rows must not hold them all: `open_rows` finds the header in the first
rows, exactly as `read_table` does, and then hands out the data rows one at a time. The same
checks run on the way (cell and row limits, zip bombs, entity bombs, formulas without a value,
totals and footer rows, vertically merged cells filled down); a refusal that can only be seen
late in the file (a cell too long on row 900,000) raises IntakeError from the iterator, and
the import, which runs in one transaction, is rolled back.

.xls files (at most 65,536 rows by the format) are read whole by `read_table`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.intake.errors import IntakeError
from linli.intake.mapping import header_score
from linli.intake.readers import (
    _FOOTERS,
    _TOTALS,
    HEADER_SEARCH_ROWS,
    OLE2_MAGIC,
    ZIP_MAGIC,
    Limits,
    Row,
    Table,
    _caused_by,
    _check_zip,
    _column_letter,
    _convert_row,
    _corrupt,
    _encoding_refused,
    _folded_first,
    _lines,
    _pick_sheet,
    _Raw,
    _scan_sheet,
    _too_many_rows,
    _vertical_merges,
    detect_encoding,
    read_table,
    sniff_delimiter,
)


@dataclass
class RowStream:
    """The header of a file (as a `Table` without rows) and an iterator over its data rows.

    `table.dropped` fills up as the rows go by. `estimated_rows` is the number of data rows
    the file is expected to hold (lines of a CSV, the declared size of a sheet), for progress
    reports only; 0 when unknown.
    """

    table: Table
    rows: Iterator[Row]
    estimated_rows: int


@contextlib.contextmanager
def open_rows(
    path: str | Path, *, filename: str, limits: Limits | None = None
) -> Iterator[RowStream]:
    """Open *path* and yield a RowStream over it; the file is closed on leaving."""
    lim = limits or Limits.from_settings()
    path = Path(path)
    size = path.stat().st_size
    if size == 0 or size > lim.max_file_bytes:
        # read_table words these refusals; it stops before reading anything.
        read_table(path, filename=filename, limits=lim)
    with path.open("rb") as fh:
        head = fh.read(8)
        fh.seek(0)
        suffix = Path(filename).suffix.lower()
        if head.startswith(ZIP_MAGIC):
            with _xlsx_stream(fh, lim) as stream:
                yield stream
            return
        if head == OLE2_MAGIC or suffix not in (".csv", ".txt", ".tsv"):
            # .xls, or a file read_table refuses with the right words.
            table = read_table(path, filename=filename, limits=lim)
            rows = table.rows
            table.rows = []
            yield RowStream(table=table, rows=iter(rows), estimated_rows=len(rows))
            return
        yield _csv_stream(fh, lim, size)


# --- assembling the header and the rows ------------------------------------------------------


def _assemble(
    raws: Iterator[_Raw],
    fmt: str,
    *,
    merges: list[tuple[int, int, int]] | None = None,
    formulas: set[tuple[int, int]] | None = None,
) -> tuple[Table, Iterator[Row]]:
    """Find the header in the first rows, like readers._assemble, and stream the rest."""
    head: list[_Raw] = []
    for raw in raws:
        head.append(raw)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not head:
        raise IntakeError("empty", _("The file contains no rows."))
    header_at: int | None = None
    best = 0
    for i, raw in enumerate(head):
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
    header = head[header_at]
    table = Table(format=fmt, headers=list(header.cells), header_row=header.number, rows=[])
    bad_formulas = sorted((r, c) for r, c in (formulas or ()) if r >= header.number)
    formula_rows = {r for r, _c in bad_formulas}
    if header.number in formula_rows:
        _refuse_formula(header.number, bad_formulas)

    def rows() -> Iterator[Row]:
        width = len(header.cells)
        starts: dict[int, list[tuple[int, int]]] = {}
        for first, last, col in merges or ():
            if first > header.number:
                starts.setdefault(first, []).append((last, col))
        active: dict[int, tuple[int, str, bool]] = {}  # col → (last row, text, numeric)

        def data() -> Iterator[_Raw]:
            yield from head[header_at + 1 :]
            yield from raws

        for raw in data():
            if active or starts:
                _fill_merged(raw, starts, active)
            lead = _folded_first(raw.cells)
            if lead in _TOTALS:
                table.dropped.append((raw.number, "totals"))
                continue
            if lead.startswith(_FOOTERS):
                table.dropped.append((raw.number, "footer"))
                continue
            if raw.number in formula_rows:
                _refuse_formula(raw.number, bad_formulas)
            cells = raw.cells + [""] * (width - len(raw.cells))
            yield Row(raw.number, tuple(cells), frozenset(raw.numeric))

    return table, rows()


def _fill_merged(
    raw: _Raw,
    starts: dict[int, list[tuple[int, int]]],
    active: dict[int, tuple[int, str, bool]],
) -> None:
    for col in [c for c, (last, _t, _n) in active.items() if last < raw.number]:
        del active[col]
    for col, (_last, text, numeric) in active.items():
        while len(raw.cells) <= col:
            raw.cells.append("")
        if not raw.cells[col]:
            raw.cells[col] = text
            if numeric:
                raw.numeric.add(col)
    for last, col in starts.pop(raw.number, ()):
        if col < len(raw.cells) and raw.cells[col]:
            active[col] = (last, raw.cells[col], col in raw.numeric)


def _refuse_formula(row: int, bad: list[tuple[int, int]]) -> None:
    col = min(c for r, c in bad if r == row)
    raise IntakeError(
        "formula_without_value",
        format_lazy(
            _(
                "Cell {cell} holds a formula that was never calculated, so it has no value "
                "to import ({count} such cells). Formulas are not run here: open the file "
                "in Excel or WPS, save it, or paste the values over the formulas."
            ),
            cell=f"{_column_letter(col)}{row}",
            count=len(bad),
        ),
    )


# --- csv -------------------------------------------------------------------------------------


def _count_lines(fh: BinaryIO) -> int:
    fh.seek(0)
    lines = 0
    for chunk in iter(lambda: fh.read(1024 * 1024), b""):
        lines += chunk.count(b"\n")
    fh.seek(0)
    return lines


def _csv_stream(fh: BinaryIO, lim: Limits, size: int) -> RowStream:
    encoding = detect_encoding(fh)
    estimated = _count_lines(fh) if not encoding.startswith(("utf-16", "utf-32")) else 0
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, newline="", errors="strict")
    sample = text.read(64 * 1024)
    delimiter = sniff_delimiter(sample.splitlines()[:-1] or sample.splitlines())
    text.seek(0)
    line_limit = max(1024 * 1024, lim.max_cell_chars * 10)
    if csv.field_size_limit() < lim.max_cell_chars + 1:
        csv.field_size_limit(lim.max_cell_chars + 1)
    reader = csv.reader(_lines(text, line_limit), delimiter=delimiter)

    max_cell = lim.max_cell_chars

    def raws() -> Iterator[_Raw]:
        previous_line = 0
        count = 0
        try:
            for record in reader:
                number = previous_line + 1
                previous_line = reader.line_num
                if not any(c.strip() for c in record):
                    continue
                count += 1
                if count > lim.max_rows:
                    raise _too_many_rows(lim)
                if len(record) <= lim.max_columns and max(map(len, record)) <= max_cell:
                    # Text cells within the limits: what _convert_row makes of them.
                    while record and not record[-1].strip():
                        record.pop()
                    yield _Raw(number, record, set())
                    continue
                raw = _convert_row(record, number, lim)
                raw.numeric.clear()  # a CSV has no number cells, only text
                yield raw
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

    table, rows = _assemble(raws(), "csv")
    table.encoding = encoding
    table.delimiter = delimiter
    return RowStream(table=table, rows=rows, estimated_rows=max(estimated - table.header_row, 0))


# --- xlsx ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _xlsx_stream(fh: BinaryIO, lim: Limits) -> Iterator[RowStream]:
    import openpyxl
    from defusedxml import DefusedXmlException

    if not openpyxl.DEFUSEDXML:
        raise IntakeError(
            "xml_unsafe", _("Workbooks cannot be read safely on this server (defusedxml).")
        )
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt() from exc
    wb: Any = None
    try:
        try:
            _check_zip(zf, lim)
            fh.seek(0)
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
            names = list(wb.sheetnames)
            ws = _pick_sheet(wb, names, None)
            member = str(ws._worksheet_path).lstrip("/")
            formulas, merge_refs = _scan_sheet(zf, member)
            declared = ws.max_row if isinstance(ws.max_row, int) else 0
            ws.reset_dimensions()  # a lying <dimension> must not make us pad a million rows

            def raws() -> Iterator[_Raw]:
                count = 0
                for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    if not any(v is not None and v != "" for v in values):
                        continue
                    count += 1
                    if count > lim.max_rows:
                        raise _too_many_rows(lim)
                    yield _convert_row(values, number, lim)

            table, rows = _assemble(
                _guarded(raws(), DefusedXmlException),
                "xlsx",
                merges=_vertical_merges(merge_refs),
                formulas=formulas,
            )
        except IntakeError:
            raise
        except Exception as exc:
            raise _xml_error(exc, DefusedXmlException) from exc
        table.sheet = ws.title
        table.sheets = names
        # Outside the try above: an error of the caller's, thrown in here, stays what it is.
        yield RowStream(
            table=table,
            rows=_guarded(rows, DefusedXmlException),
            estimated_rows=max(min(declared, lim.max_rows) - table.header_row, 0),
        )
    finally:
        if wb is not None:
            wb.close()
        zf.close()


def _guarded(items: Iterator[Any], defused: type[BaseException]) -> Iterator[Any]:
    """Turn openpyxl's many errors on a malformed part, raised while rows stream, into the
    IntakeError read_table gives for them."""
    try:
        yield from items
    except IntakeError:
        raise
    except Exception as exc:
        raise _xml_error(exc, defused) from exc


def _xml_error(exc: BaseException, defused: type[BaseException]) -> IntakeError:
    if not _caused_by(exc, defused):
        return _corrupt()
    return IntakeError(
        "xml_entities",
        _(
            "The workbook contains XML entity declarations, which real spreadsheets "
            "never do (an 'entity bomb'); it was not read."
        ),
    )


# --- records, as cheaply as possible -----------------------------------------------------------

#: First characters of the totals and footer words: a row whose first cell starts otherwise
#: cannot be one, so the full check (a regular expression) runs on few rows.
_DROP_FIRST = frozenset(w[0] for w in (*_TOTALS, *_FOOTERS))


@dataclass
class RecordStream:
    """The header of a file and an iterator over (row number, cells) of its data rows, each
    row at least as wide as the header. For readers of very long files that want no `Row`
    per row (a received list of a million rows)."""

    table: Table
    records: Iterator[tuple[int, list[str] | tuple[str, ...]]]
    estimated_rows: int


@contextlib.contextmanager
def open_records(
    path: str | Path, *, filename: str, limits: Limits | None = None
) -> Iterator[RecordStream]:
    """Like `open_rows`, but a CSV is read by the csv module alone after the header: the cell
    length is bounded by the csv module's field limit and the width checked per row; totals
    and footer rows are still left out. Workbooks go through `open_rows`."""
    lim = limits or Limits.from_settings()
    path = Path(path)
    suffix = Path(filename).suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(8)
    plain = not head.startswith(ZIP_MAGIC) and head != OLE2_MAGIC
    if not (plain and suffix in (".csv", ".txt", ".tsv")) or path.stat().st_size == 0:
        with open_rows(path, filename=filename, limits=lim) as stream:
            rows = ((r.number, r.cells) for r in stream.rows)
            yield RecordStream(stream.table, rows, stream.estimated_rows)
        return
    if path.stat().st_size > lim.max_file_bytes:
        read_table(path, filename=filename, limits=lim)  # refuses, with the right words
    # The header: found exactly as open_rows finds it, on the first rows (read at once).
    with path.open("rb") as first:
        stream = _csv_stream(first, lim, 0)
        table, estimated = stream.table, stream.estimated_rows
        del stream
    with path.open("rb") as fh:
        yield _csv_records(fh, table, estimated, lim)


def _csv_records(fh: BinaryIO, table: Table, estimated: int, lim: Limits) -> RecordStream:
    text = io.TextIOWrapper(fh, encoding=table.encoding or "utf-8", newline="", errors="strict")
    line_limit = max(1024 * 1024, lim.max_cell_chars * 10)
    reader = csv.reader(_lines(text, line_limit), delimiter=table.delimiter or ",")
    width = len(table.headers)
    pad = [""] * width

    def records() -> Iterator[tuple[int, list[str]]]:
        previous_line = 0
        count = 0
        try:
            for record in reader:
                number = previous_line + 1
                previous_line = reader.line_num
                if number <= table.header_row:
                    continue
                if len(record) < width:
                    record += pad[len(record) :]
                elif len(record) > lim.max_columns:
                    raise _too_many_columns_error(number, lim)
                first = record[0]
                if not first or first[0] in _DROP_FIRST or first[0].isspace():
                    if not "".join(record).strip():
                        continue
                    lead = _folded_first(record)
                    if lead in _TOTALS:
                        table.dropped.append((number, "totals"))
                        continue
                    if lead.startswith(_FOOTERS):
                        table.dropped.append((number, "footer"))
                        continue
                count += 1
                if count > lim.max_rows:
                    raise _too_many_rows(lim)
                yield number, record
        except csv.Error as exc:
            raise IntakeError(
                "corrupt",
                format_lazy(
                    _(
                        "The CSV file is malformed near line {row}, or a cell there holds "
                        "more than {limit} characters. The file was not read."
                    ),
                    row=previous_line,
                    limit=lim.max_cell_chars,
                ),
            ) from exc
        except UnicodeDecodeError as exc:
            raise _encoding_refused() from exc

    return RecordStream(table, records(), estimated)


def _too_many_columns_error(row: int, lim: Limits) -> IntakeError:
    from linli.intake.readers import _too_many_columns

    return _too_many_columns(row, lim)
