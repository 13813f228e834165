"""Work orders (工单) over the API: list, get, file, and move along the state machine.

Thin: reads go through ``linli.orders.selectors``, writes through ``linli.orders.services``,
the same services the workbench and the portal call. Schemas live here, apart from the
register's.
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut
from linli.orders import selectors, services
from linli.orders.models import OrderEvent, Source, WorkOrder
from linli.orders.models import Status as OrderStatus

router = Router(tags=["orders"])

_WRITE_ERRORS: dict[int | str, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class OrderEventOut(Schema):
    """One step of the order's timeline."""

    action: str
    from_status: str
    to_status: str
    from_level: str
    to_level: str
    actor: str = Field(description="Who acted; empty for the system (escalation).")
    note: str
    minutes_spent: int | None
    at: dt.datetime

    @staticmethod
    def resolve_actor(obj: OrderEvent) -> str:
        return obj.actor.label if obj.actor is not None else ""


class OrderOut(Schema):
    """A work order. The contact phone is masked; the requester's name is the contact name."""

    id: int
    number: str
    category: str = Field(description="Category code.")
    title: str
    description: str
    status: str
    level: str = Field(description="grid, community, subdistrict or department.")
    grid_id: int
    grid_code: str
    contact_name: str
    phone_masked: str
    location: str
    latitude: float | None
    longitude: float | None
    source: str
    assignee: str = Field(description="Who has the order; empty when nobody.")
    department: str = Field(description="The department whistled; empty when none.")
    due_at: dt.datetime | None
    submitted_at: dt.datetime
    rating_stars: int | None
    rating_words: str
    events: list[OrderEventOut] | None = Field(
        None, description="The timeline (only when one order is asked for)."
    )

    @staticmethod
    def resolve_category(obj: WorkOrder) -> str:
        return obj.category.code

    @staticmethod
    def resolve_grid_id(obj: WorkOrder) -> int:
        return obj.grid_id

    @staticmethod
    def resolve_grid_code(obj: WorkOrder) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_latitude(obj: WorkOrder) -> float | None:
        return float(obj.latitude) if obj.latitude is not None else None

    @staticmethod
    def resolve_longitude(obj: WorkOrder) -> float | None:
        return float(obj.longitude) if obj.longitude is not None else None

    @staticmethod
    def resolve_assignee(obj: WorkOrder) -> str:
        return obj.assignee.label if obj.assignee is not None else ""

    @staticmethod
    def resolve_department(obj: WorkOrder) -> str:
        return obj.department.name if obj.department is not None else ""

    @staticmethod
    def resolve_events(obj: WorkOrder) -> list[OrderEvent] | None:
        return getattr(obj, "timeline", None)


class OrderPage(Schema):
    count: int
    items: list[OrderOut]


class OrderFilters(Schema):
    status: OrderStatus | None = Field(None, description="Only orders in this state.")
    grid: str | None = Field(None, description="Code or id of an area: orders in it or below.")
    board: Literal["mine", "grid", "overdue", "rating", "department", "open", "closed"] | None = (
        Field(None, description="Only the orders of one workbench board.")
    )


class OrderCreateIn(Schema):
    """A request filed on a resident's behalf (source `api`)."""

    category: str = Field(description="Category code (see Open311 services.json).")
    title: str
    description: str = ""
    grid: str = Field(description="Code or id of the grid.")
    contact_name: str = ""
    phone: str = Field("", description="Contact phone; checked, sealed, shown masked.")
    location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    client_key: str = Field(
        "", description="Any unique string: a retry with the same key returns the same order."
    )


class TransitionIn(Schema):
    """One step of the state machine; which fields matter depends on the action."""

    action: Literal[
        "accept",
        "return",
        "dispatch",
        "open",
        "take",
        "start",
        "finish",
        "rate",
        "reopen",
        "close",
        "cancel",
        "escalate",
        "whistle",
        "answer",
    ]
    note: str = Field("", description="Note; required for finish, whistle and answer.")
    reason: str = Field("", description="Reason; required for return and reopen.")
    assignee: int | None = Field(None, description="User id to dispatch to.")
    department: int | None = Field(None, description="Department id to whistle.")
    minutes_spent: int | None = Field(None, description="Minutes the work took (finish).")
    stars: int | None = Field(None, description="1–5 (rate).")
    words: str = Field("", description="The requester's words (rate).")
    fixed: bool = Field(True, description="Whether it is fixed (rate); false reopens.")


def _visible(user: Any, order_id: int) -> WorkOrder:
    order = selectors.orders_visible(user).filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def _with_timeline(user: Any, order_id: int) -> WorkOrder:
    order = _visible(user, order_id)
    order.timeline = selectors.order_timeline(order=order)  # type: ignore[attr-defined]
    return order


@router.get(
    "",
    response=OrderPage,
    summary="List work orders",
    description=(
        "Work orders the caller may see: staff see their nodes' orders, volunteers the open "
        "ones of their grid and their own, departments what was whistled to them. Filter by "
        "`status`, `grid` or `board`. Newest first."
    ),
)
def order_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[OrderFilters]
) -> dict[str, Any]:
    user = caller(request)
    if filters.board:
        if filters.board not in selectors.boards_for(user):
            return {"count": 0, "items": []}
        qs = selectors.board(user=user, name=filters.board)
    else:
        qs = selectors.orders_visible(user).order_by("-submitted_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.grid:
        area = area_in_scope(user, filters.grid)
        qs = qs.filter(grid__path__startswith=area.path) if area else qs.none()
    return paginate(qs, page)


@router.get(
    "/{order_id}",
    response={200: OrderOut, 404: ErrorOut},
    summary="Get a work order",
    description="One order with its timeline. Orders the caller may not see: 404.",
)
def order_detail(request: HttpRequest, order_id: int) -> WorkOrder:
    return _with_timeline(caller(request), order_id)


@router.post(
    "",
    response={201: OrderOut, **_WRITE_ERRORS},
    summary="File a work order",
    description=(
        "File a request in a grid (by code or id) on a resident's behalf. A grid outside the "
        "caller's scope: 404; without the right to handle orders there: 403; invalid input: "
        "422. The same `client_key` again returns the order already filed. Audited."
    ),
)
def order_create(request: HttpRequest, payload: OrderCreateIn) -> Status[WorkOrder]:
    user = caller(request)
    grid = area_in_scope(user, payload.grid)
    if grid is None:
        raise Http404
    category = services.category_get(payload.category)
    order = services.order_submit(
        actor=user,
        category=category,
        title=payload.title,
        description=payload.description,
        grid=grid,
        contact_name=payload.contact_name,
        phone=payload.phone,
        source=Source.API,
        location=payload.location,
        latitude=payload.latitude,
        longitude=payload.longitude,
        client_key=payload.client_key,
    )
    return Status(201, _with_timeline(user, order.pk))


@router.post(
    "/{order_id}/transitions",
    response={200: OrderOut, **_WRITE_ERRORS},
    summary="Move a work order along its state machine",
    description=(
        "One action: accept, return (reason), dispatch (assignee), open, take, start, finish "
        "(note, minutes_spent), rate (stars, words, fixed), reopen (reason), close, cancel, "
        "escalate, whistle (department, note), answer (note). An action not allowed from the "
        "order's state: 422 with the reason; not allowed for the caller: 403; an order the "
        "caller may not see: 404. Each step is in the timeline and the audit log."
    ),
)
def order_transition(request: HttpRequest, order_id: int, payload: TransitionIn) -> WorkOrder:
    user = caller(request)
    order = _visible(user, order_id)
    a = payload.action
    if a == "accept":
        services.order_accept(actor=user, order=order, note=payload.note)
    elif a == "return":
        services.order_return(actor=user, order=order, reason=payload.reason or payload.note)
    elif a == "dispatch":
        people = {u.pk: u for u in selectors.assignee_choices(order=order)}
        services.order_dispatch(
            actor=user, order=order, assignee=people.get(payload.assignee or 0), note=payload.note
        )
    elif a == "open":
        services.order_open(actor=user, order=order, note=payload.note)
    elif a == "take":
        services.order_take(actor=user, order=order)
    elif a == "start":
        services.order_start(actor=user, order=order, note=payload.note)
    elif a == "finish":
        services.order_finish(
            actor=user, order=order, note=payload.note, minutes_spent=payload.minutes_spent
        )
    elif a == "rate":
        if payload.stars is None:
            raise ValidationError({"stars": [_("Give one to five stars.")]})
        services.order_rate(
            actor=user, order=order, stars=payload.stars, words=payload.words, fixed=payload.fixed
        )
    elif a == "reopen":
        services.order_reopen(actor=user, order=order, reason=payload.reason or payload.note)
    elif a == "close":
        services.order_close(actor=user, order=order, note=payload.note)
    elif a == "cancel":
        services.order_cancel(actor=user, order=order, reason=payload.reason or payload.note)
    elif a == "escalate":
        services.order_escalate(actor=user, order=order, note=payload.note)
    elif a == "whistle":
        departments = {d.pk: d for d in selectors.department_choices(order=order)}
        department = departments.get(payload.department or 0)
        if department is None:
            raise ValidationError({"department": [_("Choose the department to whistle.")]})
        services.order_whistle(actor=user, order=order, department=department, note=payload.note)
    else:
        services.order_answer(actor=user, order=order, note=payload.note)
    return _with_timeline(user, order.pk)
