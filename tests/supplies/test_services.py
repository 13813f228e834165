"""Supplies services: a shopping list through the work-order machine to the household's
receipt; stock that never goes negative; double taps that do not duplicate."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from linli.orders import services as orders
from linli.orders.models import Source, Status
from linli.supplies import services as svc
from linli.supplies.models import StockMovement, SupplyRequest
from tests.factories import World, make_world
from tests.orders.factories import volunteer
from tests.supplies.factories import (
    posted,
    quarantined,
    resident_of,
    stock,
    supplies_event,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def test_items_parse_reads_quantities_and_names_bad_lines() -> None:
    items = svc.items_parse("大米 2 袋\n鸡蛋x10个\n\n酱油")
    assert [(i.name, i.quantity, i.unit) for i in items] == [
        ("大米", 2, "袋"),
        ("鸡蛋", 10, "个"),
        ("酱油", 1, ""),
    ]
    with pytest.raises(ValidationError) as exc:
        svc.items_parse("大米 2 袋\n牛奶 0 箱")
    assert exc.value.message_dict["items"] == ["第2行：数量必须在 1 到 999 之间。"]
    with pytest.raises(ValidationError):
        svc.items_parse("  \n ")


def test_list_to_order_to_delivery_to_receipt(world: World) -> None:
    event = supplies_event([world.community])
    q = quarantined(event, world.a.householder)
    resident = resident_of(world.a.householder)
    req = svc.supply_request_post(
        actor=resident,
        quarantine=q,
        items_text="大米 1 袋\n鸡蛋 10 个\n酱油\n青菜 2 斤",
        delivery_note="放门口",
        payment_note="约100元，送达后微信支付",
        client_key="k1",
    )
    order = req.order
    # The list is a work order of the supplies category, open for the grid's volunteers.
    assert order.category.code == "supplies"
    assert order.source == Source.MEASURE
    assert order.status == Status.OPENED
    assert order.grid == world.a.grid
    assert order.requester == world.a.householder
    assert order.title == "物资代购：大米、鸡蛋、酱油，另有 1 项"
    assert "放门口" in order.description and "· 鸡蛋 10个" in order.description
    assert [(i.name, i.quantity) for i in req.items.all()] == [
        ("大米", 1),
        ("鸡蛋", 10),
        ("酱油", 1),
        ("青菜", 2),
    ]
    # A retry with the same key returns the same list.
    again = svc.supply_request_post(actor=resident, quarantine=q, items_text="x", client_key="k1")
    assert again.pk == req.pk and SupplyRequest.objects.count() == 1

    vol = volunteer(world.a.grid, "vol-a")
    with pytest.raises(ValidationError):
        svc.supply_request_receive(actor=resident, request=req)  # not delivered yet
    orders.order_take(actor=vol, order=order)
    orders.order_start(actor=vol, order=order, note="已购齐，98元")
    orders.order_finish(actor=vol, order=order, note="已放门口，拍照告知")
    path = {s["key"]: s for s in svc.supply_path(req)}
    assert path["taken"]["who"] == vol.label
    assert path["bought"]["at"] is not None and path["delivered"]["at"] is not None
    assert path["received"]["at"] is None

    svc.supply_request_receive(actor=resident, request=req, stars=5, words="谢谢")
    req.refresh_from_db()
    req.order.refresh_from_db()
    assert req.received_at is not None
    assert req.order.status == Status.RATED and req.order.rating_stars == 5
    assert svc.supply_path(req)[-1]["at"] == req.received_at
    # Confirming twice keeps the first receipt.
    svc.supply_request_receive(actor=resident, request=req, stars=1)
    req.order.refresh_from_db()
    assert req.order.rating_stars == 5


def test_only_active_quarantine_with_supplies_on_may_post(world: World) -> None:
    no_supplies = supplies_event([world.a.grid])
    no_supplies.measures = ["quarantine"]
    no_supplies.save()
    q = quarantined(no_supplies, world.a.householder)
    with pytest.raises(ValidationError) as exc:
        posted(q)
    assert "隔离" in exc.value.messages[0]
    assert SupplyRequest.objects.count() == 0


def test_household_without_account_receives_through_the_portal_identity(world: World) -> None:
    event = supplies_event([world.community])
    q = quarantined(event, world.b.member)
    req = posted(q)
    vol = volunteer(world.b.grid, "vol-b")
    orders.order_take(actor=vol, order=req.order)
    orders.order_start(actor=vol, order=req.order)
    orders.order_finish(actor=vol, order=req.order, note="送到")
    svc.supply_request_receive(actor=None, request=req, stars=4)
    req.refresh_from_db()
    assert req.order.status == Status.RATED and req.received_at is not None


def test_a_worker_of_another_grid_may_not_post(world: World) -> None:
    event = supplies_event([world.community])
    q = quarantined(event, world.b.member)
    with pytest.raises(PermissionDenied):
        svc.supply_request_post(actor=world.a.worker, quarantine=q, items_text="大米")
    assert SupplyRequest.objects.count() == 0
    assert svc.supply_request_post(actor=world.b.worker, quarantine=q, items_text="大米").pk


def test_stock_receive_issue_adjust_reverse(world: World) -> None:
    item = stock(world.a.grid, quantity=10, low=3)
    m = svc.stock_issue(
        actor=world.a.worker,
        item=item,
        quantity=8,
        recipient_kind="checkpoint",
        recipient="东门卡口",
        reason="值守",
    )
    item.refresh_from_db()
    assert (item.quantity, item.is_low, m.balance_after) == (2, True, 2)
    with pytest.raises(ValidationError) as exc:
        svc.stock_issue(
            actor=world.a.worker,
            item=item,
            quantity=3,
            recipient_kind="household",
            recipient="3-301",
            reason="隔离户",
        )
    assert exc.value.message_dict["quantity"] == ["库存只有 2 盒，不能出库 3。"]
    svc.stock_reverse(actor=world.a.worker, movement=m, reason="登记错了")
    item.refresh_from_db()
    assert item.quantity == 10
    with pytest.raises(ValidationError):
        svc.stock_reverse(actor=world.a.worker, movement=m, reason="再来一次")
    svc.stock_adjust(actor=world.a.worker, item=item, counted=7, reason="盘点")
    item.refresh_from_db()
    assert item.quantity == 7
    kinds = list(item.movements.order_by("id").values_list("kind", "delta", "balance_after"))
    assert kinds == [
        ("receipt", 10, 10),
        ("issue", -8, 2),
        ("reversal", 8, 10),
        ("adjustment", -3, 7),
    ]
    # Append-only: a movement cannot be edited.
    with pytest.raises(ValueError):
        m.reason = "改"
        m.save()


def test_issue_double_tap_records_once(world: World) -> None:
    item = stock(world.a.grid, quantity=5)
    for _ in range(2):
        svc.stock_issue(
            actor=world.a.worker,
            item=item,
            quantity=2,
            recipient_kind="volunteer",
            recipient="志愿者小王",
            reason="巡查",
            client_key="tap-1",
        )
    item.refresh_from_db()
    assert item.quantity == 3
    assert StockMovement.objects.filter(kind="issue").count() == 1


def test_stock_of_another_grid_is_refused(world: World) -> None:
    item = stock(world.b.grid, quantity=5)
    with pytest.raises(PermissionDenied):
        svc.stock_issue(
            actor=world.a.worker,
            item=item,
            quantity=1,
            recipient_kind="person",
            recipient="x",
            reason="y",
        )
    item.refresh_from_db()
    assert item.quantity == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_never_go_negative(migration_seeds: None) -> None:
    """Four workers issue 2 of the last 5 units at once: two succeed, two are refused."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("threads need a shared database file or server")
    world = make_world()
    item = stock(world.a.grid, quantity=5)
    results: list[str] = []
    start = threading.Barrier(4)

    def issue() -> None:
        start.wait()
        try:
            svc.stock_issue(
                actor=None,
                item=item,
                quantity=2,
                recipient_kind="household",
                recipient="3-301",
                reason="隔离户",
            )
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    item.refresh_from_db()
    assert sorted(results) == ["ok", "ok", "refused", "refused"]
    assert item.quantity == 1
    assert StockMovement.objects.filter(kind="issue").count() == 2
