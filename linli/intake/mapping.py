"""Recognising the column headers of community ledgers (姓名, 身份证号, 联系电话 …).

Headers are compared after folding: full-width to half-width, spaces removed, notes in
brackets dropped ("身份证号（18位）" → "身份证号"), required-field marks (*, ※) removed.
A `Mapping` says which column feeds which canonical field, with a confidence per column, and
serialises to a plain dict so it can be saved as a named profile for a source.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: Canonical fields of a people roster and their labels (shown in the mapping screen).
FIELDS: dict[str, Promise] = {
    "name": _("Name"),
    "national_id": _("National ID number"),
    "phone": _("Phone"),
    "sex": _("Sex"),
    "birth_date": _("Birth date"),
    "building": _("Building"),
    "entrance": _("Entrance"),
    "dwelling_number": _("Dwelling number"),
    "relation": _("Relation to the head of household"),
    "hukou_address": _("Hukou address"),
    "current_address": _("Current address"),
    "residency": _("Residency category"),
    "notes": _("Notes"),
    "grid": _("Grid"),
}

# Header texts as written in real ledgers, already folded (see fold_header). The first
# group of each field is unambiguous; the second is common but looser, so it scores lower.
_SYNONYMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "name": (("姓名", "居民姓名", "人员姓名", "名字"), ("名称",)),
    "national_id": (
        (
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "公民身份证号码",
            "居民身份证号码",
            "身份证件号码",
            "证件号码",
        ),
        ("身份证", "证件号", "身份号码"),
    ),
    "phone": (
        ("联系电话", "手机号", "手机号码", "电话号码", "联系手机"),
        ("电话", "手机", "联系方式"),
    ),
    "sex": (("性别",), ()),
    "birth_date": (("出生日期", "出生年月", "出生年月日"), ("生日", "出生")),
    "building": (("楼栋", "楼号", "楼栋号", "栋号", "幢号"), ("栋", "幢", "楼")),
    "entrance": (("单元", "单元号"), ()),
    "dwelling_number": (("房号", "门牌号", "房间号", "室号"), ("室", "门牌")),
    "relation": (("与户主关系", "与户主的关系"), ("关系",)),
    "hukou_address": (
        ("户籍地址", "户籍地", "户籍所在地", "户口所在地", "户籍地详址"),
        ("户籍",),
    ),
    "current_address": (
        ("现居住地址", "现住址", "现居住地", "现住地址", "居住地址", "实际居住地址"),
        ("住址", "地址"),
    ),
    "residency": (("人员类别", "人口类型", "人员类型", "人口类别"), ("类别", "类型")),
    "notes": (("备注",), ("说明",)),
    "grid": (("网格", "所属网格", "网格名称", "网格编号", "网格号"), ()),
}

# Columns that are recognised as header cells but feed no field.
_IGNORED = frozenset({"序号", "编号", "no", "no."})

EXACT = 1.0
LOOSE = 0.8
CONTAINED = 0.6

_BRACKETS_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|〔[^〕]*〕|<[^>]*>")
_MARKS_RE = re.compile(r"[\s*※:：\u200b\ufeff]|必填|选填")


def fold_header(text: str) -> str:
    """The comparable form of a header cell."""
    text = unicodedata.normalize("NFKC", text)
    text = _BRACKETS_RE.sub("", text)
    return _MARKS_RE.sub("", text).lower()


_LOOKUP: dict[str, tuple[str, float]] = {}
for _field, (_strong, _loose) in _SYNONYMS.items():
    for _word in _strong:
        _LOOKUP[_word] = (_field, EXACT)
    for _word in _loose:
        _LOOKUP[_word] = (_field, LOOSE)
# Longest first, so "本人手机号码" is read as 手机号码 rather than 手机.
_CONTAINABLE = sorted(
    ((w, f) for f, (strong, _loose) in _SYNONYMS.items() for w in strong),
    key=lambda wf: -len(wf[0]),
)


def match_header(text: str) -> tuple[str | None, float]:
    """(field, confidence) for one header cell; (None, 0.0) when not recognised."""
    folded = fold_header(text)
    if not folded or folded in _IGNORED:
        return None, 0.0
    if folded in _LOOKUP:
        return _LOOKUP[folded]
    for word, fld in _CONTAINABLE:
        if len(word) >= 2 and word in folded:
            return fld, CONTAINED
    return None, 0.0


def header_score(cells: Sequence[str]) -> int:
    """How many cells of a row look like known header names (used to find the header row)."""
    score = 0
    for cell in cells:
        folded = fold_header(cell)
        if folded in _IGNORED or match_header(cell)[0] is not None:
            score += 1
    return score


@dataclass(frozen=True)
class ColumnMatch:
    """One column of the file: its header and the field it feeds (None: not imported)."""

    index: int
    header: str
    field: str | None
    confidence: float


@dataclass
class Mapping:
    """Which column feeds which field. Serialisable with to_dict / from_dict."""

    columns: list[ColumnMatch] = field(default_factory=list)

    VERSION = 1

    @property
    def fields(self) -> dict[str, int]:
        """Field name → column index, for the mapped columns."""
        return {c.field: c.index for c in self.columns if c.field is not None}

    @property
    def unmapped(self) -> list[ColumnMatch]:
        """Columns that feed no field (unknown headers, duplicates, 序号 …)."""
        return [c for c in self.columns if c.field is None]

    @property
    def missing(self) -> list[str]:
        """Canonical fields no column feeds."""
        mapped = self.fields
        return [f for f in FIELDS if f not in mapped]

    def extract(self, cells: Sequence[str]) -> dict[str, str]:
        """The values of the mapped fields from one row's cells ("" for a short row)."""
        return {f: (cells[i] if i < len(cells) else "") for f, i in self.fields.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "columns": [
                {"index": c.index, "header": c.header, "field": c.field, "confidence": c.confidence}
                for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mapping:
        """Rebuild a mapping saved by to_dict; unknown field names are refused."""
        if data.get("version") != cls.VERSION:
            raise ValueError(f"unsupported mapping version {data.get('version')!r}")
        columns = []
        for raw in data["columns"]:
            fld = raw.get("field")
            if fld is not None and fld not in FIELDS:
                raise ValueError(f"unknown field {fld!r}")
            columns.append(
                ColumnMatch(
                    index=int(raw["index"]),
                    header=str(raw["header"]),
                    field=fld,
                    confidence=float(raw.get("confidence", EXACT)),
                )
            )
        return cls(columns=columns)

    def rebind(self, headers: Sequence[str]) -> Mapping:
        """This (saved) mapping applied to a new file's headers, matched by header text.

        Next month's file from the same source may have its columns in another order; a
        header the profile does not know is left unmapped, for the worker to decide.
        """
        by_header = {fold_header(c.header): c.field for c in self.columns}
        columns = []
        for i, h in enumerate(headers):
            fld = by_header.get(fold_header(h))
            columns.append(ColumnMatch(i, h, fld, EXACT if fld else 0.0))
        return Mapping(columns=columns)


def suggest_mapping(headers: Sequence[str]) -> Mapping:
    """Guess the field of each column; when two columns claim a field the surer one wins."""
    guesses = [(i, h, *match_header(h)) for i, h in enumerate(headers)]
    best: dict[str, tuple[float, int]] = {}
    for i, _h, fld, conf in guesses:
        if fld is not None and (fld not in best or conf > best[fld][0]):
            best[fld] = (conf, i)
    columns = []
    for i, h, fld, conf in guesses:
        if fld is not None and best[fld][1] == i:
            columns.append(ColumnMatch(i, h, fld, conf))
        else:
            columns.append(ColumnMatch(i, h, None, 0.0))
    return Mapping(columns=columns)
