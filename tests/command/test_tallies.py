"""Wide command-view pages sum background tallies; they must equal a live count."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.command.models import AreaTally
from linli.command.selectors import command_counts
from linli.command.tallies import tallies_refresh
from linli.register import services as reg
from tests.factories import World

pytestmark = pytest.mark.django_db


def _without_time(counts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in counts.items() if k != "as_of"}


@pytest.mark.parametrize("who", ["head", "admin", "worker_a"])
def test_tallies_equal_live_counts(world: World, who: str, monkeypatch: pytest.MonkeyPatch) -> None:
    user = {"head": world.head, "admin": world.admin, "worker_a": world.a.worker}[who]
    reg.person_move_out(actor=None, person=world.b.member)  # something not trivially symmetric
    live = command_counts(user=user)
    assert live["as_of"] is None
    assert tallies_refresh() == 6  # city, district, subdistrict, community, two grids
    monkeypatch.setattr("linli.core.scoping.WIDE_SCOPE_GRIDS", 0)
    wide = command_counts(user=user)
    assert wide["as_of"] is not None
    assert _without_time(wide) == _without_time(live)


def test_tallies_respect_scope(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tallies_refresh()
    monkeypatch.setattr("linli.core.scoping.WIDE_SCOPE_GRIDS", 0)
    counts = command_counts(user=world.a.worker)
    assert counts["as_of"] is not None
    assert counts["persons"] == 2 and counts["households"] == 1


def test_missing_tally_falls_back_to_live(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tallies_refresh()
    AreaTally.objects.filter(area=world.b.grid).delete()
    monkeypatch.setattr("linli.core.scoping.WIDE_SCOPE_GRIDS", 0)
    counts = command_counts(user=world.head)
    assert counts["as_of"] is None and counts["persons"] == 4


def test_page_says_when_counts_were_taken(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tallies_refresh()
    c = Client()
    c.force_login(world.head)
    assert "刚刚统计" in c.get(reverse("command:home")).content.decode()
    monkeypatch.setattr("linli.core.scoping.WIDE_SCOPE_GRIDS", 0)
    assert "统计截至" in c.get(reverse("command:home")).content.decode()


def test_workbench_tree_counts_from_tallies_equal_live(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linli.workbench.selectors import counts_by_area

    areas = [world.a.grid, world.b.grid]
    live = counts_by_area(world.head, areas)
    tallies_refresh()
    monkeypatch.setattr("linli.core.scoping.WIDE_SCOPE_GRIDS", 0)
    assert counts_by_area(world.head, areas) == live
    assert counts_by_area(world.admin, [world.community]) == {
        world.community.pk: {"persons": 4, "households": 2}
    }


def test_tallies_of_nodes_outside_scope_are_never_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linli.workbench.selectors import counts_by_area

    tallies_refresh()
    monkeypatch.setattr("linli.core.scoping.WIDE_SCOPE_GRIDS", 0)
    # A grid worker handed the community (not theirs to see whole) gets zeros, not its tally.
    assert counts_by_area(world.a.worker, [world.community, world.b.grid]) == {
        world.community.pk: {"persons": 0, "households": 0},
        world.b.grid.pk: {"persons": 0, "households": 0},
    }
