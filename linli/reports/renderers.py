"""Writing a :class:`~linli.reports.engine.Table` as .xlsx, .csv or PDF.

- xlsx (xlsxwriter, constant_memory): the department's layout — merged title, header block,
  one or two header rows (merged group cells), column widths, frozen header, footer lines;
  strings are written as strings and a leading = + - @ is escaped (formula injection); a
  ledger longer than a sheet continues on the next sheet with the header repeated.
- csv: UTF-8 with BOM (Excel reads Chinese), one header row, the same escaping.
- pdf (reportlab platypus): the built-in CID font STSong-Light (no font file, text stays
  extractable), header rows repeated on every page, landscape for wide tables.

``progress(n)`` is called every ``PROGRESS_EVERY`` data rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from linli.core.spreadsheet import FORMULA_START, escape_cell
from linli.reports.engine import DATA, SUBTOTAL, TOTAL, Table

EXCEL_MAX_ROWS = 1_048_576
# Excel's serial day numbers: day 1 is 1900-01-01 and day 60 the 29 February 1900 Excel
# believes in, so from 1900-03-01 on a date's serial is its distance from 1899-12-30.
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
_FIRST_SERIAL_DAY = dt.date(1900, 3, 1)
PROGRESS_EVERY = 2000
Progress = Callable[[int], None]


def _noop(n: int) -> None:
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- xlsx ----------------------------------------------------------------------------------


def render_xlsx(
    table: Table, path: Path, *, progress: Progress = _noop, max_rows: int = EXCEL_MAX_ROWS
) -> int:
    """Write the table; return the number of sheets."""
    import xlsxwriter

    ncols = len(table.columns)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    f_title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    f_line = wb.add_format({"align": "center", "valign": "vcenter"})
    f_info = wb.add_format({"align": "left", "valign": "vcenter"})
    f_head = wb.add_format(
        {
            "bold": True,
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "bg_color": "#F2F2F2",
        }
    )
    f_cell = wb.add_format({"border": 1, "valign": "vcenter"})
    f_num = wb.add_format({"border": 1, "valign": "vcenter", "align": "center"})
    f_dec = wb.add_format({"border": 1, "valign": "vcenter", "num_format": "0.00"})
    f_date = wb.add_format({"border": 1, "valign": "vcenter", "num_format": "yyyy-mm-dd"})
    f_sum = wb.add_format({"border": 1, "bold": True, "valign": "vcenter"})
    kinds = [c.kind for c in table.columns]
    sheets = 0

    def new_sheet() -> tuple[Any, int]:
        nonlocal sheets
        sheets += 1
        ws = wb.add_worksheet(_("Sheet %(n)d") % {"n": sheets}, worksheet_class=_sheet_class())
        for i, c in enumerate(table.columns):
            ws.set_column(i, i, c.width)
        row = 0
        if ncols > 1:
            ws.merge_range(row, 0, row, ncols - 1, escape_cell(table.title), f_title)
        else:
            ws.write_string(row, 0, escape_cell(table.title), f_title)
        ws.set_row(row, 30)
        row += 1
        for line in table.lines:
            _merged(ws, row, 0, ncols - 1, line, f_line)
            row += 1
        info = [*table.info, *([table.unit] if table.unit else [])]
        if info:
            # The header block's items spread over one row, as on the paper form.
            span = max(1, ncols // len(info))
            col = 0
            for i, item in enumerate(info):
                last = ncols - 1 if i == len(info) - 1 else min(ncols - 1, col + span - 1)
                if col > ncols - 1:
                    break
                _merged(ws, row, col, last, item, f_info)
                col = last + 1
            row += 1
        if table.has_groups:
            i = 0
            while i < ncols:
                g = table.columns[i].group
                if not g:
                    # A label over both header rows. constant_memory writes rows in order, so
                    # merge_range (which writes the row below at once) would drop the rest of
                    # this row: write the cell now and register the merge for the file.
                    ws.write_string(row, i, escape_cell(table.columns[i].label), f_head)
                    ws.merge.append([row, i, row + 1, i])
                    i += 1
                    continue
                j = i
                while j + 1 < ncols and table.columns[j + 1].group == g:
                    j += 1
                _merged(ws, row, i, j, g, f_head)
                i = j + 1
            for i, c in enumerate(table.columns):
                if c.group:
                    ws.write_string(row + 1, i, escape_cell(c.label), f_head)
                else:
                    ws.write_blank(row + 1, i, None, f_head)
            row += 2
        else:
            for i, c in enumerate(table.columns):
                ws.write_string(row, i, escape_cell(c.label), f_head)
            row += 1
        ws.freeze_panes(row, 0)
        ws.repeat_rows(0, row - 1)
        ws.set_landscape() if table.landscape else ws.set_portrait()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        return ws, row

    # A number's format by its column's kind, looked up once rather than per cell.
    num_formats = [f_num if k == "int" else f_dec if k == "decimal" else f_cell for k in kinds]
    ws, row = new_sheet()
    write_string, write_number, write_blank = _writers(ws)
    n = 0
    for kind, cells in table.rows:
        if row >= max_rows:
            ws, row = new_sheet()
            write_string, write_number, write_blank = _writers(ws)
        if kind == DATA:
            # The common cell types first, each with one check (the loop runs once per cell
            # of the ledger); anything else goes through _cell.
            for i, v in enumerate(cells):
                cls = v.__class__
                if cls is str:
                    if v:
                        write_string(row, i, "'" + v if v.startswith(FORMULA_START) else v, f_cell)
                    else:  # a bordered blank: the form's box to fill in by hand
                        write_blank(row, i, None, f_cell)
                elif cls is int or cls is float:
                    write_number(row, i, v, num_formats[i])
                elif cls is dt.date and v >= _FIRST_SERIAL_DAY:
                    # What write_datetime stores for a date (its Excel serial number with the
                    # date format), without its general datetime conversion.
                    write_number(row, i, v.toordinal() - _EXCEL_EPOCH, f_date)
                else:
                    _cell(ws, row, i, v, kinds[i], f_cell, f_num, f_dec, f_date)
            n += 1
            if n % PROGRESS_EVERY == 0:
                progress(n)
        elif kind == SUBTOTAL or (kind == TOTAL and all(c == "" for c in cells[1:])):
            _merged(ws, row, 0, ncols - 1, _text(cells[0]), f_sum)
        else:  # a statistics total row: label then figures
            for i, v in enumerate(cells):
                if isinstance(v, int | float):
                    ws.write_number(row, i, v, f_sum)
                else:
                    ws.write_string(row, i, escape_cell(_text(v)), f_sum)
        row += 1
    if table.footer and row + 1 + len(table.footer) > max_rows:
        # The signature lines do not fit below the last row: they go on a sheet of their own
        # (with the header block) rather than being lost.
        ws, row = new_sheet()
    else:
        row += 1
    for line in table.footer:
        _merged(ws, row, 0, ncols - 1, line, f_info)
        row += 1
    progress(n)
    wb.close()
    return sheets


@functools.cache
def _sheet_class() -> type[Any]:
    """xlsxwriter's Worksheet writing a formatted cell's XML without its per-cell detour.

    Every cell of a form has a format (its border), and xlsxwriter's ``_write_cell`` builds a
    list of attributes for it and passes each through ``_escape_attributes``, whose regular
    expression raises a ``TypeError`` on the integer style index (caught, per cell): a
    formatted cell cost about a third more than a plain one. This writes the same bytes for
    the three cell types the data rows use (number, inline string, blank) with their format,
    in constant_memory mode; anything else (no format, dates written by write_datetime, rich
    strings, formulas) goes to xlsxwriter's own. tests/reports/test_xlsx_cells.py compares the
    sheet XML with xlsxwriter's, byte for byte."""
    from xlsxwriter.utility import xl_rowcol_to_cell_fast
    from xlsxwriter.worksheet import Worksheet, _preserve_whitespace

    class FormCells(Worksheet):
        def _write_cell(self, row: int, col: int, cell: Any) -> None:
            fmt = cell.format
            if fmt is None or not self.constant_memory:
                super()._write_cell(row, col, cell)
                return
            kind = cell.__class__.__name__
            if kind == "String":
                text = self._escape_control_characters(cell.string)
                if text.startswith("<r>") and text.endswith("</r>"):
                    super()._write_cell(row, col, cell)  # rich string
                    return
                space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
                self.fh.write(
                    f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"'
                    f' t="inlineStr"><is><t{space}>{self._escape_data(text)}</t></is></c>'
                )
            elif kind == "Number":
                self.fh.write(
                    f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}">'
                    f"<v>{cell.number:.16G}</v></c>"
                )
            elif kind == "Blank":
                self.fh.write(
                    f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"/>'
                )
            else:
                super()._write_cell(row, col, cell)

    return FormCells


def _writers(ws: Any) -> tuple[Any, Any, Any]:
    """The sheet's cell writers for the data rows, without the A1-notation wrapper.

    ``write_string`` / ``write_number`` / ``write_blank`` are xlsxwriter's undecorated
    ``_write_*`` methods behind ``convert_cell_args`` (which tries ``int()`` on the row of every
    call to see whether it is "A1" notation). The data loop always passes row and column
    numbers, so it calls the undecorated ones: the same checks (bounds, 32k strings, NaN) and
    the same cells, one wrapper call fewer per cell."""
    return ws._write_string, ws._write_number, ws._write_blank


def _merged(ws: Any, row: int, first: int, last: int, text: str, fmt: Any) -> None:
    if last > first:
        ws.merge_range(row, first, row, last, escape_cell(text), fmt)
    else:
        ws.write_string(row, first, escape_cell(text), fmt)


def _cell(
    ws: Any, row: int, col: int, v: Any, kind: str, f_cell: Any, f_num: Any, f_dec: Any, f_date: Any
) -> None:
    if v is None or v == "":
        ws.write_blank(row, col, None, f_cell)
    elif isinstance(v, bool):
        ws.write_string(row, col, _("Yes") if v else _("No"), f_cell)
    elif isinstance(v, int | float):
        ws.write_number(
            row, col, v, f_num if kind == "int" else f_dec if kind == "decimal" else f_cell
        )
    elif isinstance(v, dt.date):
        ws.write_datetime(row, col, dt.datetime(v.year, v.month, v.day), f_date)
    elif kind == "decimal" and not isinstance(v, str):
        ws.write_number(row, col, float(v), f_dec)
    else:
        ws.write_string(row, col, escape_cell(str(v)), f_cell)


# --- csv -----------------------------------------------------------------------------------


def render_csv(table: Table, path: Path, *, progress: Progress = _noop) -> int:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([escape_cell(c.label) for c in table.columns])
        n = 0
        for kind, cells in table.rows:
            w.writerow([escape_cell(_text(v)) if isinstance(v, str) else _text(v) for v in cells])
            if kind == DATA:
                n += 1
                if n % PROGRESS_EVERY == 0:
                    progress(n)
    progress(n)
    return 1


# --- pdf -----------------------------------------------------------------------------------

_FONT = "STSong-Light"


def render_pdf(table: Table, path: Path, *, progress: Progress = _noop) -> int:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    size = landscape(A4) if table.landscape else A4
    doc = SimpleDocTemplate(
        str(path),
        pagesize=size,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=table.title,
    )
    s_title = ParagraphStyle("t", fontName=_FONT, fontSize=16, leading=22, alignment=1)
    s_line = ParagraphStyle("l", fontName=_FONT, fontSize=10, leading=14, alignment=1)
    s_info = ParagraphStyle("i", fontName=_FONT, fontSize=9, leading=13)
    s_head = ParagraphStyle("h", fontName=_FONT, fontSize=8, leading=10, alignment=1)
    s_cell = ParagraphStyle("c", fontName=_FONT, fontSize=7.5, leading=9.5)
    avail = size[0] - 20 * mm

    def spread(items: list[str]) -> Any:
        # The header block's and signature lines' items side by side in equal, borderless
        # cells, as the xlsx spreads them over the columns. Not a run of &nbsp;: U+00A0 has no
        # glyph in the CID font and some viewers draw it as a box.
        cells = [[Paragraph(_esc(x), s_info) for x in items]]
        row = PdfTable(cells, colWidths=[avail / len(items)] * len(items))
        row.setStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")])
        return row

    story: list[Any] = [Paragraph(_esc(table.title), s_title)]
    story += [Paragraph(_esc(x), s_line) for x in table.lines]
    info = [*table.info, *([table.unit] if table.unit else [])]
    if info:
        story.append(spread(info))
    story.append(Spacer(1, 3 * mm))
    ncols = len(table.columns)
    total_w = sum(c.width for c in table.columns) or 1
    widths = [avail * c.width / total_w for c in table.columns]
    data: list[list[Any]] = []
    style: list[Any] = [
        ("FONT", (0, 0), (-1, -1), _FONT, 7.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if table.has_groups:
        top, bottom = [], []
        i = 0
        while i < ncols:
            c = table.columns[i]
            if not c.group:
                top.append(Paragraph(_esc(c.label), s_head))
                bottom.append("")
                style.append(("SPAN", (i, 0), (i, 1)))
                i += 1
                continue
            j = i
            while j + 1 < ncols and table.columns[j + 1].group == c.group:
                j += 1
            top += [Paragraph(_esc(c.group), s_head)] + [""] * (j - i)
            bottom += [Paragraph(_esc(x.label), s_head) for x in table.columns[i : j + 1]]
            if j > i:
                style.append(("SPAN", (i, 0), (j, 0)))
            i = j + 1
        data += [top, bottom]
        head_rows = 2
    else:
        data.append([Paragraph(_esc(c.label), s_head) for c in table.columns])
        head_rows = 1
    style.append(("BACKGROUND", (0, 0), (-1, head_rows - 1), colors.HexColor("#F2F2F2")))
    for i, c in enumerate(table.columns):
        if c.kind in ("int", "decimal"):
            style.append(("ALIGN", (i, head_rows), (i, -1), "CENTER"))
    n = 0
    for kind, cells in table.rows:
        r = len(data)
        if kind == DATA:
            data.append(
                [
                    Paragraph(_esc(_text(v)), s_cell) if len(_text(v)) > 12 else _text(v)
                    for v in cells
                ]
            )
            n += 1
            if n % PROGRESS_EVERY == 0:
                progress(n)
        else:
            data.append([_text(v) for v in cells])
            if all(c == "" for c in cells[1:]):
                style.append(("SPAN", (0, r), (-1, r)))
    if len(data) == head_rows:
        data.append([""] * ncols)
    t = LongTable(data, colWidths=widths, repeatRows=head_rows)
    t.setStyle(style)
    story.append(t)
    if table.footer:
        story.append(Spacer(1, 5 * mm))
        story.append(spread(table.footer))
    page_label = str(_("Page %(n)s"))

    def number(canvas: Any, doc: Any) -> None:
        # Printed forms are stapled and handed up: every page says which it is.
        canvas.saveState()
        canvas.setFont(_FONT, 8)
        canvas.drawCentredString(size[0] / 2, 6 * mm, page_label % {"n": doc.page})
        canvas.restoreState()

    doc.build(story, onFirstPage=number, onLaterPages=number)
    progress(n)
    return 1


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


RENDERERS: dict[str, Callable[..., int]] = {
    "xlsx": render_xlsx,
    "csv": render_csv,
    "pdf": render_pdf,
}
