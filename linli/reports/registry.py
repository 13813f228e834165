"""The source registry: what report templates can be built from.

Each capability describes its rows in its own ``report_sources`` module (found by
``ReportsConfig.ready()`` with Django's ``autodiscover_modules``), so a capability that lands
later adds its row sets without touching the engine:

- a :class:`RowSet` is one kind of row (``register.person``, ``register.household`` …): how to
  get the rows a user may see under an area, and
- its :class:`Column` s (a field, or a value derived from fields and from per-render lookups
  such as a person's tags or a household's size), its :class:`Filter` s (each a ``Q`` for a
  value), its numeric measures, and the lookup that puts a row in a grid.

Rows are read with ``.values()`` (plain dicts, no model instances): a ledger of 100,000 people
is mostly the spreadsheet writer's time, not the ORM's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.roles import Perm

Row = dict[str, Any]
# Per-render lookups (e.g. person id -> tag names), computed once for the rows' queryset.
Aux = dict[str, dict[Any, Any]]


@dataclass(frozen=True)
class Column:
    """One value a template can show for each row.

    ``fields`` are the ``.values()`` paths it reads; ``value`` turns a row (and the aux maps it
    names in ``aux``) into the cell. ``order`` is the ORM path to sort by, if sortable.
    ``reveal`` marks a full personal value: shown only where the user may reveal, logged.
    ``sealed`` names the sealed field ``value`` decrypts (the engine passes it only when
    revealing; otherwise the ``masked_key`` column is shown instead).
    """

    key: str
    label: Any  # str or a lazy translation
    fields: tuple[str, ...] = ()
    value: Callable[[Row, Aux], Any] | None = None
    aux: tuple[str, ...] = ()
    kind: str = "text"  # text, int, date, decimal
    order: str = ""
    width: int = 12
    reveal: bool = False
    masked_key: str = ""

    def cell(self, row: Row, aux: Aux) -> Any:
        if self.value is not None:
            return self.value(row, aux)
        return row.get(self.fields[0]) if self.fields else ""


@dataclass(frozen=True)
class Filter:
    """A condition a template (or a statistics measure) can put on the rows.

    ``kind``: ``choice`` (one of ``choices``), ``multi`` (any of ``choices``), ``int`` (a
    number, e.g. minimum age), ``date`` (on or after / before, ISO dates). ``q(value)`` builds
    the condition; ``choices`` may be a callable (tags are configuration read at run time).
    """

    key: str
    label: Any
    kind: str
    q: Callable[[Any], Q]
    # (value, label) pairs; labels may be lazy translations.
    choices: Sequence[tuple[str, Any]] | Callable[[], Sequence[tuple[str, Any]]] = ()

    def choice_list(self) -> list[tuple[str, str]]:
        c = self.choices() if callable(self.choices) else self.choices
        return [(v, str(label)) for v, label in c]


@dataclass(frozen=True)
class Measure:
    """A number a statistics table can sum, average or take the median of per group (besides
    counting rows).

    ``path`` is the ORM path summed in SQL. A measure derived from several fields (e.g. hours
    from submission to done) names them in ``fields`` and computes the value in ``value``
    (None: the row has no value); such a measure can be averaged or its median taken, not
    summed. Averages and medians are computed from the rows' values, never from per-group
    averages, so they stay exact when grids fold into their parents.
    """

    key: str
    label: Any
    path: str = ""
    fields: tuple[str, ...] = ()
    value: Callable[[tuple[Any, ...]], float | None] | None = None
    kind: str = "decimal"  # how a sum is shown: "int" for counts of things, else "decimal"

    @property
    def summable(self) -> bool:
        return bool(self.path)

    def read_fields(self) -> tuple[str, ...]:
        return self.fields or (self.path,)

    def of(self, values: tuple[Any, ...]) -> float | None:
        if self.value is not None:
            return self.value(values)
        return None if values[0] is None else float(values[0])


@dataclass(frozen=True)
class RowSet:
    """One kind of row. ``base(user, area)`` returns the rows under *area* the user may see
    (through the model's ``restrict``); ``user=None`` is the system (operators' CLI)."""

    key: str
    label: Any
    unit: Any  # what a row counts, for subtotals: persons, households, dwellings
    base: Callable[[Any, Any], QuerySet[Any]]
    columns: dict[str, Column]
    filters: dict[str, Filter] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    aux: dict[str, Callable[[QuerySet[Any]], dict[Any, Any]]] = field(default_factory=dict)
    # Values the database works out for each row (name -> a factory of the expression, e.g.
    # a correlated count), read by columns like any field; a ledger's query annotates only
    # the ones its shown columns read.
    annotations: dict[str, Callable[[], Any]] = field(default_factory=dict)
    grid_path: str = "grid_id"  # the .values() path of the row's grid id
    tag_path: str = ""  # the ORM path to a tag code, if rows carry tags
    # Each row carries a tag at most once along tag_path (a unique (row, tag) link), so the tag
    # join repeats no row within a tag and counts need no DISTINCT.
    tag_once: bool = False
    default_order: tuple[str, ...] = ("id",)
    perm: Perm = Perm.VIEW_REGISTER
    capability: str = ""

    def column(self, key: str) -> Column:
        return self.columns[key]


_ROWSETS: dict[str, RowSet] = {}


def register_rowset(rowset: RowSet) -> RowSet:
    """Add (or replace, on reload) a row set. Called from capabilities' report_sources."""
    _ROWSETS[rowset.key] = rowset
    return rowset


def rowset(key: str) -> RowSet:
    """The row set named *key*; KeyError when no capability registered it."""
    return _ROWSETS[key]


def rowsets() -> list[RowSet]:
    return sorted(_ROWSETS.values(), key=lambda r: r.key)


def has_rowset(key: str) -> bool:
    return key in _ROWSETS


def columns_of(keys: Iterable[str], rs: RowSet) -> list[Column]:
    return [rs.columns[k] for k in keys]


_SHIPPED: dict[str, dict[str, Any]] = {}


def register_template(code: str, spec: dict[str, Any]) -> None:
    """Ship a library template from a capability's report_sources (loaded by
    ``linli report load-library`` with the reports app's own library)."""
    _SHIPPED[code] = spec


def shipped_templates() -> dict[str, dict[str, Any]]:
    return dict(_SHIPPED)


# --- helpers for capabilities' report_sources ----------------------------------------------


def under_area(qs: QuerySet[Any], area: Any, lookup: str = "grid_id") -> QuerySet[Any]:
    """Rows whose area (``lookup``, an id path) is *area* or below it."""
    from linli.areas.models import Area

    return qs.filter(
        **{f"{lookup}__in": Area.objects.filter(path__startswith=area.path).values("id")}
    )


def choice_label(choices: Any, value: Any, aux: Aux) -> str:
    """The display label of a TextChoices value, the label map built once per render (in the
    active language) and kept in the render's aux maps."""
    if not value:
        return ""
    cache = aux.setdefault("_labels", {})
    labels = cache.get(choices)
    if labels is None:
        labels = cache[choices] = {k: str(v) for k, v in choices.choices}
    return str(labels.get(value, value))
