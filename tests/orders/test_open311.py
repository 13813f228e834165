"""Open311 GeoReport v2 at /open311/v2/, through a real HTTP client (Django's test client)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from linli.accounts.services import token_issue
from linli.orders import services as svc
from linli.orders.models import OrderCategory, WorkOrder
from tests.factories import World
from tests.orders.factories import order_in

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


def english() -> Client:
    """A client that chose English (the language cookie); Linli answers Chinese by default."""
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def get(path: str, **params: Any) -> tuple[int, Any]:
    r = english().get(BASE + path, params)
    assert r["Content-Type"] == "application/json"
    return r.status_code, json.loads(r.content)


def post(path: str, data: dict[str, Any], **headers: str) -> tuple[int, Any]:
    r = english().post(BASE + path, data, headers=headers)
    return r.status_code, json.loads(r.content)


def test_services_lists_the_categories(db: None) -> None:
    status, data = get("/services.json")
    assert status == 200
    # The eight of issue 5 and 物资代购 (seeded by linli.supplies).
    assert len(data) == OrderCategory.objects.count() == 9
    assert data[0] == {
        "service_code": "repair",
        "service_name": "Repair",
        "description": "",
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


def test_chinese_by_default(db: None) -> None:
    data = json.loads(Client().get(BASE + "/services.json").content)
    assert data[0]["service_name"] == "维修报修"


def test_requests_need_a_valid_key(world: World) -> None:
    assert get("/requests.json") == (
        403,
        [{"code": 403, "description": "api_key was not provided or is not valid."}],
    )
    assert get("/requests.json", api_key="lnl_wrong")[0] == 403


def test_post_then_get_with_exact_fields(world: World) -> None:
    key = token_issue(actor=None, user=world.a.worker)
    status, data = post(
        "/requests.json",
        {
            "api_key": key,
            "service_code": "environment",
            "jurisdiction_id": world.a.grid.code,
            "lat": "36.651200",
            "long": "117.120000",
            "address_string": "1号楼北侧",
            "description": "垃圾桶满了\n三天没人清",
            "first_name": "大爷",
            "last_name": "张",
            "phone": "13700001234",
            "email": "zhang@example.org",
        },
    )
    order = WorkOrder.objects.get()
    assert status == 201
    assert data == [{"service_request_id": order.number, "service_notice": "", "account_id": None}]
    assert (order.source, order.grid, order.contact_name, order.phone_masked) == (
        "open311",
        world.a.grid,
        "张大爷",
        "137****1234",
    )
    assert order.title == "垃圾桶满了"
    local = timezone.localtime
    expected = {
        "service_request_id": order.number,
        "status": "open",
        "status_notes": "Submitted",
        "service_name": "Environment",
        "service_code": "environment",
        "description": "垃圾桶满了\n三天没人清",
        "agency_responsible": world.a.grid.name,
        "service_notice": "",
        "requested_datetime": local(order.submitted_at).isoformat(timespec="seconds"),
        "updated_datetime": local(order.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": local(order.due_at).isoformat(timespec="seconds"),
        "address": "1号楼北侧",
        "address_id": None,
        "zipcode": None,
        "lat": 36.6512,
        "long": 117.12,
        "media_url": None,
    }
    assert get(f"/requests/{order.number}.json", api_key=key) == (200, [expected])
    assert get("/requests.json", api_key=key) == (200, [expected])
    # Bearer works as well as api_key; no personal data in the answer.
    r = Client().get(BASE + "/requests.json", headers={"Authorization": f"Bearer {key}"})
    assert b"13700001234" not in r.content and "137****1234" not in r.content.decode()


def test_filters_and_status_mapping(world: World) -> None:
    key = token_issue(actor=None, user=world.a.worker)
    now = timezone.now()
    open_one = order_in(world, now=now, title="开着的")
    done = order_in(world, now=now, title="已退回")
    svc.order_return(actor=world.a.worker, order=done, reason="重复")
    numbers = lambda data: sorted(d["service_request_id"] for d in data)  # noqa: E731
    assert numbers(get("/requests.json", api_key=key, status="open")[1]) == [open_one.number]
    assert numbers(get("/requests.json", api_key=key, status="closed")[1]) == [done.number]
    assert get("/requests.json", api_key=key, service_code="safety")[1] == []
    both = get("/requests.json", api_key=key, service_request_id=f"{done.number},{open_one.number}")
    assert numbers(both[1]) == sorted([done.number, open_one.number])
    assert get("/requests.json", api_key=key, status="pending")[0] == 400
    assert get("/requests.json", api_key=key, start_date="yesterday")[0] == 400
    # Older than the default 90 days: only with an explicit start_date.
    old = order_in(world, now=now - timezone.timedelta(days=200), title="很久以前")
    assert old.number not in numbers(get("/requests.json", api_key=key)[1])
    since = (now - timezone.timedelta(days=365)).isoformat()
    assert old.number in numbers(get("/requests.json", api_key=key, start_date=since)[1])


def test_sibling_grid_is_invisible_and_cannot_be_filed_into(world: World) -> None:
    key_a = token_issue(actor=None, user=world.a.worker)
    b_order = order_in(world, "b", now=timezone.now())
    assert get(f"/requests/{b_order.number}.json", api_key=key_a) == (
        404,
        [{"code": 404, "description": "No such service request."}],
    )
    assert get("/requests.json", api_key=key_a) == (200, [])
    assert get("/requests.json", api_key=key_a, service_request_id=b_order.number) == (200, [])
    for where in (
        {"jurisdiction_id": world.b.grid.code},
        {"address_id": str(world.b.dwelling.pk)},
    ):
        status, data = post(
            "/requests.json",
            {"api_key": key_a, "service_code": "repair", "address_string": "x", **where},
        )
        assert (status, data[0]["code"]) == (404, 404)
    assert WorkOrder.objects.count() == 1
    # Grid B's own worker sees it.
    key_b = token_issue(actor=None, user=world.b.worker)
    assert get(f"/requests/{b_order.number}.json", api_key=key_b)[0] == 200


def test_post_errors_in_georeport_form(world: World) -> None:
    key = token_issue(actor=None, user=world.head)  # a community head: several grids
    cases = [
        ({"service_code": "nope", "address_string": "x"}, "service_code is missing or unknown."),
        (
            {"service_code": "repair"},
            "Give a location: lat and long, address_string or address_id.",
        ),
        (
            {"service_code": "repair", "lat": "abc", "long": "1"},
            "lat and long must be decimal degrees.",
        ),
        (
            {"service_code": "repair", "address_string": "x"},
            "jurisdiction_id (the code of a grid) is required.",
        ),
    ]
    for data, message in cases:
        assert post("/requests.json", {"api_key": key, **data}) == (
            400,
            [{"code": 400, "description": message}],
        )
    assert WorkOrder.objects.count() == 0
    # The address_id of a dwelling in scope names the grid.
    status, data = post(
        "/requests.json",
        {"api_key": key, "service_code": "repair", "address_id": str(world.b.dwelling.pk)},
    )
    assert status == 201 and WorkOrder.objects.get().grid == world.b.grid
