"""The work order operations of /api/v1/: same services, same scope, exact answers."""

from __future__ import annotations

import pytest

from linli.accounts.services import token_issue
from linli.orders.models import OrderEvent, Status, WorkOrder
from tests.api.conftest import ApiClient
from tests.factories import World
from tests.orders.factories import order_in, volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_api(world: World) -> ApiClient:
    return ApiClient(token_issue(actor=None, user=world.a.worker))


def test_file_list_get_and_move_an_order(world: World, a_api: ApiClient) -> None:
    created = a_api.post(
        "/orders",
        {
            "category": "repair",
            "title": "路灯不亮",
            "grid": world.a.grid.code,
            "phone": "13900001111",
            "client_key": "hotline-1",
        },
    )
    assert created.status == 201, created.text
    data = created.data
    assert (data["title"], data["status"], data["level"], data["source"]) == (
        "路灯不亮",
        "submitted",
        "grid",
        "api",
    )
    assert data["phone_masked"] == "139****1111" and "13900001111" not in created.text
    assert [e["action"] for e in data["events"]] == ["submit"]
    again = a_api.post(
        "/orders",
        {
            "category": "repair",
            "title": "路灯不亮",
            "grid": world.a.grid.code,
            "client_key": "hotline-1",
        },
    )
    assert again.data["id"] == data["id"] and WorkOrder.objects.count() == 1
    listed = a_api.get("/orders")
    assert [o["number"] for o in listed.data["items"]] == [data["number"]]
    assert listed.data["items"][0]["events"] is None
    moved = a_api.post(f"/orders/{data['id']}/transitions", {"action": "accept", "note": "收到"})
    assert moved.status == 200 and moved.data["status"] == "accepted"
    vol = volunteer(world.a.grid)
    moved = a_api.post(
        f"/orders/{data['id']}/transitions", {"action": "dispatch", "assignee": vol.pk}
    )
    assert (moved.data["status"], moved.data["assignee"]) == ("dispatched", vol.label)


def test_illegal_and_invalid_steps_answer_422_and_change_nothing(
    world: World, a_api: ApiClient
) -> None:
    order = order_in(world)
    events = OrderEvent.objects.count()
    answer = a_api.post(f"/orders/{order.pk}/transitions", {"action": "close"})
    assert (answer.status, answer.data["detail"]) == (
        422,
        "An order that is “Submitted” cannot be “Close the order”.",
    )
    answer = a_api.post(f"/orders/{order.pk}/transitions", {"action": "return"})
    assert answer.status == 422
    assert answer.data["errors"] == {"reason": ["Say why the request is returned."]}
    answer = a_api.post(f"/orders/{order.pk}/transitions", {"action": "fly"})
    assert answer.status == 422
    assert (WorkOrder.objects.get(pk=order.pk).status, OrderEvent.objects.count()) == (
        Status.SUBMITTED,
        events,
    )


def test_department_sees_only_what_is_whistled_to_it(world: World) -> None:
    from linli.orders import services as svc
    from tests.orders.factories import department, department_user

    liaison = department_user(world)
    dept = department(world, users=(liaison,))
    api = ApiClient(token_issue(actor=None, user=liaison))
    quiet, whistled = order_in(world, title="甲"), order_in(world, "b", title="乙")
    svc.order_whistle(actor=world.head, order=whistled, department=dept, note="请处理")
    assert [o["id"] for o in api.get("/orders").data["items"]] == [whistled.pk]
    assert api.get(f"/orders/{quiet.pk}").status == 404
    answer = api.post(f"/orders/{whistled.pk}/transitions", {"action": "answer", "note": "已处理"})
    assert (answer.status, answer.data["status"], answer.data["level"]) == (
        200,
        "answered",
        "community",
    )
    # A department may not accept an order (403, nothing changes).
    other = order_in(world, title="丙")
    svc.order_whistle(actor=world.head, order=other, department=dept, note="请处理")
    before = OrderEvent.objects.count()
    assert api.post(f"/orders/{other.pk}/transitions", {"action": "close"}).status == 403
    assert api.post(f"/orders/{other.pk}/transitions", {"action": "escalate"}).status == 403
    assert OrderEvent.objects.count() == before
