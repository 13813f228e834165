"""Emergency mode over HTTP: scoped lists of events, arrivals and quarantines, and the two writes
field tools send in bulk — arrivals and check-ins — which honour ``Idempotency-Key``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.roles import Perm
from linli.api.auth import caller
from linli.api.idempotency import idempotent, keyed
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut
from linli.core.scoping import scope_for
from linli.emergency import selectors as sel
from linli.emergency import services as em
from linli.emergency.models import (
    Arrival,
    ArrivalSource,
    CheckIn,
    EmergencyEvent,
    Quarantine,
    TravelMode,
)

events_router = Router(tags=["emergency"])
arrivals_router = Router(tags=["emergency"])
quarantines_router = Router(tags=["emergency"])
checkins_router = Router(tags=["emergency"])

_WRITE_ERRORS: dict[int | str, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_IDEMPOTENCY = (
    " Send an `Idempotency-Key` header (up to 100 characters) to make a retry safe: the first "
    "successful answer is stored and a retry with the same key answers it again without "
    "storing twice; the same key with a different body answers 422."
)


def _require_view(user: Any) -> None:
    if scope_for(user, Perm.VIEW_EMERGENCY).is_empty:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied


class EventOut(Schema):
    id: int
    name: str
    kind: str
    level: int
    is_drill: bool
    status: str
    measures: list[str]
    checkin_deadline_hour: int
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    areas: list[str] = Field(description="Codes of the areas the event covers.")

    @staticmethod
    def resolve_areas(obj: EmergencyEvent) -> list[str]:
        return [a.code for a in obj.areas.all()]


class EventPage(Schema):
    count: int
    items: list[EventOut]


@events_router.get(
    "",
    response={200: EventPage, 403: ErrorOut},
    summary="List emergency events",
    description=(
        "Emergency events (and drills) covering a node in the caller's scope, above it or "
        "below it, newest first; `status` filters active or ended ones."
    ),
)
def event_list(
    request: HttpRequest,
    page: Query[PageParams],
    status: Literal["active", "ended", "all"] = "all",
) -> dict[str, Any]:
    user = caller(request)
    _require_view(user)
    qs = sel.events_visible(user).prefetch_related("areas")
    if status != "all":
        qs = qs.filter(status=status)
    return paginate(qs, page)


class ArrivalOut(Schema):
    id: int
    event_id: int
    name: str
    id_masked: str
    phone_masked: str
    risk_area_id: int | None
    coming_from: str
    arrived_on: dt.date
    travel_mode: str
    address: str
    grid_id: int
    source: str
    decision: str
    person_id: int | None = Field(description="The register entry found by ID or phone.")
    quarantine_id: int | None


def _arrival_out(a: Arrival) -> dict[str, Any]:
    q = a.quarantines.order_by("-id").first()
    return {
        "id": a.pk,
        "event_id": a.event_id,
        "name": a.name,
        "id_masked": a.id_masked,
        "phone_masked": a.phone_masked,
        "risk_area_id": a.risk_area_id,
        "coming_from": a.coming_from,
        "arrived_on": a.arrived_on,
        "travel_mode": a.travel_mode,
        "address": a.address,
        "grid_id": a.grid_id,
        "source": a.source,
        "decision": a.decision,
        "person_id": a.person_id,
        "quarantine_id": q.pk if q else None,
    }


class ArrivalPage(Schema):
    count: int
    items: list[ArrivalOut]


class ArrivalIn(Schema):
    event: int = Field(description="Id of an active event that registers arrivals.")
    grid: str = Field(description="Code or id of the grid where the person stays.")
    name: str
    national_id: str = ""
    phone: str = ""
    risk_area: int | None = Field(None, description="Id of one of the event's risk areas.")
    from_text: str = Field("", description="Where from, when not a listed risk area.")
    arrived_on: dt.date
    travel_mode: TravelMode
    address: str = ""


@arrivals_router.get(
    "",
    response={200: ArrivalPage, 403: ErrorOut},
    summary="List arrivals",
    description=(
        "Arrival registrations in the caller's grids, newest first, ID and phone masked; "
        "filter by `event`, `grid` or `decision` (pending, quarantine, no_measure)."
    ),
)
def arrival_list(
    request: HttpRequest,
    page: Query[PageParams],
    event: int | None = None,
    grid: str | None = None,
    decision: str | None = None,
) -> dict[str, Any]:
    user = caller(request)
    _require_view(user)
    qs: QuerySet[Arrival] = sel.arrivals_visible(user)
    if event is not None:
        qs = qs.filter(event_id=event)
    if grid:
        area = area_in_scope(user, grid)
        if area is None:
            return {"count": 0, "items": []}
        qs = qs.filter(grid__path__startswith=area.path)
    if decision:
        qs = qs.filter(decision=decision)
    result = paginate(qs, page)
    result["items"] = [_arrival_out(a) for a in result["items"]]
    return result


@arrivals_router.post(
    "",
    response={201: ArrivalOut, **_WRITE_ERRORS},
    summary="Register an arrival",
    description=(
        "Register an arrival in a grid of the caller's scope for an event covering it. The "
        "person is matched in the register by national ID, else phone. An arrival from a risk "
        "area whose level the event gives a measure for starts that measure at once. A grid or "
        "event outside the scope: 404; invalid input: 422 with messages per field." + _IDEMPOTENCY
    ),
)
def arrival_create(request: HttpRequest, payload: ArrivalIn) -> Status[Any]:
    user = caller(request)
    event = get_object_or_404(sel.events_visible(user), pk=payload.event)
    grid = area_in_scope(user, payload.grid)
    if grid is None:
        raise Http404
    risk = (
        get_object_or_404(sel.risk_areas_visible(user), pk=payload.risk_area)
        if payload.risk_area is not None
        else None
    )

    def run() -> tuple[int, Any]:
        arrival = em.arrival_register(
            actor=user,
            event=event,
            grid=grid,
            name=payload.name,
            national_id=payload.national_id,
            phone=payload.phone,
            risk_area=risk,
            from_text=payload.from_text,
            arrived_on=payload.arrived_on,
            travel_mode=payload.travel_mode,
            address=payload.address,
            source=ArrivalSource.WORKER,
        )
        fresh = sel.arrivals_visible(user).get(pk=arrival.pk)
        return 201, ArrivalOut(**_arrival_out(fresh)).model_dump(mode="json")

    status, body = idempotent(
        request,
        user=user,
        operation="POST /arrivals",
        body=payload.model_dump(mode="json"),
        run=run,
    )
    return Status(status, body)


class QuarantineOut(Schema):
    id: int
    event_id: int
    name: str
    phone_masked: str
    kind: str
    reason: str
    starts_on: dt.date
    planned_end: dt.date
    status: str
    grid_id: int
    person_id: int | None
    arrival_id: int | None
    responsible: str | None

    @staticmethod
    def resolve_responsible(obj: Quarantine) -> str | None:
        return obj.responsible.label if obj.responsible else None


class QuarantinePage(Schema):
    count: int
    items: list[QuarantineOut]


@quarantines_router.get(
    "",
    response={200: QuarantinePage, 403: ErrorOut},
    summary="List persons under a measure",
    description=(
        "Home quarantine, centralised quarantine and home health monitoring in the caller's "
        "grids; filter by `event`, `grid` or `status` (active by default, `all` for every one)."
    ),
)
def quarantine_list(
    request: HttpRequest,
    page: Query[PageParams],
    event: int | None = None,
    grid: str | None = None,
    status: Literal["active", "released", "transferred", "closed", "all"] = "active",
) -> dict[str, Any]:
    user = caller(request)
    _require_view(user)
    qs: QuerySet[Quarantine] = sel.quarantines_visible(user)
    if status != "all":
        qs = qs.filter(status=status)
    if event is not None:
        qs = qs.filter(event_id=event)
    if grid:
        area = area_in_scope(user, grid)
        if area is None:
            return {"count": 0, "items": []}
        qs = qs.filter(grid__path__startswith=area.path)
    return paginate(qs, page)


@quarantines_router.get(
    "/{quarantine_id}",
    response={200: QuarantineOut, 403: ErrorOut, 404: ErrorOut},
    summary="Get a measure",
    description="One person's measure, phone masked. Outside the caller's scope: 404.",
)
def quarantine_detail(request: HttpRequest, quarantine_id: int) -> Quarantine:
    user = caller(request)
    _require_view(user)
    return get_object_or_404(sel.quarantines_visible(user), pk=quarantine_id)


class CheckInIn(Schema):
    quarantine: int = Field(description="Id of an active measure in the caller's scope.")
    temperature: Decimal = Field(description="Body temperature in °C, e.g. 36.5.")
    symptoms: list[str] = Field(default_factory=list, description="Symptom codes.")
    note: str = ""
    day: dt.date | None = Field(None, description="The day checked in for; today if omitted.")


class CheckInOut(Schema):
    id: int
    quarantine_id: int
    day: dt.date
    temperature: Decimal
    symptoms: list[str]
    alert: bool = Field(description="A fever (≥ 37.3 °C) or symptom raised an alert and a task.")
    by_self: bool
    at: dt.datetime


@checkins_router.post(
    "",
    response={201: CheckInOut, **_WRITE_ERRORS},
    summary="Record a daily check-in",
    description=(
        "Record a check-in (temperature, symptoms) on behalf of a person under a measure, for "
        "today or a missed earlier day of the measure. A fever (≥ 37.3 °C) or any symptom "
        "raises an alert and a task for the grid worker at once. A measure outside the scope: "
        "404; a measure that has ended or invalid input: 422." + _IDEMPOTENCY
    ),
)
def checkin_create(request: HttpRequest, payload: CheckInIn) -> Status[Any]:
    user = caller(request)
    operation, asked = "POST /check-ins", payload.model_dump(mode="json")

    def answer(check: CheckIn) -> tuple[int, dict[str, Any]]:
        out = CheckInOut(
            id=check.pk or 0,
            quarantine_id=check.quarantine_id,
            day=check.day,
            temperature=check.temperature,
            symptoms=check.symptoms,
            alert=check.is_alert,
            by_self=check.by_self,
            at=check.at,
        )
        return 201, out.model_dump(mode="json")

    # The common case in one round trip (decision 0048); every other case the full way.
    quick = em.checkin_record_one_trip(
        actor=user,
        quarantine_id=payload.quarantine,
        temperature=payload.temperature,
        symptoms=payload.symptoms,
        note=payload.note,
        day=payload.day,
        answer=answer,
        keyed=keyed(request, user=user, operation=operation, body=asked),
    )
    if quick is not None:
        return Status(*quick)
    q = get_object_or_404(sel.quarantines_to_act_on(user), pk=payload.quarantine)

    def run() -> tuple[int, Any]:
        check = em.checkin_record(
            actor=user,
            quarantine=q,
            temperature=payload.temperature,
            symptoms=payload.symptoms,
            note=payload.note,
            day=payload.day or timezone.localdate(),
        )
        return answer(check)

    status, body = idempotent(request, user=user, operation=operation, body=asked, run=run)
    return Status(status, body)
