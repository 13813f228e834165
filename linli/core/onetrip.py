"""Writes sent to PostgreSQL in one round trip (decision 0048).

A hot write (the API's check-in) is a handful of statements: read a row under lock, insert a
few rows that point at it, record an audit entry and the idempotency answer. Through the ORM
each is its own round trip and costs far more client CPU to build than to run. Here the rows
are still built as model instances — every value goes through the field's own ``pre_save``
and ``get_db_prep_save``, exactly as ``Model.save()`` would store it — but they are written by
``INSERT … SELECT`` parts of one statement, and that statement is sent together with the
statements before it in one simple-query message: PostgreSQL runs such a message as one
implicit transaction (all or nothing), and each statement in it, under READ COMMITTED, takes a
fresh snapshot, so a statement that follows a row lock sees what the lock's previous holder
committed.

Only PostgreSQL: SQLite callers keep their ORM path (there it is in-process, no round trips).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.lru_cache(maxsize=256)
def table(model: type[models.Model]) -> str:
    return quote(model._meta.db_table)


@functools.lru_cache(maxsize=1024)
def column(model: type[models.Model], attname: str) -> str:
    """The quoted column of *model*'s field named *attname* (``grid_id`` or ``grid``)."""
    for f in model._meta.concrete_fields:
        if attname in (f.attname, f.name):
            return quote(str(f.column))
    raise LookupError(f"{model.__name__} has no column {attname!r}")


@dataclass
class InsertSelect:
    """``INSERT INTO <model> (…) SELECT … FROM <source>``: one row per row of *source*.

    *instance* is an unsaved model instance holding the values; *exprs* maps field attnames to
    SQL expressions over the source (a key the database assigns, a JSON object built from
    it), with their parameters when they take any. Every other concrete field (the primary key
    excepted) is the instance's value as ``save()`` would write it, cast to the column's type."""

    instance: models.Model
    source: str
    exprs: dict[str, str | tuple[str, list[Any]]] = field(default_factory=dict)
    returning: str = ""

    def sql(self) -> tuple[str, list[Any]]:
        exprs = self.exprs
        text, valued = _plan(type(self.instance), tuple(exprs), self.source, self.returning)
        params: list[Any] = []
        db = connections[DEFAULT_DB_ALIAS]
        for f in valued:
            expr = exprs.get(f.attname)
            if expr is None:
                params.append(f.get_db_prep_save(f.pre_save(self.instance, add=True), db))
            elif not isinstance(expr, str):
                params.extend(expr[1])
        # The template names each expression's place ({attname}); the metadata has no braces.
        return text.format_map(
            {k: v if isinstance(v, str) else v[0] for k, v in exprs.items()}
        ), params


@functools.lru_cache(maxsize=256)
def _plan(
    model: type[models.Model], expr_names: tuple[str, ...], source: str, returning: str
) -> tuple[str, tuple[Any, ...]]:
    """The statement's text for this shape, and the fields whose values (or expression
    parameters) it takes, in order. Built once per shape: the metadata walk and quoting cost
    more than the rest of the write."""
    cols: list[str] = []
    values: list[str] = []
    valued: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        cols.append(quote(str(f.column)))
        if f.attname in expr_names:
            values.append("{" + f.attname + "}")
        else:
            values.append(f"CAST(%s AS {f.db_type(connection)})")
        valued.append(f)
    # Identifiers come from the model's metadata; every value is a parameter.
    sql = (
        f"INSERT INTO {table(model)} ({', '.join(cols)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {source}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    return sql, tuple(valued)


@dataclass
class Message:
    """Statements sent as one message; each yields one result set."""

    statements: list[tuple[str, Sequence[Any]]] = field(default_factory=list)

    def add(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.statements.append((sql, list(params)))
        return len(self.statements) - 1

    def send(self) -> list[list[tuple[Any, ...]]]:
        """Run the statements; the rows of each (``[]`` for one that returns none).

        They go in one pipeline (psycopg's pipeline mode: every statement sent, then one Sync),
        which PostgreSQL runs as one implicit transaction: all or nothing. Each is a prepared
        statement of this connection from its second use (the plan of the writing statement
        costs the server more than running it). Inside a caller's transaction (a test, an
        atomic block) they run in a savepoint, so a failure leaves that transaction usable.
        A failure is raised as Django's database error (``IntegrityError`` …)."""
        db = connections[DEFAULT_DB_ALIAS]
        with _scope(db), db.wrap_database_errors:
            db.ensure_connection()
            pg = db.connection
            if pg.prepare_threshold is None:
                # Django turns automatic preparation off for poolers; its own cursors bind on
                # the client and never prepare, so this touches only the statements sent here.
                pg.prepare_threshold = _PREPARE_THRESHOLD
            cursors = [psycopg.Cursor(pg) for _ in self.statements]
            start = time.monotonic()
            with pg.pipeline():
                for cur, (sql, params) in zip(cursors, self.statements, strict=True):
                    cur.execute(sql, params, prepare=True)
            results = [list(cur.fetchall()) if cur.description else [] for cur in cursors]
            for cur in cursors:
                cur.close()
            if db.queries_logged:
                # Seen like any query by the debug tools and the tests' query counts.
                spent = f"{(time.monotonic() - start) / len(cursors):.3f}"
                db.queries_log.extend({"sql": sql, "time": spent} for sql, _ in self.statements)
        return results


_PREPARE_THRESHOLD = 2


@contextmanager
def _scope(db: Any) -> Iterator[None]:
    if db.in_atomic_block:
        with transaction.atomic(using=db.alias):
            yield
    else:
        yield


def available() -> bool:
    """One-trip writes need PostgreSQL (a message of several statements, one transaction)."""
    return connection.vendor == "postgresql"


def starts_with_any(path_sql: str, prefixes: Sequence[str]) -> tuple[str, list[str]]:
    """SQL true when *path_sql* starts with one of *prefixes* (the scoping layer's subtree
    roots, decision 0005); false for none."""
    if not prefixes:
        return "FALSE", []
    return "(" + " OR ".join(f"starts_with({path_sql}, %s)" for _ in prefixes) + ")", list(prefixes)
