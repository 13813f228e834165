"""Scoped counts for the command view (指挥舱).

Every number here is computed in the database with a handful of grouped queries over rows
already restricted to the acting user's jurisdiction (``Perm.VIEW_COMMAND``). Persons are
never iterated in Python: we group by ``grid_id`` (a few thousand rows at most for a city)
and roll those rows up to the child nodes of the selected node using the Area paths.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.scoping import scope_for
from linli.register.models import (
    Building,
    Dwelling,
    DwellingUse,
    Estate,
    Household,
    HouseholdStatus,
    Person,
    PersonStatus,
    PersonTag,
    Residency,
    Sex,
    Tag,
)

PERM = Perm.VIEW_COMMAND

# Age bands the community's services are organised around: pre-school, school age, young
# adults, working age, the elderly (60+, the national threshold) and the very old (80+).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-6", 0, 6),
    ("7-17", 7, 17),
    ("18-34", 18, 34),
    ("35-59", 35, 59),
    ("60-79", 60, 79),
    ("80+", 80, None),
)
UNKNOWN_BAND = "unknown"
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


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a non-leap year
        return today.replace(year=today.year - years, day=28)


def _age_band_expr(today: dt.date) -> Case:
    # Someone is younger than N exactly when born after the date N years ago.
    whens = [When(birth_date__isnull=True, then=Value(UNKNOWN_BAND))]
    for code, _lo, hi in AGE_BANDS:
        if hi is None:
            whens.append(When(birth_date__isnull=False, then=Value(code)))
        else:
            whens.append(When(birth_date__gt=_years_ago(today, hi + 1), then=Value(code)))
    return Case(*whens, output_field=CharField())


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


def command_counts(*, user: Any, area: Area | int | str | None = None) -> dict[str, Any]:
    """Every count of the command view's first page for *area* (default: the whole scope).

    Returns a dict of plain values (ints, strings, lists, dicts) ready for the template and
    for ``json_script``. Raises Http404 when *area* lies outside the user's scope.
    """
    selected = _resolve(user, area)
    roots = command_scope_roots(user=user)
    # A single root is the natural first page; several roots are shown side by side.
    if selected is None and len(roots) == 1:
        selected = roots[0]
    today = timezone.localdate()

    # order_by() drops the models' default ordering so it never joins a GROUP BY.
    persons = Person.objects.restrict(user, PERM).filter(status=PersonStatus.LIVING).order_by()
    households = (
        Household.objects.restrict(user, PERM).filter(status=HouseholdStatus.ACTIVE).order_by()
    )
    dwellings = Dwelling.objects.restrict(user, PERM).order_by()
    subtree = Area.objects.filter(path__startswith=selected.path if selected else "/").values("id")
    if selected is not None:
        persons = persons.filter(grid_id__in=subtree)
        households = households.filter(grid_id__in=subtree)
        dwellings = dwellings.filter(grid_id__in=subtree)

    # 1. persons and households per grid (no join), rolled up to the child nodes by path.
    areas = Area.objects.restrict(user, PERM)
    if selected is not None:
        areas = areas.filter(path__startswith=selected.path)
    grid_paths = dict(areas.filter(kind=AreaKind.GRID).values_list("id", "path"))
    person_rows = [
        (grid_paths.get(g, ""), n)
        for g, n in persons.values_list("grid_id").annotate(n=Count("id"))
    ]
    household_rows = [
        (grid_paths.get(g, ""), n)
        for g, n in households.values_list("grid_id").annotate(n=Count("id"))
    ]
    person_total = sum(n for _p, n in person_rows)
    household_total = sum(n for _p, n in household_rows)

    if selected is not None and selected.kind == AreaKind.GRID:
        nodes, by_node_persons, by_node_households = _grid_breakdown(
            user, selected, persons, households
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

    # 2. dwellings by occupancy: vacant when no household lives there, whatever the recorded
    # use. Two cheap queries (all dwellings by use; inhabited ones by use) beat a correlated
    # EXISTS per dwelling by a factor of two on a million-person register.
    by_use = dict(dwellings.values_list("use").annotate(n=Count("id")))
    inhabited = dict(
        households.filter(dwelling__isnull=False)
        .values_list("dwelling__use")
        .annotate(n=Count("dwelling_id", distinct=True))
    )
    occupancy = dict.fromkeys(OCCUPANCY, 0)
    for use, n in by_use.items():
        lived_in = min(inhabited.get(use, 0), n)
        occupancy["vacant"] += n - lived_in
        occupancy["rented" if use == DwellingUse.RENTED else "occupied"] += lived_in

    # 3 and 5. residency, age band and sex in one pass over the persons (a second pass over a
    # million rows costs as much as the rest of the page).
    by_residency: dict[str, int] = defaultdict(int)
    bands: dict[str, dict[str, int]] = {
        code: {"male": 0, "female": 0, "unknown": 0, "total": 0}
        for code in [*(b[0] for b in AGE_BANDS), UNKNOWN_BAND]
    }
    for band, sex, res, n in (
        persons.annotate(band=_age_band_expr(today))
        .values_list("band", "sex", "residency")
        .annotate(n=Count("id"))
    ):
        by_residency[res] += n
        key = "male" if sex == Sex.MALE else "female" if sex == Sex.FEMALE else "unknown"
        bands[band][key] += n
        bands[band]["total"] += n
    residency = [
        {"code": code, "label": str(label), "count": by_residency.get(code, 0)}
        for code, label in Residency.choices
    ]

    # 4. people per tag: a join to the persons, restricted by the same scope (the scoping
    # layer's Q on the person's grid), is cheaper than an IN over a million ids.
    tagged = PersonTag.objects.filter(
        scope_for(user, PERM).q("person__grid"), person__status=PersonStatus.LIVING
    )
    if selected is not None:
        tagged = tagged.filter(person__grid_id__in=subtree)
    by_tag = dict(tagged.order_by().values_list("tag_id").annotate(n=Count("id")))
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
