"""Tests and vaccinations over HTTP: test rounds and their coverage, vaccination coverage, and
the writes field tools and laboratories send — a batch of test results and a vaccination —
which honour ``Idempotency-Key``. Health data: every operation needs ``health.view`` (reads)
or ``health.record`` (writes) on the grids it touches; IDs in answers are masked."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.roles import Perm
from linli.api.auth import caller
from linli.api.idempotency import idempotent
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut
from linli.core.scoping import scope_for
from linli.health import selectors as sel
from linli.health import services as svc
from linli.health.models import HealthSource, TestRound
from linli.register.models import Person

rounds_router = Router(tags=["health"])
results_router = Router(tags=["health"])
vaccinations_router = Router(tags=["health"])
coverage_router = Router(tags=["health"])

_WRITE_ERRORS: dict[int | str, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_IDEMPOTENCY = (
    " Send an `Idempotency-Key` header (up to 100 characters) to make a retry safe: the first "
    "successful answer is stored and a retry with the same key answers it again without "
    "storing twice; the same key with a different body answers 422."
)


def _require(user: Any, perm: Perm) -> None:
    if scope_for(user, perm).is_empty:
        raise PermissionDenied


class RoundOut(Schema):
    id: int
    name: str
    date: dt.date
    status: str
    area_id: int
    area: str
    event_id: int | None


class RoundPage(Schema):
    count: int
    items: list[RoundOut]


def _round_out(r: TestRound) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "date": r.date,
        "status": r.status,
        "area_id": r.area_id,
        "area": r.area.name,
        "event_id": r.event_id,
    }


@rounds_router.get(
    "",
    response={200: RoundPage, 403: ErrorOut},
    summary="List test rounds",
    description=(
        "Test rounds over the caller's nodes, above them or below them, newest first; filter "
        "by `event` (an emergency event id)."
    ),
)
def round_list(request: HttpRequest, page: Query[PageParams], event: int | None = None) -> Any:
    user = caller(request)
    _require(user, Perm.VIEW_HEALTH)
    qs: QuerySet[TestRound] = sel.rounds_visible(user)
    if event is not None:
        qs = qs.filter(event_id=event)
    result = paginate(qs, page)
    result["items"] = [_round_out(r) for r in result["items"]]
    return result


class CoverageRowOut(Schema):
    id: int | None = Field(description="The grid's (or building's) id.")
    label: str
    people: int
    sampled: int
    negative: int
    positive: int
    pending: int
    missing: int = Field(description="People of the round's area with no record in it.")


class RoundCoverageOut(Schema):
    round: RoundOut
    by: str
    rows: list[CoverageRowOut]
    totals: dict[str, int]


@rounds_router.get(
    "/{round_id}/coverage",
    response={200: RoundCoverageOut, 403: ErrorOut, 404: ErrorOut},
    summary="Coverage of a test round",
    description=(
        "Per grid (or per building with `by=building`) of the round's area in the caller's "
        "scope: people, sampled, negative, positive, pending, missing. A round outside the "
        "scope: 404."
    ),
)
def round_coverage(
    request: HttpRequest, round_id: int, by: Literal["grid", "building"] = "grid"
) -> Any:
    user = caller(request)
    _require(user, Perm.VIEW_HEALTH)
    rnd = get_object_or_404(sel.rounds_visible(user), pk=round_id)
    board = sel.round_coverage(user=user, rnd=rnd, by=by)
    return {
        "round": _round_out(rnd),
        "by": by,
        "rows": [{**r, "id": r["key"]} for r in board["rows"]],
        "totals": board["totals"],
    }


class VaccinationCoverageRow(Schema):
    id: int | None = Field(description="The grid's (or building's) id.")
    grid_id: int | None = None
    label: str
    people: int
    dose1: int = Field(description="At least one dose.")
    dose2: int = Field(description="At least two doses.")
    booster: int = Field(description="Three doses or more.")
    missing: int = Field(description="No dose recorded.")
    bands: dict[str, dict[str, int]] = Field(description="The same per age band.")


class VaccinationCoveragePage(Schema):
    count: int
    items: list[VaccinationCoverageRow]


@coverage_router.get(
    "",
    response={200: VaccinationCoveragePage, 403: ErrorOut},
    summary="Vaccination coverage",
    description=(
        "Per grid (or per building with `by=building`) of the caller's scope, or under `area` "
        "(a code or id): people, vaccinated with ≥1, ≥2 doses, a booster, none; and the same "
        "per age band (0_17, 18_59, 60_plus, from the birth date)."
    ),
)
def vaccination_coverage(
    request: HttpRequest, area: str | None = None, by: Literal["grid", "building"] = "grid"
) -> Any:
    user = caller(request)
    _require(user, Perm.VIEW_HEALTH)
    node = None
    if area:
        node = area_in_scope(user, area)
        if node is None:
            return {"count": 0, "items": []}
    board = sel.vaccination_coverage(user=user, area=node, by=by)
    items = [
        {**r, "id": r["key"], "grid_id": r["key"] if by == "grid" else None} for r in board["rows"]
    ]
    return {"count": len(items), "items": items}


def _person(user: Any, person_id: int | None, national_id: str) -> Person:
    """A person the caller may record for, by id (404 outside scope) or national ID (422 when
    unknown or outside scope, the same answer)."""
    if person_id is not None:
        return get_object_or_404(
            Person.objects.restrict(user, Perm.RECORD_HEALTH).select_related("grid"),
            pk=person_id,
        )
    if not national_id.strip():
        raise ValidationError({"person": "Give `person` or `national_id`."})
    person = svc.person_by_national_id(national_id)
    if not scope_for(user, Perm.RECORD_HEALTH).covers(person.grid):
        raise ValidationError(svc.unknown_id_message())
    return person


class ResultIn(Schema):
    person: int | None = Field(None, description="A register person id …")
    national_id: str = Field("", description="… or their national ID number.")
    result: Literal["pending", "negative", "positive"]
    external_id: str = Field("", description="The laboratory's sample number (unique).")
    sampled_at: dt.datetime | None = None


class ResultsIn(Schema):
    round: int = Field(description="Id of a test round in the caller's scope.")
    results: list[ResultIn] = Field(min_length=1, max_length=2000)


class ResultsOut(Schema):
    round: int
    changed: int = Field(description="Results stored or changed by this call.")
    unchanged: int = Field(description="Results that were already stored as sent.")


@results_router.post(
    "",
    response={200: ResultsOut, **_WRITE_ERRORS},
    summary="Record a batch of test results",
    description=(
        "Record up to 2,000 results of one round, all or nothing: one refused item refuses "
        "the batch, with messages under `results.<index>`. A person is named by id or by "
        "national ID; a result sent again as it is stored changes nothing; a positive result "
        "raises an alert and a task for the grid worker. A round or person outside the "
        "scope: 404." + _IDEMPOTENCY
    ),
)
def results_create(request: HttpRequest, payload: ResultsIn) -> Status[Any]:
    user = caller(request)
    _require(user, Perm.RECORD_HEALTH)
    rnd = get_object_or_404(sel.rounds_visible(user), pk=payload.round)

    def run() -> tuple[int, Any]:
        errors: dict[str, list[str]] = {}
        changed = same = 0
        with transaction.atomic():
            for i, item in enumerate(payload.results):
                try:
                    person = _person(user, item.person, item.national_id)
                    _rec, did = svc.test_result_record(
                        actor=user,
                        round=rnd,
                        person=person,
                        result=item.result,
                        source=HealthSource.API,
                        external_id=item.external_id,
                        sampled_at=item.sampled_at,
                    )
                except ValidationError as exc:
                    errors[f"results.{i}"] = list(exc.messages)
                    continue
                changed += did
                same += not did
            if errors:
                transaction.set_rollback(True)
        if errors:
            raise ValidationError(errors)
        return 200, {"round": rnd.pk, "changed": changed, "unchanged": same}

    status, body = idempotent(
        request,
        user=user,
        operation="POST /test-results",
        body=payload.model_dump(mode="json"),
        run=run,
    )
    return Status(status, body)


class VaccinationIn(Schema):
    person: int | None = Field(None, description="A register person id …")
    national_id: str = Field("", description="… or their national ID number.")
    dose: int = Field(description="Dose number: 1 and 2 the primary course, 3 and up boosters.")
    product: str = Field(description="The vaccine (product or maker).")
    vaccinated_on: dt.date
    site: str = ""
    external_id: str = ""


class VaccinationOut(Schema):
    id: int
    person_id: int
    dose: int
    product: str
    vaccinated_on: dt.date
    site: str
    created: bool = Field(description="False when this dose was already stored as sent.")


@vaccinations_router.post(
    "",
    response={201: VaccinationOut, 200: VaccinationOut, **_WRITE_ERRORS},
    summary="Record a vaccination",
    description=(
        "Record one dose of a person named by id or national ID: 201 when stored, 200 when "
        "the same dose was already stored as sent; a different vaccine or date for a dose "
        "already stored answers 422. A person outside the scope: 404." + _IDEMPOTENCY
    ),
)
def vaccination_create(request: HttpRequest, payload: VaccinationIn) -> Status[Any]:
    user = caller(request)
    _require(user, Perm.RECORD_HEALTH)

    def run() -> tuple[int, Any]:
        person = _person(user, payload.person, payload.national_id)
        vac, created = svc.vaccination_record(
            actor=user,
            person=person,
            dose=payload.dose,
            product=payload.product,
            vaccinated_on=payload.vaccinated_on,
            site=payload.site,
            external_id=payload.external_id,
            source=HealthSource.API,
        )
        out = VaccinationOut(
            id=vac.pk,
            person_id=person.pk,
            dose=vac.dose,
            product=vac.product,
            vaccinated_on=vac.vaccinated_on,
            site=vac.site,
            created=created,
        )
        return (201 if created else 200), out.model_dump(mode="json")

    status, body = idempotent(
        request,
        user=user,
        operation="POST /vaccinations",
        body=payload.model_dump(mode="json"),
        run=run,
    )
    return Status(status, body)
