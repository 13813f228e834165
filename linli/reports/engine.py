"""From a template spec, an area and an acting user to a table: header block, column headers,
and rows streamed from the scoped queryset.

The engine reads only through the row set's ``base(user, area)`` (the scoping layer), so a
grid worker's table never holds another grid's rows. Full personal values (``reveal``
columns) are decrypted only for rows in grids where the user may reveal, and only when the
caller passes ``reveal_reason``; elsewhere the masked column is shown.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.scoping import scope_for
from linli.register.models import Tag
from linli.reports import registry
from linli.reports.spec import MANUAL, SEQ, ColumnSpec, HeaderSpec, TemplateSpec

DATA, SUBTOTAL, TOTAL = "data", "subtotal", "total"


@dataclass
class HeaderCell:
    label: str
    group: str
    width: int
    kind: str


@dataclass
class Table:
    """What every renderer writes. ``rows`` yields (row kind, cells) once."""

    title: str
    lines: list[str]  # subtitle, department, period (one line each, centred)
    info: list[str]  # 填报单位 … 填报日期, spread over one row
    unit: str
    footer: list[str]
    columns: list[HeaderCell]
    rows: Iterator[tuple[str, list[Any]]]
    total: int  # data rows (for progress)
    landscape: bool
    manual_columns: int = 0
    stats: list[dict[str, Any]] = field(default_factory=list)  # statistics as data (API)
    revealed: int = 0  # cells with a full personal value (filled in while iterating)

    @property
    def has_groups(self) -> bool:
        return any(c.group for c in self.columns)

    def group_row(self) -> list[dict[str, Any]]:
        """The upper header row: each group once with its span; ungrouped columns span both
        header rows."""
        out: list[dict[str, Any]] = []
        for c in self.columns:
            if c.group and out and out[-1]["group"] == c.group:
                out[-1]["span"] += 1
            else:
                out.append({"group": c.group, "label": c.group or c.label, "span": 1})
        return out


def _fill(text: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    return text


def _placeholders(area: Area, header: HeaderSpec, period: str) -> dict[str, str]:
    community = area if area.kind == AreaKind.COMMUNITY else None
    if community is None:
        community = next((a for a in area.ancestors() if a.kind == AreaKind.COMMUNITY), None)
    return {
        "area": area.name,
        "community": community.name if community else area.name,
        "date": timezone.localdate().isoformat(),
        "period": period or header.period,
        "department": header.department,
    }


def filters_q(rs: registry.RowSet, values: dict[str, Any]) -> Q:
    q = Q()
    for key, value in values.items():
        if value in (None, "", []):
            continue
        q &= rs.filters[key].q(value)
    return q


def rows_queryset(
    spec: TemplateSpec, *, user: Any, area: Area, extra: dict[str, Any] | None = None
) -> QuerySet[Any]:
    """The rows of a template under *area* that *user* may see (user None: the system)."""
    rs = registry.rowset(spec.rowset)
    qs = rs.base(user, area)
    q = filters_q(rs, {**spec.filters, **(extra or {})})
    return qs.filter(q) if q else qs


def _header(
    spec: TemplateSpec, area: Area, period: str
) -> tuple[str, list[str], list[str], str, list[str]]:
    h = spec.header
    values = _placeholders(area, h, period)
    lines = [
        _fill(x, values)
        for x in (
            h.subtitle,
            h.department and _("Issued by: %(d)s") % {"d": h.department},
            h.period and _("Period: %(p)s") % {"p": h.period},
        )
        if x
    ]
    return (
        _fill(h.title, values),
        lines,
        [_fill(x, values) for x in h.info],
        _fill(h.unit, values),
        [_fill(x, values) for x in h.footer],
    )


def _landscape(spec: TemplateSpec, widths: list[int]) -> bool:
    if spec.orientation != "auto":
        return spec.orientation == "landscape"
    return sum(widths) > 90 or len(widths) > 8


def reveal_grids(user: Any, area: Area) -> set[int] | None:
    """Grid ids under *area* where *user* may reveal; None for the system (never reveals)."""
    if user is None:
        return None
    scope = scope_for(user, Perm.REVEAL_PII)
    if scope.is_empty:
        return set()
    return set(
        Area.objects.filter(path__startswith=area.path)
        .filter(scope.q("id"))
        .values_list("id", flat=True)
    )


@contextmanager
def without_jit() -> Iterator[None]:
    """PostgreSQL without JIT compilation for the report's queries.

    A report's queries run once over many rows and their estimated cost is high (a correlated
    condition per statistics measure, a 100,000-row ledger), so PostgreSQL compiles them with
    JIT, which took 1–2 s per statistics table here while executing took milliseconds
    (EXPLAIN ANALYZE: "JIT … Total 2084 ms", execution 0.1 s). Inside a transaction the
    setting is local to it; otherwise it holds for these queries and is reset after."""
    if connection.vendor != "postgresql":
        yield
        return
    local = connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', %s)", [local])
    try:
        yield
    finally:
        if not local:
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")


def build_table(
    spec: TemplateSpec,
    *,
    user: Any,
    area: Area,
    period: str = "",
    reveal_reason: str = "",
    limit: int | None = None,
) -> Table:
    with without_jit():
        if spec.kind == "ledger":
            return _ledger(
                spec, user=user, area=area, period=period, reveal_reason=reveal_reason, limit=limit
            )
        return _statistics(spec, user=user, area=area, period=period)


# --- ledgers -------------------------------------------------------------------------------


def _ledger(
    spec: TemplateSpec,
    *,
    user: Any,
    area: Area,
    period: str,
    reveal_reason: str,
    limit: int | None,
) -> Table:
    rs = registry.rowset(spec.rowset)
    qs = rows_queryset(spec, user=user, area=area)
    may_reveal = reveal_grids(user, area) if reveal_reason else set()
    shown: list[tuple[ColumnSpec, registry.Column | None]] = []
    for c in spec.columns:
        col = rs.columns.get(c.source)
        if col is not None and col.reveal and not may_reveal:
            # No reveal here at all: the masked column stands in for the full one.
            col = rs.columns[col.masked_key]
        shown.append((c, col))
    masked_for = {
        i: rs.columns[col.masked_key]
        for i, (_c, col) in enumerate(shown)
        if col is not None and col.reveal
    }
    group_col = rs.columns[spec.group_by] if spec.group_by else None
    fields: set[str] = {"id", rs.grid_path}
    aux_names: set[str] = set()
    for _c, col in shown:
        if col is not None:
            fields.update(col.fields)
            aux_names.update(col.aux)
    for col in masked_for.values():
        fields.update(col.fields)
    if group_col is not None:
        fields.update(group_col.fields)
        aux_names.update(group_col.aux)
    order: list[str] = []
    if group_col is not None:
        order.append(group_col.order)
    for s in spec.sort:
        o = rs.columns[s.source].order
        order.append(
            o[1:] if o.startswith("-") and s.descending else ("-" + o if s.descending else o)
        )
    order += [o for o in rs.default_order if o not in order]
    qs = qs.order_by(*order)
    total = qs.count()
    aux = {name: rs.aux[name](qs) for name in aux_names}
    title, lines, info, unit, footer = _header(spec, area, period)
    headers = [
        HeaderCell(
            label=c.label,
            group=c.group,
            width=c.width or (col.width if col else (6 if c.source == SEQ else 12)),
            kind=c.format or (col.kind if col else ("int" if c.source == SEQ else "text")),
        )
        for c, col in shown
    ]
    table = Table(
        title=title,
        lines=lines,
        info=info,
        unit=unit,
        footer=footer,
        columns=headers,
        rows=iter(()),
        total=total,
        landscape=_landscape(spec, [h.width for h in headers]),
        manual_columns=sum(1 for c, _col in shown if c.source == MANUAL),
    )
    computed = {f: rs.annotations[f]() for f in sorted(fields) if f in rs.annotations}
    values = (qs.annotate(**computed) if computed else qs).values(*sorted(fields))
    if limit is not None:
        values = values[:limit]
    table.rows = _without_jit_rows(
        _ledger_rows(
            table,
            values,
            shown,
            masked_for,
            may_reveal,
            aux,
            group_col if spec.subtotals else None,
            rs.unit,
            rs.grid_path,
        )
    )
    return table


def _without_jit_rows(rows: Iterator[tuple[str, list[Any]]]) -> Iterator[tuple[str, list[Any]]]:
    """The rows, their query planned without JIT (it runs while the renderer writes, after
    build_table has returned)."""
    with without_jit():
        yield from rows


def _ledger_rows(
    table: Table,
    values: QuerySet[Any],
    shown: list[tuple[ColumnSpec, registry.Column | None]],
    masked_for: dict[int, registry.Column],
    may_reveal: set[int] | None,
    aux: registry.Aux,
    group_col: registry.Column | None,
    unit: str,
    grid_path: str,
) -> Iterator[tuple[str, list[Any]]]:
    width = len(shown)
    getters: list[Callable[[registry.Row], Any]] = []
    for i, (c, col) in enumerate(shown):
        if c.source == SEQ:
            getters.append(lambda r: None)
        elif c.source == MANUAL or col is None:
            getters.append(lambda r: "")
        elif i in masked_for:
            full, masked = col, masked_for[i]

            def reveal_or_mask(
                r: registry.Row, full: registry.Column = full, masked: registry.Column = masked
            ) -> Any:
                if may_reveal and r.get(grid_path) in may_reveal:
                    table.revealed += 1
                    return full.cell(r, aux)
                return masked.cell(r, aux)

            getters.append(reveal_or_mask)
        elif col.value is None and col.fields:
            # A field as it is: read it straight from the row (no call per cell).
            getters.append(itemgetter(col.fields[0]))
        else:
            getters.append(partial(_plain, col, aux))
    seq_index = [i for i, (c, _col) in enumerate(shown) if c.source == SEQ]
    group_key: Any = object()
    group_label = ""
    group_n = 0
    n = 0
    for r in values.iterator(chunk_size=2000):
        if group_col is not None:
            key = group_col.cell(r, aux)
            if key != group_key:
                if group_n:
                    yield SUBTOTAL, _summary(width, _subtotal(group_label, group_n, unit))
                group_key, group_label, group_n = key, str(key or "—"), 0
            group_n += 1
        n += 1
        cells = [g(r) for g in getters]
        for i in seq_index:
            cells[i] = n
        yield DATA, cells
    if group_col is not None and group_n:
        yield SUBTOTAL, _summary(width, _subtotal(group_label, group_n, unit))
    yield TOTAL, _summary(width, _("Total: %(n)d %(unit)s") % {"n": n, "unit": unit})


def _plain(col: registry.Column, aux: registry.Aux, r: registry.Row) -> Any:
    return col.cell(r, aux)


def _subtotal(label: str, n: int, unit: Any) -> str:
    return _("Subtotal (%(group)s): %(n)d %(unit)s") % {"group": label, "n": n, "unit": unit}


def _summary(width: int, text: str) -> list[Any]:
    return [text] + [""] * (width - 1)


# --- statistics ----------------------------------------------------------------------------


def _aggregates(spec: TemplateSpec, rs: registry.RowSet, *, joined: bool) -> dict[str, Any]:
    """The SQL aggregates of the measures. *joined*: the rows are joined to their tags (a tag
    dimension), so a row can repeat within a group unless the row set says each row carries a
    tag at most once."""
    distinct = joined and not rs.tag_once
    out: dict[str, Any] = {}
    for m in spec.measures:
        if m.agg in PY_AGGS:
            continue  # computed from the rows' values (see _py_values)
        where = filters_q(rs, m.where)
        if m.agg == "sum":
            out[m.key] = Sum(rs.measures[m.measure].path, filter=where or None)
        else:
            out[m.key] = Count("id", filter=where or None, distinct=distinct)
    return out


PY_AGGS = ("avg", "median")


def _py_values(
    qs: QuerySet[Any], spec: TemplateSpec, rs: registry.RowSet, key_path: str | None
) -> dict[Any, dict[str, list[float]]]:
    """Averages and medians: each row's value, listed per group key (``key_path``; None puts
    every row under one key, ``None``). One query per such measure."""
    out: dict[Any, dict[str, list[float]]] = {}
    for m in spec.measures:
        if m.agg not in PY_AGGS:
            continue
        meas = rs.measures[m.measure]
        where = filters_q(rs, m.where)
        sub = qs.filter(where) if where else qs
        paths = meas.read_fields()
        if key_path is None:
            rows: Any = ((None, *v) for v in sub.values_list(*paths).iterator(chunk_size=5000))
        else:
            rows = sub.values_list(key_path, *paths).iterator(chunk_size=5000)
        for key, *vals in rows:
            v = meas.of(tuple(vals))
            if v is not None:
                out.setdefault(key, {}).setdefault(m.key, []).append(v)
    return out


def _py_figure(agg: str, values: list[float]) -> float | None:
    """The average or median of the values; None when there are none (a blank cell, and no
    value in the API / DHIS2 export)."""
    if not values:
        return None
    if agg == "avg":
        return round(statistics.fmean(values), 2)
    return round(statistics.median(values), 2)


def _with_py(
    values: dict[str, Any], spec: TemplateSpec, lists: dict[str, list[float]] | None
) -> dict[str, Any]:
    for m in spec.measures:
        if m.agg in PY_AGGS:
            values[m.key] = _py_figure(m.agg, (lists or {}).get(m.key, []))
    return values


def _cell(v: Any) -> Any:
    return "" if v is None else v


def _number(v: Any) -> Any:
    if v is None:
        return 0
    if isinstance(v, Decimal):
        return float(v)
    return v


def _statistics(spec: TemplateSpec, *, user: Any, area: Area, period: str) -> Table:
    rs = registry.rowset(spec.rowset)
    qs = rows_queryset(spec, user=user, area=area)
    aggs = _aggregates(spec, rs, joined=spec.dimension == "tag")
    groups: list[dict[str, Any]] = []  # {"key", "label", "values"}
    totals: dict[str, Any] | None = None
    if spec.dimension == "child_area":
        groups, totals = _by_child_area(qs, aggs, spec, rs, user=user, area=area)
        default_label = _("Area")
    elif spec.dimension == "tag":
        rows = qs.values(rs.tag_path).annotate(**aggs).order_by()
        found = {r[rs.tag_path]: r for r in rows if r[rs.tag_path]}
        py = _py_values(qs.distinct(), spec, rs, rs.tag_path)
        for tag in Tag.objects.filter(code__in=found).order_by("sort_key", "code"):
            r = found[tag.code]
            groups.append(
                {
                    "key": tag.code,
                    "label": tag.name,
                    "values": _with_py({k: _number(r[k]) for k in aggs}, spec, py.get(tag.code)),
                }
            )
        default_label = _("Group")
    elif spec.dimension == "month":
        col = rs.columns[spec.dimension_field]
        rows = (
            qs.annotate(_month=TruncMonth(col.fields[0]))
            .values("_month")
            .annotate(**aggs)
            .order_by("_month")
        )
        py = _py_values(qs.annotate(_month=TruncMonth(col.fields[0])), spec, rs, "_month")
        for r in rows:
            month = r["_month"]
            label = f"{month:%Y-%m}" if month else "—"
            groups.append(
                {
                    "key": label,
                    "label": label,
                    "values": _with_py({k: _number(r[k]) for k in aggs}, spec, py.get(month)),
                }
            )
        default_label = _("Month")
    else:
        col = rs.columns[spec.dimension_field]
        path = col.fields[0]
        rows = qs.values(path).annotate(**aggs).order_by(path)
        py = _py_values(qs, spec, rs, path)
        for r in rows:
            label = str(col.cell({path: r[path]}, {}) or "—")
            groups.append(
                {
                    "key": str(r[path] or ""),
                    "label": label,
                    "values": _with_py({k: _number(r[k]) for k in aggs}, spec, py.get(r[path])),
                }
            )
        default_label = str(col.label)
    if spec.dimension == "tag":
        # The total counts each tagged row once (a row with two tags is in two rows above):
        # the tagged rows by id, without the join, so no DISTINCT is needed.
        qs = qs.filter(pk__in=qs.filter(**{f"{rs.tag_path}__isnull": False}).values("pk"))
        aggs = _aggregates(spec, rs, joined=False)
    if totals is None:
        totals = {k: _number(v) for k, v in qs.aggregate(**aggs).items()} if aggs else {}
        totals = _with_py(totals, spec, _py_values(qs, spec, rs, None).get(None))
    title, lines, info, unit, footer = _header(spec, area, period)
    headers = [
        HeaderCell(_("No."), "", 6, "int"),
        HeaderCell(spec.dimension_label or default_label, "", 16, "text"),
    ]
    headers += [
        HeaderCell(
            m.label,
            m.group,
            m.width or max(8, len(m.label) * 2),
            "int"
            if m.agg == "count" or (m.agg == "sum" and rs.measures[m.measure].kind == "int")
            else "decimal",
        )
        for m in spec.measures
    ]

    def rows_iter() -> Iterator[tuple[str, list[Any]]]:
        for i, g in enumerate(groups, start=1):
            yield DATA, [i, g["label"], *(_cell(g["values"][m.key]) for m in spec.measures)]
        if spec.total_row:
            yield TOTAL, [_("Total"), "", *(_cell(totals.get(m.key, 0)) for m in spec.measures)]

    return Table(
        title=title,
        lines=lines,
        info=info,
        unit=unit,
        footer=footer,
        columns=headers,
        rows=rows_iter(),
        total=len(groups),
        landscape=_landscape(spec, [h.width for h in headers]),
        stats=[*groups, {"key": "_total", "label": _("Total"), "values": totals}],
    )


def _by_child_area(
    qs: QuerySet[Any],
    aggs: dict[str, Any],
    spec: TemplateSpec,
    rs: registry.RowSet,
    *,
    user: Any,
    area: Area,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per child of *area* the user may see (the area itself when it is a grid), and
    the total.

    Counted per grid in one query and folded into the children and the total (grids are the
    leaves: every row is in exactly one), so sums stay exact."""
    children_qs = Area.objects.filter(parent=area)
    if user is not None:
        # The children the user may see, in one query (not one exists() per child).
        children_qs = children_qs.filter(pk__in=Area.objects.restrict(user, rs.perm).values("pk"))
    children = list(children_qs.order_by("code"))
    if not children:
        children = [area]
    per_grid = {r[rs.grid_path]: r for r in qs.values(rs.grid_path).annotate(**aggs).order_by()}
    py = _py_values(qs, spec, rs, rs.grid_path)
    # Every area under *area* once (id, path), each child's subtree taken from it by path
    # prefix, rather than one query per child.
    below = list(Area.objects.filter(path__startswith=area.path).values_list("id", "path"))
    out = []
    for child in children:
        grid_ids = {i for i, p in below if p.startswith(child.path)}
        values: dict[str, Any] = {}
        lists: dict[str, list[float]] = {}
        for m in spec.measures:
            if m.agg in PY_AGGS:
                lists[m.key] = [v for g in grid_ids for v in py.get(g, {}).get(m.key, [])]
            else:
                values[m.key] = sum(
                    (_number(per_grid[g][m.key]) for g in grid_ids if g in per_grid), 0
                )
        out.append(
            {"key": child.code, "label": child.name, "values": _with_py(values, spec, lists)}
        )
    totals = {
        m.key: sum((_number(r[m.key]) for r in per_grid.values()), 0)
        for m in spec.measures
        if m.agg not in PY_AGGS
    }
    every = {m.key: [v for g in py.values() for v in g.get(m.key, [])] for m in spec.measures}
    return out, _with_py(totals, spec, every)


def today() -> dt.date:
    return timezone.localdate()
