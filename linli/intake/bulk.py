"""Inserting many rows of a few models fast, inside the caller's transaction.

The ORM's bulk_create spends most of its time building model instances and preparing each
value through the query compiler (decision 0020 has the profile). An import writes several
rows per roster row (dwelling, household, person, membership, timeline events), so it adds
plain tuples here instead:

- ids are allocated up front, so rows can point at each other before any is written (the
  foreign keys Django creates are deferred to the commit): on PostgreSQL from the table's own
  sequence, a block at a time (safe beside other writers); on SQLite from MAX(id), which is
  safe because the import's IMMEDIATE transaction is the only writer while it runs;
- `flush` writes what was added: on PostgreSQL with COPY (psycopg), on SQLite with one
  executemany per table.

Callers that add many rows of one shape take a `builder` for it: a function of the given
values in a fixed order, which fills the rest from the defaults without a dict per row.
A JSON value may come already encoded (`RawJSON`), so a caller can encode rows of one shape
from a template.

Only concrete fields are written; a field not given gets its default, auto_now and
auto_now_add fields get the time the Inserts was made. Nothing here checks permissions or
values: callers (the import's writer) do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

#: Ids taken from a PostgreSQL sequence at a time.
ID_BLOCK = 2000

#: `analyze_grown` analyses a table once this many rows were written to it since its last
#: analysis, and at least as many as it then held (the table doubled). Decision 0047.
ANALYZE_MIN_ROWS = 20_000


class RawJSON(str):
    """A JSON document already encoded (written as it is, not encoded again)."""

    __slots__ = ()


class Inserts:
    """Rows to insert into *models*, written in the given order by `flush`."""

    def __init__(self, model_list: Sequence[type[models.Model]]) -> None:
        self.models = list(model_list)
        self.postgres = connection.vendor == "postgresql"
        now = timezone.now()
        ops = connection.ops
        self.rows: dict[type[models.Model], list[tuple[Any, ...]]] = {m: [] for m in self.models}
        self.columns: dict[type[models.Model], list[tuple[str, str, Callable[[Any], Any]]]] = {}
        self.defaults: dict[type[models.Model], dict[str, Any]] = {}
        self._pool: dict[type[models.Model], list[int]] = {m: [] for m in self.models}
        self._next: dict[type[models.Model], int] = {}
        self._deferred: str | None = None
        self._sequences: dict[type[models.Model], str] = {}
        self._pending: tuple[threading.Thread, list[BaseException]] | None = None
        #: Rows written per model since its last analysis (`analyze_grown`), and the rows the
        #: table held then (None until first asked).
        self._grown: dict[type[models.Model], int] = {m: 0 for m in self.models}
        self._analysed: dict[type[models.Model], float] | None = None
        for model in self.models:
            cols: list[tuple[str, str, Callable[[Any], Any]]] = []
            defaults: dict[str, Any] = {}
            for f in model._meta.concrete_fields:
                adapt: Callable[[Any], Any] = _same
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    defaults[f.attname] = now
                elif f.has_default():
                    defaults[f.attname] = f.get_default()
                elif f.null:
                    defaults[f.attname] = None
                elif isinstance(f, models.CharField | models.TextField):
                    defaults[f.attname] = ""
                if isinstance(f, models.JSONField):
                    adapt = _json
                elif self.postgres:
                    adapt = _same  # psycopg adapts dates, datetimes and bytes itself
                elif isinstance(f, models.DateTimeField):
                    adapt = _none_or(ops.adapt_datetimefield_value)
                elif isinstance(f, models.DateField):
                    adapt = _none_or(ops.adapt_datefield_value)
                cols.append((f.attname, str(f.column), adapt))
            self.columns[model] = cols
            # Adapted once here: most rows take most defaults (the same timestamps, "").
            adapters = {name: adapt for name, _col, adapt in cols}
            self.defaults[model] = {k: adapters[k](v) for k, v in defaults.items()}

    def next_id(self, model: type[models.Model]) -> int:
        """A new id for a row of *model* (not yet used by anyone)."""
        if self.postgres:
            pool = self._pool[model]
            if not pool:
                with connection.cursor() as cur:
                    sequence = self._sequences.get(model)
                    if sequence is None:
                        table = model._meta.db_table
                        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                        sequence = self._sequences[model] = cur.fetchone()[0]
                    # The sequence looked up once: in the select list it would be looked up
                    # again for every id (a catalogue search each).
                    cur.execute(
                        "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                        [sequence, ID_BLOCK],
                    )
                    pool.extend(r[0] for r in reversed(cur.fetchall()))
            return pool.pop()
        if model not in self._next:
            top = model._default_manager.aggregate(m=models.Max("id"))["m"] or 0
            self._next[model] = top + 1
        pk = self._next[model]
        self._next[model] = pk + 1
        return pk

    def add(self, model: type[models.Model], **values: Any) -> int:
        """Queue a row; returns its id (given as ``id=`` or allocated here)."""
        if "id" not in values:
            values["id"] = self.next_id(model)
        defaults = self.defaults[model]
        self.rows[model].append(
            tuple(
                adapt(values[name]) if name in values else defaults.get(name)
                for name, _col, adapt in self.columns[model]
            )
        )
        return int(values["id"])

    def builder(
        self, model: type[models.Model], names: Sequence[str]
    ) -> Callable[[Sequence[Any]], None]:
        """A function that queues a row of *model* from values given in the order of *names*
        (which must include "id"); the other columns take their defaults, as `add` does."""
        cols = self.columns[model]
        index = {name: i for i, (name, _col, _adapt) in enumerate(cols)}
        missing = [n for n in names if n not in index]
        if missing or "id" not in names:
            raise ValueError(f"not columns of {model.__name__}: {missing or ['id']}")
        defaults = self.defaults[model]
        base = [defaults.get(name) for name, _col, _adapt in cols]
        positions = [index[n] for n in names]
        adapters = [cols[index[n]][2] for n in names]
        adapted = [(j, a) for j, a in enumerate(adapters) if a is not _same]
        pairs = list(zip(range(len(names)), positions, strict=True))
        rows = self.rows[model]

        def build(values: Sequence[Any]) -> None:
            if adapted:
                values = list(values)
                for j, adapt in adapted:
                    values[j] = adapt(values[j])
            row = base.copy()
            for j, p in pairs:
                row[p] = values[j]
            rows.append(tuple(row))

        return build

    def _constraint_names(self) -> str:
        """The deferred foreign keys of these models' tables, quoted, comma-separated."""
        if self._deferred is None:
            tables = [m._meta.db_table for m in self.models]
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable "
                    "AND condeferred AND conrelid = ANY(%s::regclass[]) ORDER BY conname",
                    [tables],
                )
                names = [connection.ops.quote_name(r[0]) for r in cur.fetchall()]
            self._deferred = ", ".join(names)
        return self._deferred

    def _take(self) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """The queued rows as (COPY or INSERT statement, rows), in model order; the queues
        are emptied (builders keep appending to the same lists)."""
        quote = connection.ops.quote_name
        work = []
        for model in self.models:
            rows = self.rows[model]
            if not rows:
                continue
            table = quote(model._meta.db_table)
            names = ", ".join(quote(col) for _n, col, _a in self.columns[model])
            if self.postgres:
                # Identifiers come from model metadata; values travel in the COPY stream.
                sql = f"COPY {table} ({names}) FROM STDIN"
            else:
                marks = ", ".join(["%s"] * len(self.columns[model]))
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            work.append((sql, rows.copy()))
            self._grown[model] += len(rows)
            rows.clear()
        return work

    def flush(self, *, check: bool = False, background: bool = False) -> None:
        """Write every queued row, table by table, in the order the models were given.

        *check* (PostgreSQL): then check the deferred foreign keys of these tables at once
        instead of at the commit (the rows they point at are still in the server's cache and
        its queue of pending checks stays one flush long), and defer them again, so the rest
        of the transaction is as before. A broken reference raises IntegrityError.

        *background* (PostgreSQL): the rows are written by a thread on the same connection
        and transaction (psycopg serialises its use), so the caller can go on preparing the
        next rows while the server indexes these. Anything else the caller sends to the
        database waits until the thread is done; `wait` (called by the next flush, and by the
        caller before leaving the transaction) waits and raises what the writing raised."""
        self.wait()
        work = self._take()
        names = self._constraint_names() if check and self.postgres else ""
        if not (work or names):
            return
        if not self.postgres:
            with connection.cursor() as cur:
                for sql, rows in work:
                    cur.executemany(sql, rows)
            return
        raw = connection.connection  # psycopg's connection: thread-safe, one transaction
        if not background:
            with connection.wrap_database_errors:
                _write(raw, work, names)
            return
        outcome: list[BaseException] = []

        def run() -> None:
            try:
                _write(raw, work, names)
            except BaseException as exc:  # handed to the caller by wait()
                outcome.append(exc)

        thread = threading.Thread(target=run, name="linli-inserts", daemon=True)
        thread.start()
        self._pending = (thread, outcome)

    def analyze_grown(
        self, columns: Mapping[type[models.Model], Sequence[str]], minimum: int | None = None
    ) -> list[str]:
        """PostgreSQL: ANALYZE, inside the open transaction, each table of *columns* (models
        given here) that was written at least *minimum* (default `ANALYZE_MIN_ROWS`) rows
        since its last analysis and at least as many rows as it then held; only the columns
        named (the ones the caller's lookups filter and join on: statistics of the others,
        text and JSON, would cost more than the rest). Returns the tables analysed.

        Without it the planner knows nothing of the rows an import has written in its own
        still-open transaction (autovacuum sees them only after the commit): past a few
        hundred thousand rows it estimates an `IN (…)` of a batch's keys against a table it
        believes empty or small and stops using the indexes. ANALYZE counts the rows the own
        transaction inserted. It takes a SHARE UPDATE EXCLUSIVE lock until the commit, which
        blocks only other ANALYZE/VACUUM and schema changes of these tables, not reads or
        writes. Waits for a background flush first."""
        if not self.postgres:
            return []
        least = ANALYZE_MIN_ROWS if minimum is None else minimum
        self.wait()
        if self._analysed is None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT c.oid::regclass::text, greatest(c.reltuples, 0) FROM pg_class c "
                    "WHERE c.oid = ANY(%s::regclass[])",
                    [[m._meta.db_table for m in self.models]],
                )
                held = dict(cur.fetchall())
            self._analysed = {m: float(held.get(m._meta.db_table, 0)) for m in self.models}
        grown = [
            m
            for m in columns
            if self._grown[m] >= max(least, self._analysed[m]) and self._grown[m] > 0
        ]
        if not grown:
            return []
        tables = [m._meta.db_table for m in grown]
        quote = connection.ops.quote_name
        targets = ", ".join(
            f"{quote(m._meta.db_table)} ({', '.join(quote(_column(m, f)) for f in columns[m])})"
            for m in grown
        )
        with connection.cursor() as cur:
            # Table and column names from model metadata, quoted.
            cur.execute(f"ANALYZE {targets}")
            cur.execute(
                "SELECT c.oid::regclass::text, c.reltuples FROM pg_class c "
                "WHERE c.oid = ANY(%s::regclass[])",
                [tables],
            )
            held = dict(cur.fetchall())
        for m in grown:
            self._analysed[m] = float(held.get(m._meta.db_table, 0))
            self._grown[m] = 0
        return tables

    def wait(self, *, raise_errors: bool = True) -> None:
        """Wait for a background flush; raise (as Django's database errors) what it raised."""
        if self._pending is None:
            return
        thread, outcome = self._pending
        self._pending = None
        thread.join()
        if outcome and raise_errors:
            with connection.wrap_database_errors:
                raise outcome[0]


def _write(raw: Any, work: list[tuple[str, list[tuple[Any, ...]]]], constraints: str) -> None:
    with raw.cursor() as cur:
        for sql, rows in work:
            with cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        if constraints:
            # Names from the catalogue, quoted; SET CONSTRAINTS takes no parameters.
            cur.execute(f"SET CONSTRAINTS {constraints} IMMEDIATE")
            cur.execute(f"SET CONSTRAINTS {constraints} DEFERRED")


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return str(field.column)


def _same(value: Any) -> Any:
    return value


def _json(value: Any) -> Any:
    if type(value) is RawJSON:
        return str(value)
    return json.dumps(value if value is not None else {}, ensure_ascii=False, default=str)


def _none_or(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else adapt(v)
