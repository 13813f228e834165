"""Counting the register per grid, live or from the background tallies.

Both paths produce the same ``Raw`` numbers per grid, so the command view formats them the
same way whichever was used. Live counting is a handful of grouped queries restricted to the
grids asked for; it is what narrow selections (a grid, a community) use, always current.
Tallies are the same queries over the whole register grouped by grid, summed up the tree and
stored per node in AreaTally by a periodic task (and after seeding); a wide selection (above
WIDE_SCOPE_GRIDS grids) reads the tallies of the nodes it is made of, a handful of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, Count, QuerySet, Value, When
from django.utils import timezone

from linli.areas.models import Area
from linli.command.models import AreaTally
from linli.register.models import (
    Dwelling,
    Household,
    HouseholdStatus,
    Person,
    PersonStatus,
    PersonTag,
)

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


@dataclass
class Raw:
    """Counts per grid id, before they are rolled up and formatted."""

    persons: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    households: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    dwellings_by_use: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    inhabited_by_use: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (age band, sex, residency) -> persons
    profile: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    by_tag: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    as_of: dt.datetime | None = None


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a non-leap year
        return today.replace(year=today.year - years, day=28)


def age_band_expr(today: dt.date) -> Case:
    # Someone is younger than N exactly when born after the date N years ago.
    whens = [When(birth_date__isnull=True, then=Value(UNKNOWN_BAND))]
    for code, _lo, hi in AGE_BANDS:
        if hi is None:
            whens.append(When(birth_date__isnull=False, then=Value(code)))
        else:
            whens.append(When(birth_date__gt=_years_ago(today, hi + 1), then=Value(code)))
    return Case(*whens, output_field=CharField())


def _per_grid(
    persons: QuerySet[Person],
    households: QuerySet[Household],
    dwellings: QuerySet[Dwelling],
    tagged: QuerySet[PersonTag],
) -> dict[int, Raw]:
    """The grouped queries, by grid. The querysets are already filtered to what is wanted."""
    today = timezone.localdate()
    out: dict[int, Raw] = defaultdict(Raw)
    for grid, band, sex, res, n in (
        persons.annotate(band=age_band_expr(today))
        .values_list("grid_id", "band", "sex", "residency")
        .annotate(n=Count("id"))
    ):
        raw = out[grid]
        raw.persons[grid] += n
        raw.profile[(band, sex or "", res)] += n
    for grid, n in households.values_list("grid_id").annotate(n=Count("id")):
        out[grid].households[grid] += n
    for grid, use, n in dwellings.values_list("grid_id", "use").annotate(n=Count("id")):
        out[grid].dwellings_by_use[use] += n
    # A dwelling is lived in when an active household lives there, whatever its recorded use.
    for grid, use, n in (
        households.filter(dwelling__isnull=False)
        .values_list("grid_id", "dwelling__use")
        .annotate(n=Count("dwelling_id", distinct=True))
    ):
        out[grid].inhabited_by_use[use] += n
    for grid, tag, n in tagged.values_list("person__grid_id", "tag_id").annotate(n=Count("id")):
        out[grid].by_tag[tag] += n
    return out


def _base() -> tuple[
    QuerySet[Person], QuerySet[Household], QuerySet[Dwelling], QuerySet[PersonTag]
]:
    # order_by() drops default orderings so they never join a GROUP BY.
    return (
        Person.objects.filter(status=PersonStatus.LIVING).order_by(),
        Household.objects.filter(status=HouseholdStatus.ACTIVE).order_by(),
        Dwelling.objects.order_by(),
        PersonTag.objects.filter(person__status=PersonStatus.LIVING).order_by(),
    )


def merge(parts: Iterable[Raw]) -> Raw:
    total = Raw()
    for part in parts:
        for target, source in (
            (total.persons, part.persons),
            (total.households, part.households),
            (total.dwellings_by_use, part.dwellings_by_use),
            (total.inhabited_by_use, part.inhabited_by_use),
            (total.profile, part.profile),
            (total.by_tag, part.by_tag),
        ):
            for k, v in source.items():
                target[k] += v  # type: ignore[index]
        if part.as_of is not None:
            total.as_of = part.as_of if total.as_of is None else min(total.as_of, part.as_of)
    return total


def count_live(grid_ids: Any) -> Raw:
    """Count the given grids now (grid_ids: a list or a subquery of ids)."""
    persons, households, dwellings, tagged = _base()
    return merge(
        _per_grid(
            persons.filter(grid_id__in=grid_ids),
            households.filter(grid_id__in=grid_ids),
            dwellings.filter(grid_id__in=grid_ids),
            tagged.filter(person__grid_id__in=grid_ids),
        ).values()
    )


def count_from_tallies(areas: list[Area]) -> Raw | None:
    """The stored tallies of *areas* (disjoint subtrees), keyed by area id; None when one of
    them has no tally yet."""
    rows = list(AreaTally.objects.filter(area__in=areas))
    if len(rows) != len({a.pk for a in areas}):
        return None
    return merge(_from_json(row.area_id, row.data, row.computed_at) for row in rows)


def count_areas(areas: list[Area], grid_count: int, live_ids: Any) -> tuple[Raw, bool]:
    """Counts of the subtrees under *areas* (siblings, each wholly in the caller's scope).

    With more than WIDE_SCOPE_GRIDS grids (``grid_count``) below them, read the areas'
    tallies: returns (raw keyed by area id, True). Otherwise, or when a tally is missing,
    count the grids ``live_ids`` (ids or a subquery) live: (raw keyed by grid id, False).
    """
    from linli.core import scoping

    if grid_count > scoping.WIDE_SCOPE_GRIDS:
        raw = count_from_tallies(areas)
        if raw is not None:
            return raw, True
    return count_live(live_ids), False


def _to_json(raw: Raw) -> dict[str, Any]:
    return {
        "persons": sum(raw.persons.values()),
        "households": sum(raw.households.values()),
        "dwellings_by_use": dict(raw.dwellings_by_use),
        "inhabited_by_use": dict(raw.inhabited_by_use),
        "profile": [[b, s, r, n] for (b, s, r), n in raw.profile.items()],
        "by_tag": {str(k): v for k, v in raw.by_tag.items()},
    }


def _from_json(key: int, data: dict[str, Any], at: dt.datetime) -> Raw:
    raw = Raw(as_of=at)
    raw.persons[key] = data.get("persons", 0)
    raw.households[key] = data.get("households", 0)
    raw.dwellings_by_use.update(data.get("dwellings_by_use", {}))
    raw.inhabited_by_use.update(data.get("inhabited_by_use", {}))
    for b, s, r, n in data.get("profile", []):
        raw.profile[(b, s, r)] = n
    for k, v in data.get("by_tag", {}).items():
        raw.by_tag[int(k)] = v
    return raw


def tallies_refresh() -> int:
    """Recount every grid of the register, sum the grids up the tree and store a tally for
    every node; returns the number of nodes written.

    Run by the background worker on a schedule, after seeding, and by `linli refresh_counts`.
    It reads the whole register once per query, so it is kept out of page requests.
    """
    now = timezone.now()
    by_grid = _per_grid(*_base())
    paths = dict(Area.objects.values_list("id", "path"))
    by_area: dict[int, list[Raw]] = defaultdict(list)
    for grid, raw in by_grid.items():
        for ancestor in (int(x) for x in paths.get(grid, "").strip("/").split("/") if x):
            by_area[ancestor].append(raw)
    rows = [
        AreaTally(area_id=area_id, data=_to_json(merge(by_area.get(area_id, []))), computed_at=now)
        for area_id in paths
    ]
    with transaction.atomic():
        AreaTally.objects.all().delete()
        AreaTally.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
