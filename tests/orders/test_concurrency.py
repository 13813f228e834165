"""Two volunteers take the same open order at the same moment: exactly one has it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from linli.orders import services as svc
from linli.orders.models import OrderEvent, Status, WorkOrder
from linli.orders.workflow import IllegalTransition
from tests.factories import make_world
from tests.orders.factories import order_in, volunteer


@pytest.mark.django_db(transaction=True)
def test_simultaneous_takes_leave_one_owner(migration_seeds: None) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("threads need a shared database file or server")
    world = make_world()
    order = order_in(world)
    svc.order_accept(actor=world.a.worker, order=order)
    svc.order_open(actor=world.a.worker, order=order)
    takers = [volunteer(world.a.grid, f"v{i}") for i in range(4)]
    start = threading.Barrier(len(takers))
    outcome: dict[str, Any] = {}

    def take(user: Any) -> None:
        start.wait()
        try:
            svc.order_take(actor=user, order=WorkOrder.objects.get(pk=order.pk))
            outcome[user.username] = "took"
        except IllegalTransition:
            outcome[user.username] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in takers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["refused", "refused", "refused", "took"]
    winner = next(name for name, result in outcome.items() if result == "took")
    order.refresh_from_db()
    assert (order.status, order.assignee.username if order.assignee else None) == (
        Status.TAKEN,
        winner,
    )
    assert OrderEvent.objects.filter(order=order, action="take").count() == 1
