"""The template spec: the JSON a ``ReportTemplateVersion`` holds, its schema, its checks.

The schema is these pydantic models (``TemplateSpec.model_json_schema()`` is the published JSON
Schema, see docs/decisions/0026). ``spec_validate`` checks the structure and then that every
name it uses (row set, columns, filters, measures) exists in the source registry.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from linli.reports import registry

SPEC_VERSION = 1
# Sources that are not registry columns: 序号 (row number) and a blank column to fill by hand.
SEQ = "seq"
MANUAL = "manual"
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HeaderSpec(_Strict):
    """The block above the table, as the paper form has it. Text may hold the placeholders
    {area}, {community}, {date}, {period}, {department}, filled at render time."""

    title: str = Field(min_length=1, max_length=120)
    subtitle: str = Field("", max_length=200)
    department: str = Field("", max_length=100, description="issuing department")
    period: str = Field("", max_length=60)
    unit: str = Field("", max_length=40, description="e.g. 单位：人")
    info: list[str] = Field(
        default_factory=list, max_length=8, description="e.g. 填报单位：{area}, 填报日期：{date}"
    )
    footer: list[str] = Field(
        default_factory=list, max_length=8, description="signature lines: 负责人：, 审核人："
    )


class ColumnSpec(_Strict):
    source: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=60)
    group: str = Field("", max_length=60, description="upper header row (merged over neighbours)")
    width: int | None = Field(None, ge=2, le=80)
    format: Literal["text", "int", "date", "decimal"] | None = None


class SortSpec(_Strict):
    source: str
    descending: bool = False


class MeasureSpec(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=60)
    agg: Literal["count", "sum", "avg", "median"] = "count"
    measure: str = ""
    where: dict[str, Any] = Field(default_factory=dict)
    group: str = Field("", max_length=60)
    width: int | None = Field(None, ge=2, le=80)


class TemplateSpec(_Strict):
    """One department's form."""

    spec_version: Literal[1] = 1
    kind: Literal["ledger", "statistics"]
    rowset: str
    header: HeaderSpec
    filters: dict[str, Any] = Field(default_factory=dict)
    orientation: Literal["auto", "portrait", "landscape"] = "auto"
    # ledger
    columns: list[ColumnSpec] = Field(default_factory=list, max_length=60)
    sort: list[SortSpec] = Field(default_factory=list, max_length=4)
    group_by: str = ""
    subtotals: bool = False
    # statistics
    dimension: Literal["child_area", "tag", "month", "field", ""] = ""
    dimension_field: str = ""
    dimension_label: str = Field("", max_length=60)
    measures: list[MeasureSpec] = Field(default_factory=list, max_length=40)
    total_row: bool = True

    def reveals(self) -> bool:
        """True when a column shows a full personal value (national ID, phone)."""
        rs = registry.rowset(self.rowset)
        return any(c.source in rs.columns and rs.columns[c.source].reveal for c in self.columns)


def _problem(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _check_filters(
    values: dict[str, Any], rs: registry.RowSet, errors: dict[str, list[str]], key: str
) -> None:
    for name, value in values.items():
        f = rs.filters.get(name)
        if f is None:
            _problem(errors, key, _("Unknown filter %(name)s.") % {"name": name})
            continue
        choices = {c for c, _label in f.choice_list()}
        label = str(f.label)
        if f.kind == "choice" and choices and value not in choices:
            _problem(
                errors,
                key,
                _("%(name)s: %(value)s is not a choice.") % {"name": label, "value": value},
            )
        if f.kind == "multi":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                _problem(errors, key, _("%(name)s takes a list of values.") % {"name": label})
            elif choices and set(value) - choices:
                bad = ", ".join(sorted(set(value) - choices))
                _problem(
                    errors,
                    key,
                    _("%(name)s: %(value)s is not a choice.") % {"name": label, "value": bad},
                )
        if f.kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            _problem(errors, key, _("%(name)s takes a whole number.") % {"name": label})
        if f.kind == "date":
            import datetime as dt

            try:
                dt.date.fromisoformat(str(value))
            except ValueError:
                _problem(errors, key, _("%(name)s takes a date (YYYY-MM-DD).") % {"name": label})


def spec_validate(data: Any) -> TemplateSpec:
    """Parse and check a spec; raise ValidationError with messages per part."""
    try:
        spec = TemplateSpec.model_validate(data)
    except PydanticError as exc:
        errors: dict[str, list[str]] = {}
        for item in exc.errors():
            loc = ".".join(str(p) for p in item["loc"]) or "__all__"
            errors.setdefault(loc, []).append(item["msg"])
        raise ValidationError(errors) from exc
    errors = {}
    if not registry.has_rowset(spec.rowset):
        raise ValidationError({"rowset": [_("Unknown source %(name)s.") % {"name": spec.rowset}]})
    rs = registry.rowset(spec.rowset)
    _check_filters(spec.filters, rs, errors, "filters")
    if spec.kind == "ledger":
        if not spec.columns:
            _problem(errors, "columns", _("Choose at least one column."))
        for c in spec.columns:
            if c.source not in (SEQ, MANUAL) and c.source not in rs.columns:
                _problem(
                    errors, "columns", _("Unknown column source %(name)s.") % {"name": c.source}
                )
        for s in spec.sort:
            if s.source not in rs.columns or not rs.columns[s.source].order:
                _problem(errors, "sort", _("Cannot sort by %(name)s.") % {"name": s.source})
        if spec.group_by and (
            spec.group_by not in rs.columns or not rs.columns[spec.group_by].order
        ):
            _problem(errors, "group_by", _("Cannot group by %(name)s.") % {"name": spec.group_by})
    else:
        if not spec.dimension:
            _problem(errors, "dimension", _("Choose what the rows of the table are."))
        if spec.dimension == "tag" and not rs.tag_path:
            _problem(errors, "dimension", _("These rows carry no tags."))
        if spec.dimension in ("field", "month"):
            col = rs.columns.get(spec.dimension_field)
            if col is None or not col.fields:
                _problem(
                    errors,
                    "dimension_field",
                    _("Unknown column source %(name)s.") % {"name": spec.dimension_field},
                )
            elif spec.dimension == "month" and col.kind != "date":
                _problem(errors, "dimension_field", _("Months need a date column."))
        if not spec.measures:
            _problem(errors, "measures", _("Choose at least one figure."))
        keys = [m.key for m in spec.measures]
        if len(set(keys)) != len(keys):
            _problem(errors, "measures", _("Each figure needs its own key."))
        for m in spec.measures:
            if m.agg != "count" and m.measure not in rs.measures:
                _problem(errors, "measures", _("Unknown figure %(name)s.") % {"name": m.measure})
            elif m.agg == "sum" and not rs.measures[m.measure].summable:
                _problem(errors, "measures", _("%(name)s cannot be summed.") % {"name": m.measure})
            _check_filters(m.where, rs, errors, "measures")
    if errors:
        raise ValidationError(errors)
    return spec


def code_is_valid(code: str) -> bool:
    return bool(_CODE.match(code))


def spec_dump(spec: TemplateSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json")
