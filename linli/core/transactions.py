"""An all-or-nothing block whose services need no savepoints of their own.

A service opens ``transaction.atomic()``; inside a caller's transaction that is a savepoint (two
round trips on PostgreSQL) so that a refusal the caller catches leaves its transaction usable.
Some callers never catch: the API's idempotency block runs one service and stores its answer,
and any failure must undo both. Inside :func:`all_or_nothing`, a service that asks
:func:`service_atomic` takes no savepoint; everywhere else it behaves exactly like
``transaction.atomic()`` (decision 0043).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

_WHOLE: contextvars.ContextVar[bool] = contextvars.ContextVar("linli_all_or_nothing", default=False)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """``transaction.atomic()`` whose every failure undoes the whole block: nothing inside may
    catch a database or service error and go on."""
    token = _WHOLE.set(True)
    try:
        with transaction.atomic():
            yield
    finally:
        _WHOLE.reset(token)


def service_atomic() -> Any:
    """The transaction of a service: no savepoint inside an all-or-nothing block."""
    return transaction.atomic(savepoint=not _WHOLE.get())
