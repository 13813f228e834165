"""POST /api/v1/households/{household_id}/move: the whole household moves, through the service."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from linli.audit.models import AuditAction, AuditEntry
from linli.register import services as reg
from linli.register.models import Dwelling, EventKind, Household, Person, RegisterEvent
from tests.api.conftest import ApiClient, BOnly
from tests.factories import World

pytestmark = pytest.mark.django_db


def _spare(building: Any) -> Dwelling:
    return Dwelling.objects.get(building=building, number="302")


def _state() -> tuple[Any, ...]:
    return (
        list(Household.objects.order_by("pk").values_list("pk", "dwelling_id", "grid_id")),
        list(Person.objects.order_by("pk").values_list("pk", "grid_id", "household_id")),
        RegisterEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def test_worker_moves_their_household(world: World, a_api: ApiClient) -> None:
    a = world.a
    target = _spare(a.building)
    day = timezone.localdate().isoformat()
    answer = a_api.post(
        f"/households/{a.household.pk}/move", {"dwelling": target.pk, "occurred_on": day}
    )
    assert answer.status == 200, answer.text
    assert {k: answer.data[k] for k in ("id", "dwelling_id", "address", "grid_id", "status")} == {
        "id": a.household.pk,
        "dwelling_id": target.pk,
        "address": target.address,
        "grid_id": a.grid.pk,
        "status": "active",
    }
    assert [m["id"] for m in answer.data["members"]] == [a.householder.pk, a.member.pk]
    assert [m["address"] for m in answer.data["members"]] == [target.address] * 2
    assert (
        RegisterEvent.objects.filter(household=a.household, kind=EventKind.MOVE_HOUSE).count() == 3
    )
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (entry.action, entry.object_type, entry.channel) == (
        AuditAction.EVENT,
        "household",
        "api",
    )


def test_household_or_dwelling_outside_scope_is_404(
    world: World, b_only: BOnly, a_api: ApiClient
) -> None:
    before = _state()
    for household, dwelling in (
        (world.b.household, _spare(world.a.building)),  # B's household
        (world.a.household, _spare(world.b.building)),  # B's dwelling in the shared estate
        (world.a.household, b_only.dwelling),  # B's dwelling in B's own estate
        (world.a.household, Dwelling(pk=987654)),  # no such dwelling
    ):
        answer = a_api.post(f"/households/{household.pk}/move", {"dwelling": dwelling.pk})
        assert answer.status == 404, (household.pk, dwelling.pk, answer.text)
        assert answer.data == {"detail": "Not found.", "errors": {}}
    assert _state() == before


def test_refusals_are_422_with_messages_per_field(world: World, a_api: ApiClient) -> None:
    url = f"/households/{world.a.household.pk}/move"
    before = _state()
    same = a_api.post(url, {"dwelling": world.a.dwelling.pk})
    assert (same.status, same.data["errors"]) == (
        422,
        {"dwelling": ["The household already lives in this dwelling."]},
    )
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    later = a_api.post(url, {"dwelling": _spare(world.a.building).pk, "occurred_on": future})
    assert (later.status, later.data["errors"]) == (
        422,
        {"occurred_on": ["The date cannot be in the future."]},
    )
    missing = a_api.post(url, {})
    assert missing.status == 422 and list(missing.data["errors"]) == ["dwelling"]
    zh = a_api.post(url, {"dwelling": world.a.dwelling.pk}, lang="zh-hans")
    assert zh.data["detail"] == "该户已经住在这套房屋。"
    assert _state() == before


def test_shared_dwelling_needs_allow_shared(world: World, a_api: ApiClient) -> None:
    url = f"/households/{world.a.household.pk}/move"
    b = world.b
    # Two households end up in one dwelling only when the caller says it is shared.
    target = _spare(world.a.building)
    reg.household_create(actor=None, dwelling=target)
    refused = a_api.post(url, {"dwelling": target.pk})
    assert refused.status == 422 and list(refused.data["errors"]) == ["dwelling"]
    shared = a_api.post(url, {"dwelling": target.pk, "allow_shared": True})
    assert shared.status == 200 and shared.data["dwelling_id"] == target.pk
    assert Household.objects.get(pk=b.household.pk).dwelling_id == b.dwelling.pk


def test_department_may_not_move(world: World, dept_api: ApiClient) -> None:
    before = _state()
    answer = dept_api.post(
        f"/households/{world.a.household.pk}/move", {"dwelling": _spare(world.a.building).pk}
    )
    assert answer.status == 403
    assert answer.data["detail"] == "You may not change records outside your jurisdiction."
    assert _state() == before


def test_community_head_moves_across_grids(world: World, head_api: ApiClient) -> None:
    target = _spare(world.b.building)
    answer = head_api.post(f"/households/{world.a.household.pk}/move", {"dwelling": target.pk})
    assert answer.status == 200, answer.text
    assert (answer.data["grid_id"], answer.data["grid_code"]) == (
        world.b.grid.pk,
        world.b.grid.code,
    )
    assert {m["grid_id"] for m in answer.data["members"]} == {world.b.grid.pk}
