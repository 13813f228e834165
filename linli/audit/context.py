"""Where the current act comes from: web, API, portal or command line, and which address."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    user_agent: str = ""
    channel: str = "cli"


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "linli_audit_context", default=AuditContext()
)


def current_context() -> AuditContext:
    return _current.get()


@contextmanager
def bind_context(ctx: AuditContext) -> Iterator[None]:
    token = _current.set(ctx)
    try:
        yield
    finally:
        _current.reset(token)
