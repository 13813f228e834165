"""Builders for supplies tests: an event running quarantine and supplies over one grid, a
household under quarantine, its portal account, a store with stock."""

from __future__ import annotations

from typing import Any

from linli.accounts.models import User
from linli.areas.models import Area
from linli.emergency import services as em
from linli.emergency.models import EmergencyEvent, Quarantine
from linli.register.models import Person
from linli.supplies import services as svc
from linli.supplies.models import StockItem, SupplyRequest
from tests.factories import World


def supplies_event(areas: list[Area], name: str = "物资测试事件") -> EmergencyEvent:
    return em.event_declare(
        actor=None,
        name=name,
        kind="epidemic",
        areas=areas,
        measures=["quarantine", "checkins", "supplies", "screening"],
    )


def quarantined(event: EmergencyEvent, person: Person) -> Quarantine:
    return em.quarantine_start(actor=None, event=event, person=person, kind="home", reason="密接")


def resident_of(person: Person) -> User:
    found = User.objects.filter(person=person).first()
    return found or User.objects.create(username=f"res-{person.pk}", person=person)


def posted(q: Quarantine, text: str = "大米 1 袋\n鸡蛋 10 个") -> SupplyRequest:
    return svc.supply_request_post(actor=None, quarantine=q, items_text=text, notes="不要辣")


def stock(area: Area, *, name: str = "口罩", quantity: int = 10, low: int = 3) -> StockItem:
    item = svc.stock_item_create(actor=None, area=area, name=name, unit="盒", low_threshold=low)
    if quantity:
        svc.stock_receive(actor=None, item=item, quantity=quantity, reason="街道下拨")
        item.refresh_from_db()
    return item


def supplies_extras(world: World) -> dict[str, Any]:
    """Grid B's supplies objects for the cross-grid walk: a shopping list of B's member under
    quarantine, a stock item of grid B with a movement."""
    event = supplies_event([world.b.grid], name="乙网格物资事件")
    q = quarantined(event, world.b.member)
    req = posted(q)
    item = stock(world.b.grid, name="乙网格口罩")
    return {
        "supply_event_b": event,
        "supply_quarantine_b": q,
        "supply_request_b": req,
        "stock_item_b": item,
        "stock_movement_b": item.movements.get(),
    }


def supplies_snapshot() -> tuple[Any, ...]:
    from linli.supplies.models import StockMovement

    return (
        list(SupplyRequest.objects.values_list("pk", "received_at")),
        list(StockItem.objects.values_list("pk", "quantity", "name")),
        StockMovement.objects.count(),
    )
