"""The workbench page that moves a whole household (/w/households/<pk>/move/)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.register import services as reg
from linli.register.models import (
    Dwelling,
    EventKind,
    Household,
    HouseholdStatus,
    Person,
    RegisterEvent,
)
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.django_db


def _url(household: Household) -> str:
    return reverse("workbench:household_move", args=[household.pk])


def _spare(building: Any) -> Dwelling:
    return Dwelling.objects.get(building=building, number="302")


def _state() -> tuple[Any, ...]:
    return (
        list(Household.objects.order_by("pk").values_list("pk", "dwelling_id", "grid_id")),
        list(Person.objects.order_by("pk").values_list("pk", "grid_id", "household_id")),
        RegisterEvent.objects.count(),
    )


def test_household_page_offers_the_move(world: World, a_client: Client) -> None:
    html = a_client.get(
        reverse("workbench:household_detail", args=[world.a.household.pk])
    ).content.decode()
    assert f'href="{_url(world.a.household)}"' in html and "整户搬迁" in html


def test_search_finds_dwellings_in_scope_only(world: World, a_client: Client) -> None:
    own, other = _spare(world.a.building), _spare(world.b.building)
    # htmx: only the results, for the words of the address in any order.
    found = a_client.get(
        _url(world.a.household),
        {"q": "302 1号楼"},
        headers={"HX-Request": "true", "HX-Target": "found"},
    ).content.decode()
    assert "<html" not in found
    assert own.address in found and f'data-pk="{own.pk}"' in found
    assert other.address not in found
    # The household's own dwelling is not offered.
    found = a_client.get(
        _url(world.a.household), {"q": "301"}, headers={"HX-Request": "true", "HX-Target": "found"}
    ).content.decode()
    assert world.a.dwelling.address not in found and "没有找到符合的房屋" in found
    # Without JavaScript: the full page with the results, then ?to= picks the dwelling.
    page = a_client.get(_url(world.a.household), {"q": "302"}).content.decode()
    assert "<html" in page and own.address in page and other.address not in page
    page = a_client.get(_url(world.a.household), {"q": "302", "to": own.pk}).content.decode()
    assert f'name="dwelling" id="id_dwelling" value="{own.pk}"' in page
    assert f'type="date" name="occurred_on" value="{timezone.localdate().isoformat()}"' in page


def test_worker_moves_their_household(world: World, a_client: Client) -> None:
    target = _spare(world.a.building)
    response = a_client.post(
        _url(world.a.household),
        {"dwelling": target.pk, "occurred_on": timezone.localdate().isoformat(), "q": "302"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "workbench:household_detail", args=[world.a.household.pk]
    )
    household = Household.objects.get(pk=world.a.household.pk)
    assert (household.dwelling_id, household.grid_id) == (target.pk, world.a.grid.pk)
    assert RegisterEvent.objects.filter(household=household, kind=EventKind.MOVE_HOUSE).count() == 3
    html = a_client.get(response["Location"]).content.decode()
    assert f"该户已整户搬迁至 {target.address}。" in html
    assert f"整户从 {world.a.dwelling.address} 搬至 {target.address}" in html


def test_errors_keep_what_was_typed(world: World, a_client: Client) -> None:
    target = _spare(world.a.building)
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    before = _state()
    response = a_client.post(
        _url(world.a.household), {"dwelling": target.pk, "occurred_on": future, "q": "302"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "日期不能晚于今天。" in html
    assert f'value="{future}"' in html
    assert f'name="dwelling" id="id_dwelling" value="{target.pk}"' in html
    assert 'id="id_q_keep" value="302"' in html and target.address in html
    assert _state() == before
    # An inhabited dwelling: refused next to the field; ticking "shared" then moves.
    reg.household_create(actor=None, dwelling=target)
    today = timezone.localdate().isoformat()
    before = _state()
    html = a_client.post(
        _url(world.a.household), {"dwelling": target.pk, "occurred_on": today}
    ).content.decode()
    assert "这套房屋已有其他住户。如确属合住，请勾选确认。" in html
    assert f'name="dwelling" id="id_dwelling" value="{target.pk}"' in html
    assert _state() == before
    # No dwelling chosen at all.
    html = a_client.post(_url(world.a.household), {"occurred_on": today}).content.decode()
    assert "请先在上面选择要搬入的房屋。" in html
    assert _state() == before
    response = a_client.post(
        _url(world.a.household), {"dwelling": target.pk, "occurred_on": today, "allow_shared": "on"}
    )
    assert response.status_code == 302
    assert Household.objects.get(pk=world.a.household.pk).dwelling_id == target.pk


def test_grid_b_household_and_dwelling_are_404(world: World, a_client: Client) -> None:
    today = timezone.localdate().isoformat()
    before = _state()
    b_target = _spare(world.b.building)
    assert a_client.get(_url(world.b.household)).status_code == 404
    response = a_client.post(
        _url(world.b.household), {"dwelling": _spare(world.a.building).pk, "occurred_on": today}
    )
    assert response.status_code == 404
    # Own household, a dwelling of grid B: as if that dwelling did not exist.
    response = a_client.post(
        _url(world.a.household), {"dwelling": b_target.pk, "occurred_on": today}
    )
    assert response.status_code == 404
    page = a_client.get(_url(world.a.household), {"q": "302", "to": b_target.pk}).content.decode()
    assert b_target.address not in page
    assert _state() == before


def test_community_head_moves_a_household_across_grids(world: World, head_client: Client) -> None:
    target = _spare(world.b.building)
    found = head_client.get(
        _url(world.a.household), {"q": "302"}, headers={"HX-Request": "true", "HX-Target": "found"}
    ).content.decode()
    assert target.address in found and _spare(world.a.building).address in found
    response = head_client.post(
        _url(world.a.household),
        {"dwelling": target.pk, "occurred_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=world.a.householder.pk).grid_id == world.b.grid.pk


def test_dissolved_household_is_sent_back_with_a_message(world: World, a_client: Client) -> None:
    reg.person_move_out(actor=world.a.worker, person=world.a.member)
    reg.person_move_out(actor=world.a.worker, person=world.a.householder)
    assert Household.objects.get(pk=world.a.household.pk).status == HouseholdStatus.DISSOLVED
    response = a_client.get(_url(world.a.household), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "workbench:household_detail", args=[world.a.household.pk]
    )
    assert "该户已注销，不能搬迁。" in response.content.decode()


def test_a_reader_who_may_not_change_gets_403(world: World) -> None:
    from linli.accounts.services import user_create
    from tests.workbench.conftest import client_for

    reader, _ = user_create(
        actor=None, username="dept", password=PASSWORD, role="department", area=world.community
    )
    client = client_for(reader)
    assert client.get(_url(world.a.household)).status_code == 403
