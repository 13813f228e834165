"""Plain-text output for the command line: columns that line up with Chinese text in them."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide and full-width characters (汉字, ｜) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns (never cut)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def table(rows: list[list[str]], *, right: frozenset[int] = frozenset()) -> list[str]:
    """Rows as lines whose columns line up, two spaces apart; columns in `right` align right."""
    if not rows:
        return []
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    last = len(widths) - 1
    return [
        "  ".join(
            pad(cell, widths[i], right=i in right) if i < last or i in right else cell
            for i, cell in enumerate(row)
        )
        for row in rows
    ]
