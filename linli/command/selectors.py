"""Scoped counts for the command view (指挥舱).

Every number here is computed in the database with a handful of grouped queries over rows
already restricted to the acting user's jurisdiction (``Perm.VIEW_COMMAND``). Persons are
never iterated in Python: we group by ``grid_id`` (a few thousand rows at most for a city)
and roll those rows up to the child nodes of the selected node using the Area paths.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.command.tallies import AGE_BANDS, UNKNOWN_BAND, Raw, count_areas
from linli.core.scoping import scope_for
from linli.register.models import (
    Building,
    DwellingUse,
    Estate,
    Household,
    HouseholdStatus,
    Person,
    PersonStatus,
    Residency,
    Sex,
    Tag,
)

PERM = Perm.VIEW_COMMAND

OCCUPANCY = ("occupied", "rented", "vacant")


@dataclass(frozen=True)
class Node:
    """A row of the breakdown: a child node (drillable) or, below a grid, a building."""

    id: int | None
    name: str
    kind: str
    drillable: bool


def command_scope_roots(*, user: Any) -> list[Area]:
    """The nodes the user holds the command view on (several for some users)."""
    scope = scope_for(user, PERM)
    if scope.is_empty:
        return []
    return list(Area.objects.restrict(user, PERM).filter(path__in=scope.paths).order_by("path"))


def command_area(*, user: Any, area_id: Any) -> Area | None:
    """The node selected with ``?area=``; None for the whole jurisdiction.

    A node outside the user's scope (or a malformed id) is answered with 404, like any
    object the user may not see.
    """
    if area_id in (None, ""):
        return None
    try:
        pk = int(area_id)
    except (TypeError, ValueError):
        raise Http404 from None
    area = Area.objects.restrict(user, PERM).filter(pk=pk).first()
    if area is None:
        raise Http404
    return area


def _resolve(user: Any, area: Area | int | str | None) -> Area | None:
    if area is None or area == "":
        return None
    if isinstance(area, Area):
        # Re-check a passed object: callers must not widen the scope by handing one in.
        if not scope_for(user, PERM).covers(area):
            raise Http404
        return area
    return command_area(user=user, area_id=area)


def command_breadcrumb(*, user: Any, area: Area | None) -> list[Area]:
    """The path from the user's scope root down to *area* (only nodes in scope)."""
    if area is None:
        return []
    scope = scope_for(user, PERM)
    return [a for a in [*area.ancestors(), area] if scope.covers(a)]


def _child_nodes(
    user: Any, area: Area | None, roots: list[Area]
) -> tuple[list[Node], dict[str, int]]:
    """The breakdown nodes below the selection and a map of path prefix → node id."""
    if area is None:
        children = roots
    else:
        children = list(Area.objects.restrict(user, PERM).filter(parent=area).order_by("name"))
    nodes = [Node(id=a.pk, name=a.name, kind=a.kind, drillable=True) for a in children]
    return nodes, {a.path: a.pk for a in children}


def _roll_up(rows: list[tuple[str, int]], prefixes: dict[str, int]) -> dict[int, int]:
    """Sum (grid path, count) rows into the child node whose path is a prefix of the grid's."""
    totals: dict[int, int] = defaultdict(int)
    for path, n in rows:
        for prefix, node_id in prefixes.items():
            if path.startswith(prefix):
                totals[node_id] += n
                break
    return totals


def _grids_in(user: Any, selected: Area | None) -> list[int]:
    """Ids of the grids the selection covers within the user's scope."""
    areas = Area.objects.restrict(user, PERM).filter(kind=AreaKind.GRID)
    if selected is not None:
        areas = areas.filter(path__startswith=selected.path)
    return list(areas.values_list("id", flat=True))


def command_raw(
    *, user: Any, selected: Area | None, roots: list[Area]
) -> tuple[Raw, dict[int, str]]:
    """The counts of the selection and the paths their keys stand for.

    Narrow selections are counted live, keyed by grid. Wide ones read the tallies of the
    nodes the selection is made of (its children, or the user's roots), keyed by node; each of
    those nodes lies wholly in the user's scope, so its tally holds nothing beyond it.
    """
    grid_paths = dict(
        Area.objects.filter(pk__in=_grids_in(user, selected)).values_list("id", "path")
    )
    if selected is not None and selected.kind == AreaKind.GRID:
        parts = [selected]
    elif selected is not None:
        parts = list(Area.objects.restrict(user, PERM).filter(parent=selected))
    else:
        parts = roots
    scope = scope_for(user, PERM)
    parts = [a for a in parts if scope.covers(a)]  # each part wholly in scope, tallies too
    live_ids = list(grid_paths) if len(grid_paths) <= 500 else _subquery(user, selected)
    raw, from_tallies = count_areas(parts, len(grid_paths), live_ids)
    if from_tallies:
        return raw, {a.pk: a.path for a in parts}
    return raw, grid_paths


def _subquery(user: Any, selected: Area | None) -> Any:
    areas = Area.objects.restrict(user, PERM).filter(kind=AreaKind.GRID)
    if selected is not None:
        areas = areas.filter(path__startswith=selected.path)
    return areas.values("id")


def command_counts(*, user: Any, area: Area | int | str | None = None) -> dict[str, Any]:
    """Every count of the command view's first page for *area* (default: the whole scope).

    Returns a dict of plain values (ints, strings, lists, dicts) ready for the template and
    for ``json_script``; ``as_of`` is when the tallies were taken, or None when counted live.
    Raises Http404 when *area* lies outside the user's scope.
    """
    selected = _resolve(user, area)
    roots = command_scope_roots(user=user)
    # A single root is the natural first page; several roots are shown side by side.
    if selected is None and len(roots) == 1:
        selected = roots[0]
    raw, grid_paths = command_raw(user=user, selected=selected, roots=roots)

    # 1. persons and households per grid, rolled up to the child nodes by path.
    person_rows = [(grid_paths.get(g, ""), n) for g, n in raw.persons.items()]
    household_rows = [(grid_paths.get(g, ""), n) for g, n in raw.households.items()]
    person_total = sum(raw.persons.values())
    household_total = sum(raw.households.values())

    if selected is not None and selected.kind == AreaKind.GRID:
        persons = Person.objects.restrict(user, PERM).filter(
            status=PersonStatus.LIVING, grid=selected
        )
        households = Household.objects.restrict(user, PERM).filter(
            status=HouseholdStatus.ACTIVE, grid=selected
        )
        nodes, by_node_persons, by_node_households = _grid_breakdown(
            user, selected, persons.order_by(), households.order_by()
        )
    else:
        nodes, prefixes = _child_nodes(user, selected, roots)
        by_node_persons = _roll_up(person_rows, prefixes)
        by_node_households = _roll_up(household_rows, prefixes)
    breakdown = [
        {
            "id": node.id,
            "name": node.name,
            "kind": node.kind,
            "drillable": node.drillable,
            "persons": by_node_persons.get(node.id or 0, 0),
            "households": by_node_households.get(node.id or 0, 0),
        }
        for node in nodes
    ]

    # 2. dwellings by occupancy: vacant when no household lives there, whatever the use.
    occupancy = dict.fromkeys(OCCUPANCY, 0)
    for use, n in raw.dwellings_by_use.items():
        lived_in = min(raw.inhabited_by_use.get(use, 0), n)
        occupancy["vacant"] += n - lived_in
        occupancy["rented" if use == DwellingUse.RENTED else "occupied"] += lived_in

    # 3. residency, age band and sex.
    by_residency: dict[str, int] = defaultdict(int)
    bands: dict[str, dict[str, int]] = {
        code: {"male": 0, "female": 0, "unknown": 0, "total": 0}
        for code in [*(b[0] for b in AGE_BANDS), UNKNOWN_BAND]
    }
    for (band, sex, res), n in raw.profile.items():
        by_residency[res] += n
        key = "male" if sex == Sex.MALE else "female" if sex == Sex.FEMALE else "unknown"
        bands[band][key] += n
        bands[band]["total"] += n
    residency = [
        {"code": code, "label": str(label), "count": by_residency.get(code, 0)}
        for code, label in Residency.choices
    ]

    # 4. people per tag.
    by_tag = raw.by_tag
    tags = [
        {"code": t.code, "label": t.label, "color": t.color, "count": by_tag.get(t.pk, 0)}
        for t in Tag.objects.filter(Q(is_active=True) | Q(pk__in=list(by_tag)))
    ]

    age_bands = [
        {"band": code, "label": _band_label(code), **counts}
        for code, counts in bands.items()
        if code != UNKNOWN_BAND or counts["total"]
    ]

    return {
        "area": selected,
        "roots": roots,
        "breadcrumb": command_breadcrumb(user=user, area=selected),
        "persons": person_total,
        "households": household_total,
        "dwellings": sum(occupancy.values()),
        "occupancy": occupancy,
        "residency": residency,
        "tags": tags,
        "breakdown": breakdown,
        "breakdown_kind": "building"
        if selected is not None and selected.kind == AreaKind.GRID
        else "area",
        "age_bands": age_bands,
        "as_of": raw.as_of,
    }


def _band_label(code: str) -> str:
    if code == UNKNOWN_BAND:
        return _("Unknown")
    if code.endswith("+"):
        return _("%(age)s and over") % {"age": code[:-1]}
    return _("%(band)s years") % {"band": code}


def _grid_breakdown(
    user: Any,
    grid: Area,
    persons: QuerySet[Person],
    households: QuerySet[Household],
) -> tuple[list[Node], dict[int, int], dict[int, int]]:
    """Below a grid there are no child nodes: break the counts down by building instead."""
    buildings = list(
        Building.objects.restrict(user, PERM)
        .filter(grid=grid)
        .select_related("estate")
        .order_by("estate__name", "sort_key", "name")
    )
    nodes = [Node(id=b.pk, name=str(b), kind="building", drillable=False) for b in buildings]
    by_persons = dict(
        persons.values_list("household__dwelling__building_id").annotate(n=Count("id"))
    )
    by_households = dict(households.values_list("dwelling__building_id").annotate(n=Count("id")))
    # Persons registered directly in the grid (no dwelling yet) get a row of their own so
    # the breakdown always adds up to the totals.
    loose_p, loose_h = by_persons.pop(None, 0), by_households.pop(None, 0)
    if loose_p or loose_h:
        nodes.append(Node(id=0, name=_("No dwelling recorded"), kind="none", drillable=False))
        by_persons[0], by_households[0] = loose_p, loose_h
    return nodes, by_persons, by_households


def command_estates(*, user: Any, area: Area | None = None) -> list[dict[str, Any]]:
    """Estates in scope (below *area*) that have coordinates, for the map."""
    qs = Estate.objects.restrict(user, PERM).filter(latitude__isnull=False, longitude__isnull=False)
    if area is not None:
        subtree = Area.objects.filter(path__startswith=area.path).values("id")
        qs = qs.filter(
            Q(community_id__in=subtree)
            | Q(pk__in=Building.objects.filter(grid_id__in=subtree).values("estate_id"))
        )
    return [
        {
            "id": e.pk,
            "name": e.name,
            "address": e.address,
            "lat": float(e.latitude),
            "lng": float(e.longitude),
        }
        for e in qs.order_by("name")
        if e.latitude is not None and e.longitude is not None
    ]
