"""Grid A's worker, calling with a token, sees nothing of grid B through any operation.

The operations are read from the generated openapi.json, so an operation added later is
walked too (and the walk fails when it meets a path parameter or write it does not know).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from django.forms.models import model_to_dict

from linli.audit.models import AuditEntry
from linli.emergency.models import Arrival, EmergencyEvent, Quarantine
from linli.health.models import TestRound
from linli.orders.models import OrderEvent, WorkOrder
from linli.passes.models import Checkpoint, GateScan
from linli.register.models import (
    Dwelling,
    Household,
    Membership,
    Person,
    PersonTag,
    RegisterEvent,
)
from tests.api.conftest import API, ApiClient, BOnly
from tests.emergency.walk import emergency_snapshot
from tests.factories import World, make_world
from tests.health.walk import health_snapshot
from tests.passes.walk import passes_extras, passes_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["A looks at B", "B looks at A"])
def world(request: pytest.FixtureRequest, db: None) -> World:
    """The two-grid world from each side in turn: neither grid may see the other."""
    w = make_world()
    return w if request.param == "A looks at B" else dataclasses.replace(w, a=w.b, b=w.a)


# Which resource each path parameter names; a list path's first segment names its items.
PARAM_RESOURCE = {
    "area_id": "areas",
    "estate_id": "estates",
    "building_id": "buildings",
    "dwelling_id": "dwellings",
    "household_id": "households",
    "person_id": "persons",
    "order_id": "orders",
    "quarantine_id": "quarantines",
    "supply_request_id": "supply-requests",
    "round_id": "test-rounds",
}


def _passes_b(world: World) -> None:
    """Grid B's gate, passes and a scan (made once per test)."""
    if not Checkpoint.objects.filter(grid=world.b.grid).exists():
        passes_extras(world)


def b_objects(world: World, b_only: BOnly) -> dict[str, list[int]]:
    """Every object id of grid B, per resource."""
    _passes_b(world)
    return {
        "areas": [world.b.grid.pk],
        "estates": [b_only.estate.pk],
        "buildings": [world.b.building.pk, b_only.building.pk],
        "dwellings": [
            *world.b.building.dwellings.values_list("pk", flat=True),
            b_only.dwelling.pk,
        ],
        "households": [world.b.household.pk],
        "persons": [world.b.householder.pk, world.b.member.pk],
        "orders": [_order_b(world).pk],
        "emergency-events": list(
            EmergencyEvent.objects.filter(areas=world.b.grid).values_list("pk", flat=True)
        ),
        "arrivals": list(Arrival.objects.filter(grid=world.b.grid).values_list("pk", flat=True)),
        "quarantines": list(
            Quarantine.objects.filter(grid=world.b.grid).values_list("pk", flat=True)
        ),
        **_supplies_screening_b(world),
        "gate-scans": list(GateScan.objects.filter(grid=world.b.grid).values_list("pk", flat=True)),
        "test-rounds": list(
            TestRound.objects.filter(area=world.b.grid).values_list("pk", flat=True)
        ),
        "vaccination-coverage": [world.b.grid.pk],
    }


def _supplies_screening_b(world: World) -> dict[str, list[int]]:
    from linli.screening.models import ScreeningTarget
    from linli.supplies.models import StockItem, SupplyRequest

    found = {
        "supply-requests": list(
            SupplyRequest.objects.filter(grid=world.b.grid).values_list("pk", flat=True)
        ),
        "stock-items": list(
            StockItem.objects.filter(area=world.b.grid).values_list("pk", flat=True)
        ),
        "screening-targets": list(
            ScreeningTarget.objects.filter(grid=world.b.grid).values_list("pk", flat=True)
        ),
    }
    assert all(found.values()), found  # the walk is not vacuous
    return found


def _order_b(world: World) -> Any:
    """Grid B's work order (filed once per test, on the portal by its householder)."""
    from linli.orders.models import WorkOrder
    from tests.orders.factories import order_in

    return WorkOrder.objects.filter(grid=world.b.grid).first() or order_in(world, "b")


def b_words(world: World) -> list[str]:
    """Names that appear only in grid B's objects."""
    b = world.b
    return [
        b.householder.name,
        b.member.name,
        b.grid.name,
        b.grid.code,
        b.building.name,
        "乙苑",
        "9号楼",
    ]


def b_filter_values(world: World, b_only: BOnly) -> dict[str, list[str]]:
    return {
        "area": [world.b.grid.code, str(world.b.grid.pk)],
        "grid": [world.b.grid.code, str(world.b.grid.pk)],
        "parent": [str(world.b.grid.pk)],
        "estate": [str(b_only.estate.pk)],
        "building": [str(world.b.building.pk), str(b_only.building.pk)],
        "dwelling": [str(world.b.dwelling.pk), str(b_only.dwelling.pk)],
        "household": [str(world.b.household.pk)],
        "event": [
            str(pk)
            for pk in EmergencyEvent.objects.filter(areas=world.b.grid).values_list("pk", flat=True)
        ],
        "checkpoint": [
            str(pk)
            for pk in Checkpoint.objects.filter(grid=world.b.grid).values_list("pk", flat=True)
        ],
    }


def operations(method: str) -> list[tuple[str, dict[str, Any]]]:
    spec = ApiClient().get("/openapi.json").data
    return [(path, ops[method]) for path, ops in spec["paths"].items() if method in ops]


def assert_no_b(answer: Any, world: World, b_ids: dict[str, list[int]], resource: str) -> None:
    assert answer.status == 200, answer.text
    items = answer.data["items"]
    assert answer.data["count"] == len(items)  # every page fits (limit=200)
    assert not {i["id"] for i in items} & set(b_ids[resource]), resource
    for item in items:
        for member in item.get("members", []):
            assert member["id"] not in b_ids["persons"]
        for key in ("household_id",):
            if key in item:
                assert item[key] not in b_ids["households"]
        for key in ("building_id",):
            if key in item:
                assert item[key] not in b_ids["buildings"]
        if "grid_id" in item:
            assert item["grid_id"] == world.a.grid.pk
    for word in b_words(world):
        assert word not in answer.text, (resource, word)


def test_every_get_operation_hides_grid_b(world: World, b_only: BOnly, a_api: ApiClient) -> None:
    b_ids = b_objects(world, b_only)
    filters = b_filter_values(world, b_only)
    lists = details = 0
    for path, op in operations("get"):
        if not path.startswith(API + "/") or path == API + "/openapi.json":
            continue
        rel = path[len(API) :]
        params = re.findall(r"{(\w+)}", rel)
        query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        if params:
            (name,) = params  # one object per operation so far
            resource = PARAM_RESOURCE[name]
            for pk in b_ids[resource]:
                answer = a_api.get(rel.replace("{" + name + "}", str(pk)))
                assert answer.status == 404, (rel, pk, answer.text)
                assert answer.data == {"detail": "Not found.", "errors": {}}
            details += 1
            continue
        resource = rel.strip("/").split("/")[0]
        extra = {"status": "all"} if "status" in query and resource == "persons" else {}
        assert_no_b(a_api.get(rel, limit=200, **extra), world, b_ids, resource)
        for name in query:
            for value in filters.get(name, []):
                answer = a_api.get(rel, limit=200, **{name: value})
                assert_no_b(answer, world, b_ids, resource)
                assert answer.data["count"] == 0, (rel, name, value)
        lists += 1
    # register (6, 7); orders +1 list +1 detail; reports +2 details (statistics, its DHIS2 form);
    # emergency +3 lists +1 detail; supplies +2 lists +1 detail; screening +1 list;
    # passes +1 list (gate scans); health +2 lists (rounds, vaccination coverage) +1 detail
    assert (lists, details) == (16, 13)


def test_grid_a_lists_hold_exactly_grid_a(world: World, b_only: BOnly, a_api: ApiClient) -> None:
    def ids(path: str) -> list[int]:
        return [i["id"] for i in a_api.get(path, limit=200).data["items"]]

    assert ids("/areas") == [world.a.grid.pk]
    assert ids("/estates") == [world.a.building.estate_id]
    assert ids("/buildings") == [world.a.building.pk]
    assert ids("/dwellings") == sorted(world.a.building.dwellings.values_list("pk", flat=True))
    assert ids("/households") == [world.a.household.pk]
    assert ids("/persons") == [world.a.householder.pk, world.a.member.pk]
    household = a_api.get(f"/households/{world.a.household.pk}").data
    assert [m["id"] for m in household["members"]] == [world.a.householder.pk, world.a.member.pk]


def snapshot(world: World) -> dict[str, Any]:
    """Everything a write on grid B could change."""
    persons = Person.objects.filter(grid=world.b.grid).order_by("pk")
    return {
        "persons": [{k: v for k, v in model_to_dict(p).items() if k != "tags"} for p in persons],
        "person_count": Person.objects.count(),
        "households": list(Household.objects.values().order_by("pk")),
        "memberships": list(Membership.objects.values().order_by("pk")),
        "tags": list(PersonTag.objects.values_list("person_id", "tag_id").order_by("pk")),
        "events": RegisterEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "orders": list(WorkOrder.objects.values().order_by("pk")),
        "order_events": OrderEvent.objects.count(),
        "emergency": emergency_snapshot(),
        "passes": passes_snapshot(),
        "health": health_snapshot(),
    }


def write_calls(world: World) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """For each write operation, the bodies that aim it at grid B."""
    return {
        ("post", "/persons"): [
            {"name": "王越界", "household": world.b.household.pk, "relation": "child"},
            {"name": "王越界", "grid": world.b.grid.code},
            {"name": "王越界", "grid": str(world.b.grid.pk)},
        ],
        ("patch", "/persons/{person_id}"): [{"name": "改名", "tags": ["elderly"]}],
        ("post", "/persons/{person_id}/reveal"): [{"field": "national_id", "reason": "核对身份"}],
        ("post", "/persons/{person_id}/move-out"): [{"destination": "外地"}],
        # Grid B's household, aimed at a dwelling of either grid (the caller's own one too).
        ("post", "/orders"): [
            {"category": "repair", "title": "越界", "grid": world.b.grid.code},
            {"category": "repair", "title": "越界", "grid": str(world.b.grid.pk)},
        ],
        ("post", "/orders/{order_id}/transitions"): [
            {"action": action, "note": "越界", "reason": "越界", "stars": 5}
            for action in ("accept", "return", "open", "escalate", "cancel", "take", "close")
        ]
        + [{"action": "dispatch", "assignee": world.a.worker.pk}],
        ("post", "/households/{household_id}/move"): [
            {"dwelling": Dwelling.objects.get(building=world.a.building, number="302").pk},
            {"dwelling": Dwelling.objects.get(building=world.b.building, number="302").pk},
            {"dwelling": world.a.dwelling.pk, "allow_shared": True},
        ],
        # Grid B's event and measure, or a grid B arrival under any event.
        ("post", "/arrivals"): [
            {
                "event": event.pk,
                "grid": grid,
                "name": "王越界",
                "phone": "13912340000",
                "arrived_on": "2026-01-01",
                "travel_mode": "car",
                "from_text": "外地",
            }
            for event in EmergencyEvent.objects.all()
            for grid in (world.b.grid.code, world.a.grid.code)
            if not (grid == world.a.grid.code and event.areas.filter(pk=world.a.grid.pk).exists())
        ],
        ("post", "/check-ins"): [
            {"quarantine": q.pk, "temperature": "36.5"}
            for q in Quarantine.objects.filter(grid=world.b.grid)
        ],
        # Grid B's gate, with a valid code of grid B's estate and of grid A's.
        ("post", "/gate-scans"): [
            {"checkpoint": cp.pk, "token": token, "direction": "in", "client_id": "walk-a"}
            for cp in Checkpoint.objects.filter(grid=world.b.grid)
            for token in _tokens()
        ],
        ("post", "/passes/verify"): [
            {"checkpoint": cp.pk, "token": token}
            for cp in Checkpoint.objects.filter(grid=world.b.grid)
            for token in _tokens()
        ],
        ("post", "/health-codes"): [
            {"person": p.pk, "colour": "red", "source": "越界"}
            for p in (world.b.householder, world.b.member)
        ],
        # Grid B's round (with anyone), or grid B's person named by id.
        ("post", "/test-results"): [
            {"round": r.pk, "results": [{"person": p.pk, "result": "negative"}]}
            for r in TestRound.objects.filter(area=world.b.grid)
            for p in (world.a.member, world.b.member)
        ],
        ("post", "/vaccinations"): [
            {"person": world.b.member.pk, "dose": 2, "product": "x", "vaccinated_on": "2021-09-01"}
        ],
    }


def _tokens() -> list[str]:
    from linli.passes.models import AccessPass
    from linli.passes.services import pass_token

    return [pass_token(p) for p in AccessPass.objects.filter(status="approved")]


def test_every_write_on_grid_b_is_404_and_changes_nothing(
    world: World, b_only: BOnly, a_api: ApiClient
) -> None:
    b_ids = b_objects(world, b_only)
    calls = write_calls(world)
    before = snapshot(world)
    seen = set()
    for method in ("post", "patch", "put", "delete"):
        for path, _op in operations(method):
            rel = path[len(API) :]
            bodies = calls[(method, rel)]  # a KeyError here: teach this test the new write
            seen.add((method, rel))
            params = re.findall(r"{(\w+)}", rel)
            assert len(params) <= 1  # one object per operation so far
            targets = (
                [
                    rel.replace("{" + params[0] + "}", str(pk))
                    for pk in b_ids[PARAM_RESOURCE[params[0]]]
                ]
                if params
                else [rel]
            )
            for url in targets:
                for body in bodies:
                    answer = a_api.call(method, url, body)
                    assert answer.status == 404, (method, url, body, answer.text)
    assert seen == set(calls)
    assert snapshot(world) == before


def test_grid_b_worker_sees_their_own(world: World, b_api: ApiClient) -> None:
    answer = b_api.get("/persons")
    assert [p["id"] for p in answer.data["items"]] == [world.b.householder.pk, world.b.member.pk]
    assert b_api.get(f"/persons/{world.a.householder.pk}").status == 404


def test_department_may_read_but_not_change_or_reveal(world: World, dept_api: ApiClient) -> None:
    assert dept_api.get("/persons").data["count"] == 4
    before = snapshot(world)
    pk = world.b.householder.pk
    changed = dept_api.patch(f"/persons/{pk}", {"name": "改名"})
    assert changed.status == 403
    assert changed.data["detail"] == "You may not change records outside your jurisdiction."
    revealed = dept_api.post(f"/persons/{pk}/reveal", {"field": "phone", "reason": "核对"})
    assert revealed.status == 403
    assert revealed.data["detail"] == "You may not reveal personal data of this person."
    assert dept_api.post(f"/persons/{pk}/move-out", {}).status == 403
    created = dept_api.post("/persons", {"name": "王五", "grid": world.b.grid.code})
    assert created.status == 403
    assert snapshot(world) == before
