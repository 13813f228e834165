"""Scoped reads the workbench pages need beyond register.selectors: grouped counts per node.

Every count here goes through ``restrict()`` and is one grouped query, so a page about a
district never loads the district's people into memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet

from linli.accounts.models import RoleBinding
from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.areas.selectors import areas_visible
from linli.command.tallies import count_areas
from linli.core.scoping import scope_for
from linli.register.models import (
    Building,
    Dwelling,
    Household,
    HouseholdStatus,
    Person,
    PersonStatus,
)


def root_areas(user: Any) -> list[Area]:
    """The nodes the user is bound to (the top of what they see), deepest duplicates dropped."""
    from linli.core.scoping import scope_for

    paths = scope_for(user, Perm.VIEW_REGISTER).paths
    if not paths:
        return []
    return list(Area.objects.filter(path__in=paths).order_by("path"))


def counts_by_area(user: Any, areas: Sequence[Area]) -> dict[int, dict[str, int]]:
    """Living persons and active households under each of *areas* (siblings, not nested).

    The grids in scope below the areas are counted together (live for a few grids, from the
    background tallies for many: a district's home page must not group a million persons on
    every visit), then each grid's numbers go to the area whose path prefixes its own.
    """
    result: dict[int, dict[str, int]] = {a.pk: {"persons": 0, "households": 0} for a in areas}
    # Only nodes wholly inside the user's scope are counted (their tallies then hold nothing
    # beyond it); a node outside it keeps its zeros.
    scope = scope_for(user, Perm.VIEW_REGISTER)
    areas = [a for a in areas if scope.covers(a)]
    if not areas:
        return result
    under = Q()
    for a in areas:
        under |= Q(path__startswith=a.path)
    grid_paths = dict(
        areas_visible(user).filter(under, kind=AreaKind.GRID).values_list("id", "path")
    )
    # Each of *areas* is wholly in scope (it is a node the user may see), so its tally holds
    # nothing beyond the user's jurisdiction.
    raw, from_tallies = count_areas(list(areas), len(grid_paths), list(grid_paths))
    paths = {a.pk: a.path for a in areas} if from_tallies else grid_paths
    for key, per_key in (("persons", raw.persons), ("households", raw.households)):
        for k, n in per_key.items():
            path = paths.get(k, "")
            owner = next((a.pk for a in areas if path.startswith(a.path)), None)
            if owner is not None:
                result[owner][key] += n
    return result


def counts_by_building(user: Any, buildings: Sequence[Building]) -> dict[int, dict[str, int]]:
    """Dwellings, active households and living persons per building, one grouped query each."""
    ids = [b.pk for b in buildings]
    result: dict[int, dict[str, int]] = {
        i: {"dwellings": 0, "households": 0, "persons": 0} for i in ids
    }
    if not ids:
        return result
    rows: list[tuple[str, QuerySet[Any], str]] = [
        ("dwellings", Dwelling.objects.restrict(user), "building_id"),
        (
            "households",
            Household.objects.restrict(user).filter(status=HouseholdStatus.ACTIVE),
            "dwelling__building_id",
        ),
        (
            "persons",
            Person.objects.restrict(user).filter(status=PersonStatus.LIVING),
            "household__dwelling__building_id",
        ),
    ]
    for key, qs, lookup in rows:
        grouped = (
            qs.filter(**{f"{lookup}__in": ids})
            .order_by()
            .values(lookup)
            .annotate(n=Count("id"))
            .values_list(lookup, "n")
        )
        for building_id, n in grouped:
            result[building_id][key] = n
    return result


def bindings_managed(user: Any) -> QuerySet[RoleBinding]:
    """Role bindings on nodes the user manages users for."""
    return RoleBinding.objects.restrict(user, Perm.MANAGE_USERS).select_related(
        "user", "area", "granted_by"
    )
