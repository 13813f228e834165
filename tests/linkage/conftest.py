"""Fixtures of the linkage tests: duplicates typed into the two-grid world."""

from __future__ import annotations

from typing import Any

import pytest

from linli.linkage.models import MergeCandidate
from linli.linkage.services import candidates_find
from linli.register import services as reg
from tests.factories import World


def make_duplicates(world: World) -> dict[str, Any]:
    """Grid A's householder typed in again (homophone name, same phone, no ID), and grid B's
    householder typed into grid A (a cross-grid pair); then the dedupe run queues them."""
    dup_a = reg.person_create(
        actor=None,
        name="张建国",
        phone=world.a.householder_phone,
        grid=world.a.grid,
        source="police",
    )
    dup_b = reg.person_create(
        actor=None,
        name="李健国",
        phone=world.b.householder_phone,
        grid=world.a.grid,
        source="police",
    )
    candidates_find(actor=None, area=world.community)
    return {
        "dup_a": dup_a,
        "dup_b": dup_b,
        "pair_a": MergeCandidate.objects.get(left=world.a.householder, right=dup_a),
        "pair_ab": MergeCandidate.objects.get(left=world.b.householder, right=dup_b),
    }


@pytest.fixture
def dups(world: World) -> dict[str, Any]:
    return make_duplicates(world)
