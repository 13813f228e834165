"""Writes that a client may safely retry: the ``Idempotency-Key`` header.

An operation wraps its work in :func:`idempotent`. Without the header the work simply runs.
With it, the first successful answer is stored (IdempotencyRecord) in the same transaction as
the work, and a retry with the same key answers that stored body and status again, without
doing the work twice — also when two copies race (the loser's work is rolled back and it
answers the winner's body). The same key with a different operation or body answers 422.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError

from linli.api.models import IdempotencyRecord
from linli.core.transactions import all_or_nothing

HEADER = "Idempotency-Key"


class _Lost(Exception):
    """Another request with the same key stored its answer first."""


def _hash(operation: str, body: Any) -> str:
    canonical = json.dumps([operation, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord, operation: str, digest: str) -> tuple[int, Any]:
    if record.operation != operation or record.request_hash != digest:
        raise HttpError(
            422,
            _("This Idempotency-Key was already used for a different request."),
        )
    return record.status_code, record.body


@dataclass(frozen=True)
class Keyed:
    """A write's key, what it is and a digest of its body: what a one-trip write needs to look
    its stored answer up and to store its own in the same message (decision 0048)."""

    user_id: int
    key: str
    operation: str
    digest: str

    def lookup(self) -> tuple[str, list[Any]]:
        """SQL for the stored answer's status, body, operation and digest."""
        from linli.core.onetrip import column, table

        m = IdempotencyRecord
        return (
            f"SELECT {column(m, 'status_code')}, {column(m, 'body')}, "  # noqa: S608
            f"{column(m, 'operation')}, {column(m, 'request_hash')} FROM {table(m)} "
            f"WHERE {column(m, 'user_id')} = %s AND {column(m, 'key')} = %s",
            [self.user_id, self.key],
        )

    def unused(self) -> tuple[str, list[Any]]:
        """SQL true while no answer is stored under this key."""
        sql, params = self.lookup()
        return f"NOT EXISTS ({sql})", params

    def record(self, *, status: int, body: dict[str, Any], source: str, merge: str) -> Any:
        """The stored answer as an ``InsertSelect`` over *source*: *body* with the JSON object
        *merge* (SQL over the source, e.g. the new row's id) merged into it."""
        from linli.core.onetrip import InsertSelect

        return InsertSelect(
            IdempotencyRecord(
                user_id=self.user_id,
                key=self.key,
                operation=self.operation,
                request_hash=self.digest,
                status_code=status,
                body=body,
            ),
            source=source,
            exprs={"body": (f"CAST(%s AS jsonb) || {merge}", [json.dumps(body)])},
        )

    def replay(self, row: tuple[Any, ...]) -> tuple[int, Any]:
        """The stored answer of a looked-up row (or 422 for a different request)."""
        status, body, operation, digest = row
        if isinstance(body, str):
            body = json.loads(body)
        record = IdempotencyRecord(
            status_code=status, body=body, operation=operation, request_hash=digest
        )
        return _replay(record, self.operation, self.digest)


def keyed(request: HttpRequest, *, user: Any, operation: str, body: Any) -> Keyed | None:
    """The request's Idempotency-Key with its digest, or None without one (422 if too long)."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return None
    if len(key) > 100:
        raise HttpError(422, _("The Idempotency-Key is longer than 100 characters."))
    return Keyed(user_id=user.pk, key=key, operation=operation, digest=_hash(operation, body))


def idempotent(
    request: HttpRequest,
    *,
    user: Any,
    operation: str,
    body: Any,
    run: Callable[[], tuple[int, Any]],
) -> tuple[int, Any]:
    """Run ``run()`` (returning (status, JSON-able body)) at most once per Idempotency-Key."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return run()
    if len(key) > 100:
        raise HttpError(422, _("The Idempotency-Key is longer than 100 characters."))
    digest = _hash(operation, body)
    found = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if found is not None:
        return _replay(found, operation, digest)
    try:
        # All or nothing: the service inside takes no savepoint of its own (decision 0043).
        with all_or_nothing():
            status, answer = run()
            # No savepoint of its own (two round trips fewer per write): a losing insert
            # rolls the whole work back anyway, through _Lost leaving the outer block.
            try:
                IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    operation=operation,
                    request_hash=digest,
                    status_code=status,
                    body=answer,
                )
            except IntegrityError:
                raise _Lost from None
    except _Lost:
        return _replay(IdempotencyRecord.objects.get(user=user, key=key), operation, digest)
    return status, answer


def idempotency_purge(*, now: Any = None, keep: Any = None) -> int:
    """Forget stored answers older than *keep* (a day by default): retries come within
    minutes, and the store must not grow without end."""
    import datetime as dt

    from django.utils import timezone

    cutoff = (now or timezone.now()) - (keep or dt.timedelta(days=1))
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
