"""Scoped reads of tests and vaccinations. Every read takes the acting user and goes through
``restrict(user, health.view)``; coverage is counted with grouped queries per grid (or per
building) over the living persons the user may see, so "missing" is exact: the people of the
area with no record, listed by name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.health.models import (
    AlertStatus,
    ImportRun,
    PositiveAlert,
    TestRecord,
    TestResult,
    TestRound,
    TestSite,
    Vaccination,
)
from linli.register.models import Person, PersonStatus

# Age bands of the coverage tables: (key, lowest age, highest age or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0_17", 0, 17),
    ("18_59", 18, 59),
    ("60_plus", 60, None),
)


def rounds_visible(user: Any) -> QuerySet[TestRound]:
    return TestRound.objects.restrict(user, Perm.VIEW_HEALTH).select_related("area", "event")


def sites_of(user: Any, rnd: TestRound) -> QuerySet[TestSite]:
    return TestSite.objects.restrict(user, Perm.VIEW_HEALTH).filter(round=rnd)


def records_visible(user: Any) -> QuerySet[TestRecord]:
    return TestRecord.objects.restrict(user, Perm.VIEW_HEALTH).select_related(
        "person", "round", "site", "grid"
    )


def vaccinations_visible(user: Any) -> QuerySet[Vaccination]:
    return Vaccination.objects.restrict(user, Perm.VIEW_HEALTH).select_related("person", "grid")


def alerts_visible(user: Any) -> QuerySet[PositiveAlert]:
    return PositiveAlert.objects.restrict(user, Perm.VIEW_HEALTH).select_related(
        "person", "record__round", "grid", "assigned_to"
    )


def persons_for_health(user: Any, area: Area | None = None) -> QuerySet[Person]:
    """Living persons the user may see health data of (under *area* when given)."""
    qs = Person.objects.restrict(user, Perm.VIEW_HEALTH).filter(status=PersonStatus.LIVING)
    if area is not None:
        qs = qs.filter(grid__path__startswith=area.path)
    return qs


def round_people(user: Any, rnd: TestRound) -> QuerySet[Person]:
    """The people a round is meant to reach, as far as the user may see them."""
    return persons_for_health(user, rnd.area)


def sampling_search(*, user: Any, rnd: TestRound, q: str) -> list[Person]:
    """Find a person at a sampling site: last ID/phone digits, name, pinyin or initials (the
    register's search), among the round's people the user may record for."""
    from linli.register.selectors import person_search

    if not q.strip():
        return []
    may_record = Person.objects.restrict(user, Perm.RECORD_HEALTH).values("pk")
    return list(
        person_search(user=user, q=q)
        .filter(grid__path__startswith=rnd.area.path, pk__in=may_record)
        .select_related("household__dwelling", "grid")[:20]
    )


def _group_key(by: str) -> str:
    return "household__dwelling__building_id" if by == "building" else "grid_id"


def _labels(by: str, keys: Iterable[Any]) -> dict[Any, str]:
    from linli.register.models import Building

    ids = [k for k in keys if k is not None]
    if by == "building":
        return {b.pk: str(b) for b in Building.objects.filter(pk__in=ids)}
    return {a.pk: a.name for a in Area.objects.filter(pk__in=ids)}


def round_coverage(*, user: Any, rnd: TestRound, by: str = "grid") -> dict[str, Any]:
    """Per grid (or building) of the round's area in the user's scope: people, sampled,
    negative, positive, pending and missing (people with no record in this round)."""
    key = _group_key(by)
    result = TestRecord.objects.filter(round=rnd, person=OuterRef("pk")).values("result")[:1]
    rows = (
        round_people(user, rnd)
        .annotate(_r=Subquery(result))
        .values(key, "_r")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        row = out.setdefault(
            r[key],
            {
                "key": r[key],
                "people": 0,
                "sampled": 0,
                "negative": 0,
                "positive": 0,
                "pending": 0,
                "missing": 0,
            },
        )
        row["people"] += r["n"]
        if r["_r"] is None:
            row["missing"] += r["n"]
        else:
            row["sampled"] += r["n"]
            row[r["_r"]] += r["n"]
    labels = _labels(by, out)
    ordered = sorted(out.values(), key=lambda x: (labels.get(x["key"], "~"), x["key"] or 0))
    for row in ordered:
        row["label"] = labels.get(row["key"], "")
    keys = ("people", "sampled", "negative", "positive", "pending", "missing")
    totals = {k: sum(r[k] for r in ordered) for k in keys}
    return {"rows": ordered, "totals": totals, "by": by}


def round_missing(
    *, user: Any, rnd: TestRound, grid_id: int | None = None, building_id: int | None = None
) -> QuerySet[Person]:
    """Who of the round's people has no record yet (optionally in one grid or building)."""
    qs = round_people(user, rnd).exclude(
        Exists(TestRecord.objects.filter(round=rnd, person=OuterRef("pk")))
    )
    if grid_id is not None:
        qs = qs.filter(grid_id=grid_id)
    if building_id is not None:
        qs = qs.filter(household__dwelling__building_id=building_id)
    return qs.select_related("household__dwelling", "grid").order_by("grid__path", "name", "id")


def _band_case(today: dt.date) -> Case:
    whens = []
    for key, low, high in AGE_BANDS:
        q = Q(birth_date__lte=_years_before(today, low))
        if high is not None:
            q &= Q(birth_date__gt=_years_before(today, high + 1))
        whens.append(When(q, then=Value(key)))
    return Case(*whens, default=Value("unknown"))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def doses_subquery() -> Subquery:
    """The highest dose number a person received (0 when none), for annotations."""
    return Subquery(
        Vaccination.objects.filter(person=OuterRef("pk"))
        .values("person")
        .annotate(m=Max("dose"))
        .values("m")[:1],
        output_field=IntegerField(),
    )


def vaccination_coverage(
    *, user: Any, area: Area | None = None, by: str = "grid", today: dt.date | None = None
) -> dict[str, Any]:
    """Per grid (or building) under *area* in the user's scope: people, vaccinated with at
    least one dose, at least two, a booster (three or more), and missing (none); the same per
    age band (from the birth date; people without one are counted in no band)."""
    today = today or timezone.localdate()
    key = _group_key(by)
    rows = (
        persons_for_health(user, area)
        .annotate(_d=doses_subquery(), _band=_band_case(today))
        .values(key, "_band", "_d")
        .annotate(n=Count("id"))
        .order_by()
    )
    blank = {"people": 0, "dose1": 0, "dose2": 0, "booster": 0, "missing": 0}
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        row = out.setdefault(
            r[key], {"key": r[key], **blank, "bands": {b[0]: dict(blank) for b in AGE_BANDS}}
        )
        targets = [row] + ([row["bands"][r["_band"]]] if r["_band"] in row["bands"] else [])
        doses = r["_d"] or 0
        for t in targets:
            t["people"] += r["n"]
            t["dose1"] += r["n"] if doses >= 1 else 0
            t["dose2"] += r["n"] if doses >= 2 else 0
            t["booster"] += r["n"] if doses >= 3 else 0
            t["missing"] += r["n"] if doses == 0 else 0
    labels = _labels(by, out)
    ordered = sorted(out.values(), key=lambda x: (labels.get(x["key"], "~"), x["key"] or 0))
    for row in ordered:
        row["label"] = labels.get(row["key"], "")
    totals: dict[str, Any] = {k: sum(r[k] for r in ordered) for k in blank}
    totals["bands"] = {
        b[0]: {k: sum(r["bands"][b[0]][k] for r in ordered) for k in blank} for b in AGE_BANDS
    }
    return {"rows": ordered, "totals": totals, "by": by, "bands": [b[0] for b in AGE_BANDS]}


def unvaccinated(
    *,
    user: Any,
    area: Area | None = None,
    grid_id: int | None = None,
    building_id: int | None = None,
) -> QuerySet[Person]:
    """Who has no vaccination recorded (optionally in one grid or building)."""
    qs = persons_for_health(user, area).exclude(
        Exists(Vaccination.objects.filter(person=OuterRef("pk")))
    )
    if grid_id is not None:
        qs = qs.filter(grid_id=grid_id)
    if building_id is not None:
        qs = qs.filter(household__dwelling__building_id=building_id)
    return qs.select_related("household__dwelling", "grid").order_by("grid__path", "name", "id")


def open_alerts(user: Any) -> QuerySet[PositiveAlert]:
    return alerts_visible(user).filter(status=AlertStatus.OPEN)


# --- the emergency closed loop ("tested") ---------------------------------------------------


def tested_counts(user: Any, event: Any) -> list[tuple[int, int]]:
    """Per grid: people with a result (negative or positive) in the event's rounds. Counted
    over the rows the user may see under emergency.view: the count shows no result."""
    return list(
        TestRecord.objects.restrict(user, Perm.VIEW_EMERGENCY)
        .filter(round__event=event)
        .exclude(result=TestResult.PENDING)
        .order_by()
        .values("grid_id")
        .annotate(n=Count("person", distinct=True))
        .values_list("grid_id", "n")
    )


def was_tested(event: Any, person_id: int) -> bool:
    """Whether the person has a result in one of the event's rounds."""
    return (
        TestRecord.objects.filter(round__event=event, person_id=person_id)
        .exclude(result=TestResult.PENDING)
        .exists()
    )


# --- the resident's own records (portal) ----------------------------------------------------


def own_records(person_ids: list[int]) -> QuerySet[TestRecord]:
    return (
        TestRecord.objects.filter(person_id__in=person_ids)
        .select_related("round", "site", "person")
        .order_by("-sampled_at")
    )


def own_vaccinations(person_ids: list[int]) -> QuerySet[Vaccination]:
    return Vaccination.objects.filter(person_id__in=person_ids).select_related("person")


def import_runs(*, user: Any) -> QuerySet[ImportRun]:
    """The background imports *user* started (nobody else's: the rows are theirs to record,
    and a refused rows' workbook holds the file's own rows)."""
    if not getattr(user, "is_authenticated", False):
        return ImportRun.objects.none()
    return ImportRun.objects.filter(created_by=user).select_related("round")
