"""Template context shared by the workbench pages: what the signed-in user may reach."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from linli.accounts.roles import Perm
from linli.core.scoping import scope_for


def nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"can": {p.name.lower(): not scope_for(user, p).is_empty for p in Perm}}
