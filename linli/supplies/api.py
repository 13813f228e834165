"""Supplies over HTTP: scoped, read-only lists of shopping lists and stock (a district's
dashboard or a supplier's system reads them); writes stay on the pages for now."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from linli.accounts.roles import Perm
from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut
from linli.core.scoping import scope_for
from linli.supplies import selectors as sel
from linli.supplies.models import SupplyRequest

requests_router = Router(tags=["supplies"])
stock_router = Router(tags=["supplies"])


def _require(user: Any, perm: Perm) -> None:
    if scope_for(user, perm).is_empty:
        raise PermissionDenied


class SupplyItemOut(Schema):
    name: str
    quantity: int
    unit: str


class SupplyRequestOut(Schema):
    id: int
    order_id: int
    order_number: str
    order_status: str
    quarantine_id: int
    grid_id: int
    taken_by: str
    items: list[SupplyItemOut]
    notes: str
    delivery_note: str
    payment_note: str
    created_at: dt.datetime
    received_at: dt.datetime | None


def _request_out(r: SupplyRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "order_id": r.order_id,
        "order_number": r.order.number,
        "order_status": r.order.status,
        "quarantine_id": r.quarantine_id,
        "grid_id": r.grid_id,
        "taken_by": r.order.assignee.label if r.order.assignee else "",
        "items": [{"name": i.name, "quantity": i.quantity, "unit": i.unit} for i in r.items.all()],
        "notes": r.notes,
        "delivery_note": r.delivery_note,
        "payment_note": r.payment_note,
        "created_at": r.created_at,
        "received_at": r.received_at,
    }


class SupplyRequestPage(Schema):
    count: int
    items: list[SupplyRequestOut]


@requests_router.get(
    "",
    response={200: SupplyRequestPage, 403: ErrorOut},
    summary="List shopping lists",
    description=(
        "Shopping lists of closed households in the caller's grids, newest first, with their "
        "items, work order and receipt; `received` filters confirmed (yes) or not (no)."
    ),
)
def request_list(
    request: HttpRequest,
    page: Query[PageParams],
    grid: str | None = None,
    received: Literal["yes", "no", "all"] = "all",
) -> dict[str, Any]:
    user = caller(request)
    _require(user, Perm.VIEW_SUPPLIES)
    qs = sel.requests_visible(user)
    if grid:
        area = area_in_scope(user, grid)
        if area is None:
            return {"count": 0, "items": []}
        qs = qs.filter(grid__path__startswith=area.path)
    if received != "all":
        qs = qs.filter(received_at__isnull=received == "no")
    result = paginate(qs, page)
    result["items"] = [_request_out(r) for r in result["items"]]
    return result


@requests_router.get(
    "/{supply_request_id}",
    response={200: SupplyRequestOut, 403: ErrorOut, 404: ErrorOut},
    summary="Get a shopping list",
    description="One shopping list with its items. Outside the caller's scope: 404.",
)
def request_detail(request: HttpRequest, supply_request_id: int) -> dict[str, Any]:
    user = caller(request)
    _require(user, Perm.VIEW_SUPPLIES)
    return _request_out(get_object_or_404(sel.requests_visible(user), pk=supply_request_id))


class StockItemOut(Schema):
    id: int
    area_id: int
    name: str
    unit: str
    quantity: int
    low_threshold: int
    is_low: bool


class StockItemPage(Schema):
    count: int
    items: list[StockItemOut]


@stock_router.get(
    "",
    response={200: StockItemPage, 403: ErrorOut},
    summary="List stock items",
    description=(
        "Emergency supplies on hand in the stores (communities, grids) of the caller's scope; "
        "`low=true` keeps only items at or below their threshold."
    ),
)
def stock_list(
    request: HttpRequest, page: Query[PageParams], grid: str | None = None, low: bool = False
) -> dict[str, Any]:
    user = caller(request)
    _require(user, Perm.MANAGE_STOCK)
    qs = sel.stock_visible(user)
    if grid:
        area = area_in_scope(user, grid)
        if area is None:
            return {"count": 0, "items": []}
        qs = qs.filter(area__path__startswith=area.path)
    if low:
        from django.db.models import F

        qs = qs.filter(quantity__lte=F("low_threshold"))
    return paginate(qs, page)
