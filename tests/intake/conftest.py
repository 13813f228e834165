"""Fixture files for intake tests are all generated here, in tmp_path."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from linli.core.identity import national_id_check_digit


def make_id(first17: str) -> str:
    """A national ID with a correct check digit."""
    return first17 + national_id_check_digit(first17)


def first17_with_check(check: str, start: str = "1101011990030712") -> str:
    """17 digits whose check character is `check` (to build IDs ending in X)."""
    for last in "0123456789":
        if national_id_check_digit(start + last) == check:
            return start + last
    raise AssertionError(check)


def rewrite_member(path: Path, member: str, edit: Callable[[bytes], bytes]) -> None:
    """Rewrite (or add) one part of a zip (xlsx) file, to craft what openpyxl will not write."""
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    parts[member] = edit(parts.get(member, b""))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def add_shared_strings(path: Path, xml: bytes) -> None:
    """Give a workbook a sharedStrings part (openpyxl writes strings inline) and make cell
    A2 use its first string."""
    rewrite_member(path, "xl/sharedStrings.xml", lambda _old: xml)
    rewrite_member(
        path,
        "xl/_rels/workbook.xml.rels",
        lambda rels: rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        ),
    )
    rewrite_member(
        path,
        "[Content_Types].xml",
        lambda types: types.replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        ),
    )
