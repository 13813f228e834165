"""The scoping layer: the one place that turns (user, permission) into what they may touch.

Every page, API operation, search, count, chart and export reads through
``Model.objects.restrict(user, perm)``. A grant on a node covers that node and everything
below it, nothing beside it. Objects outside the scope are simply absent from the queryset,
so views answer 404 for them, never 403 (a 403 would confirm the object exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from django.db import models
from django.db.models.lookups import In

from linli.accounts.roles import ROLE_PERMS, Perm

if TYPE_CHECKING:
    from linli.areas.models import Area

M = TypeVar("M", bound=models.Model)

_CACHE_ATTR = "_linli_scope_cache"


# Above this many grids a scope is "wide": its filter should not steer the query planner.
WIDE_SCOPE_GRIDS = 40


@dataclass(frozen=True)
class Scope:
    """The subtree roots (materialised paths) a user holds a permission on."""

    paths: tuple[str, ...]
    # Every root is a grid (a grid worker's scope): then it is narrow without counting.
    grids_only: bool = False

    @cached_property
    def is_wide(self) -> bool:
        """True when the scope spans many grids (a community head and up, roughly).

        For a narrow scope the grid index is the best way into a table; for a wide one it is
        the worst (the planner would walk most of the table through it and then sort), so the
        filter is written so that no index is used for it and the other conditions (a name
        prefix, an ID tail) choose the index instead.
        """
        from linli.areas.models import Area, AreaKind

        if self.grids_only and len(self.paths) <= WIDE_SCOPE_GRIDS:
            return False  # no query: a grid holds one grid (the count would say so)
        grids = Area.objects.subtree_ids(list(self.paths)).filter(kind=AreaKind.GRID)
        return grids[: WIDE_SCOPE_GRIDS + 1].count() > WIDE_SCOPE_GRIDS

    @property
    def is_empty(self) -> bool:
        return not self.paths

    def covers(self, area: Area | None) -> bool:
        """True when *area* is one of the roots or below one."""
        return area is not None and any(area.path.startswith(p) for p in self.paths)

    def area_ids(self) -> models.QuerySet[Any]:
        """A subquery of the ids of every node in scope (used as ``x__in=``)."""
        from linli.areas.models import Area

        return Area.objects.subtree_ids(list(self.paths)).values("id")

    def q(self, lookup: str) -> models.Q:
        """Filter for a model whose *lookup* points at an Area."""
        if self.is_empty:
            return models.Q(pk__in=[])
        if lookup == "id":
            q = models.Q()
            for p in self.paths:
                q |= models.Q(path__startswith=p)
            return q
        if self.is_wide:
            # `grid_id + 0 IN (…)`: the same rows, but no index is chosen for this condition.
            return models.Q(In(models.F(lookup) + 0, self.area_ids()))
        return models.Q(**{f"{lookup}__in": self.area_ids()})


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set."""
    ordered = sorted(paths, key=len)
    kept: list[str] = []
    for p in ordered:
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


def scope_for(user: Any, perm: Perm | str) -> Scope:
    """The scope *user* holds *perm* on; cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(paths=())
    cache: dict[str, Any] = user.__dict__.setdefault(_CACHE_ATTR, {})
    key = str(perm)
    if key in cache:
        return cache[key]
    if "__bindings__" not in cache:
        # One query per request for all permissions (pages ask for several).
        cache["__bindings__"] = list(
            user.role_bindings.filter(is_active=True).values_list(
                "role", "area__path", "area__kind"
            )
        )
    from linli.areas.models import AreaKind

    kinds: dict[str, str] = {}
    for role, path, kind in cache["__bindings__"]:
        if perm in ROLE_PERMS.get(role, frozenset()):
            kinds[path] = kind
    roots = _minimal(set(kinds))
    scope = Scope(
        paths=roots, grids_only=bool(roots) and all(kinds[p] == AreaKind.GRID for p in roots)
    )
    cache[key] = scope
    return scope


def prime_bindings(user: Any, bindings: list[tuple[str, str, str]]) -> None:
    """Hand scope_for the user's active bindings as (role, area path, area kind), read by the
    caller in a query it makes anyway (the API's token look-up), so no query repeats them."""
    cache: dict[str, Any] = user.__dict__.setdefault(_CACHE_ATTR, {})
    cache["__bindings__"] = list(bindings)


def forget_scope(user: Any) -> None:
    """Drop the cached scopes (after bindings change)."""
    user.__dict__.pop(_CACHE_ATTR, None)


class ScopedQuerySet(models.QuerySet[M], Generic[M]):
    """A queryset that can be restricted to what a user may see (cf. NetBox's restrict())."""

    def restrict(self, user: Any, perm: Perm | str = Perm.VIEW_REGISTER) -> Self:
        scope = scope_for(user, perm)
        if scope.is_empty:
            return self.none()
        return self.filter(self.model.scope_q(scope))  # type: ignore[attr-defined]


class ScopedModel(models.Model):
    """Base for models whose rows belong to a node of the jurisdiction tree.

    Subclasses name the lookup to their Area in ``scope_lookup`` or override ``scope_q``.
    """

    scope_lookup: str = "grid"

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return scope.q(cls.scope_lookup)
