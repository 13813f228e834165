"""Cells Linli writes into files a person opens in Excel or LibreOffice (error files, reports,
not-found lists): text that a spreadsheet would read as a formula is neutralised."""

from __future__ import annotations

# What makes Excel/LibreOffice (or openpyxl) treat a text cell as a formula or command.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """A cell safe to open in Excel: text that would start a formula gets a leading quote."""
    return "'" + value if value.startswith(FORMULA_START) else value
