"""Scoped reads of the jurisdiction tree."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from linli.accounts.roles import Perm
from linli.areas.models import Area


def areas_visible(user: Any, perm: Perm = Perm.VIEW_REGISTER) -> QuerySet[Area]:
    """Nodes of the tree the user holds *perm* on: their bound nodes and everything below."""
    return Area.objects.restrict(user, perm)
