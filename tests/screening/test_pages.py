"""Screening pages: the campaign form, the board per grid, the grid worker's phone list."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.audit.models import AuditEntry
from linli.screening.models import ScreeningCampaign, ScreeningTarget
from tests.factories import World, make_world
from tests.screening.factories import campaign_for_list, due, matched_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def _client(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_head_starts_a_campaign_from_a_building(world: World) -> None:
    c = _client(world.head)
    url = reverse("screening:campaign_create")
    r = c.post(url, {"name": "", "area": world.community.pk, "source": "building"})
    assert r.status_code == 200
    r = c.post(
        url,
        {
            "name": "一号楼排查",
            "area": world.community.pk,
            "source": "building",
            "building": world.a.building.pk,
            "due_on": due().isoformat(),
        },
    )
    campaign = ScreeningCampaign.objects.get()
    assert r.status_code == 302 and campaign.targets.count() == 2
    board = c.get(reverse("screening:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'data-count="pending" class="text-danger fw-semibold">2<' in board
    assert world.a.householder.name in board


def test_grid_worker_works_targets_from_the_phone_page(world: World) -> None:
    wl = matched_list(world.community, [world.a.householder, world.b.member], unfound=0)
    campaign = campaign_for_list(world, wl)
    target = campaign.targets.get(person=world.a.householder)
    c = _client(world.a.worker)
    page = c.get(reverse("screening:my_targets")).content.decode()
    assert world.a.householder.name in page and world.b.member.name not in page
    assert 'data-outcome="reached"' in page
    # The call button reveals the number to the assignee only, audited.
    r = c.post(reverse("screening:target_call", args=[target.pk]))
    assert f'href="tel:{world.a.householder_phone}"' in r.content.decode()
    assert AuditEntry.objects.filter(action="reveal", field="phone").count() == 1
    r = c.post(
        reverse("screening:target_record", args=[target.pk]),
        {"outcome": "reached", "note": "在家", "client_key": "x", "back": "mine"},
    )
    assert r.status_code == 302 and r["Location"] == reverse("screening:my_targets")
    target.refresh_from_db()
    assert target.status == "reached"
    page = c.get(reverse("screening:my_targets")).content.decode()
    assert "没有待排查的人了" in page
    # The grid worker sees the community's campaign, only with their grid's row.
    board = c.get(reverse("screening:campaign_detail", args=[campaign.pk])).content.decode()
    assert world.a.grid.name in board and world.b.member.name not in board
    assert f'data-grid="{world.b.grid.pk}"' not in board


def test_the_head_may_not_reveal_a_target_phone(world: World) -> None:
    wl = matched_list(world.community, [world.a.householder], unfound=0)
    target = campaign_for_list(world, wl).targets.get()
    r = _client(world.head).post(reverse("screening:target_call", args=[target.pk]))
    assert r.status_code == 403
    assert ScreeningTarget.objects.get().status == "pending"
