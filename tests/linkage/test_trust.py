"""Trust rules: which value a merge keeps when two records disagree."""

from __future__ import annotations

import pytest

from linli.linkage import services as svc
from linli.linkage.models import SourceTrust, TrustPolicy
from linli.linkage.trust import Decision, TrustRules, resolve
from linli.register import services as reg
from linli.register.models import Person
from tests.factories import World

pytestmark = pytest.mark.django_db


def _pair(world: World) -> tuple[Person, Person]:
    """Two records of one man: the police list (older) and the civil-affairs list (newer)."""
    police = reg.person_create(
        actor=None, name="王晓明", phone="13911112222", grid=world.a.grid, source="police"
    )
    civil = reg.person_create(
        actor=None, name="王小明", phone="13933334444", grid=world.a.grid, source="civil"
    )
    police.provenance["phone"]["confirmed_at"] = "2026-01-01T00:00:00+00:00"
    police.provenance["name"]["confirmed_at"] = "2026-01-01T00:00:00+00:00"
    civil.provenance["phone"]["confirmed_at"] = "2026-06-01T00:00:00+00:00"
    civil.provenance["name"]["confirmed_at"] = "2026-06-01T00:00:00+00:00"
    Person.objects.filter(pk=police.pk).update(provenance=police.provenance)
    Person.objects.filter(pk=civil.pk).update(provenance=civil.provenance)
    return police, civil


def _by_group(decisions: list[Decision]) -> dict[str, tuple[str | None, str]]:
    return {d.group: (d.choice, d.why) for d in decisions}


def test_without_rules_conflicts_are_undecided(world: World) -> None:
    police, civil = _pair(world)
    assert _by_group(resolve(police, civil)) == {
        "name": (None, "undecided"),
        "identity": ("keep", "same"),
        "contact": (None, "undecided"),
        "residency": ("keep", "same"),
        "notes": ("keep", "same"),
    }


def test_newest_wins_per_group(world: World) -> None:
    police, civil = _pair(world)
    TrustPolicy.objects.create(area=world.community, field_group="contact", policy="newest")
    got = _by_group(resolve(police, civil))
    assert got["contact"] == ("absorb", "newest")
    assert got["name"] == (None, "undecided")  # no policy for names


def test_trusted_source_wins_and_deeper_area_overrides(world: World) -> None:
    police, civil = _pair(world)
    TrustPolicy.objects.create(area=world.community, field_group="name", policy="trusted")
    SourceTrust.objects.create(area=world.community, source="police", rank=9)
    SourceTrust.objects.create(area=world.community, source="civil", rank=5)
    assert _by_group(resolve(police, civil))["name"] == ("keep", "trusted")
    # The grid ranks civil affairs higher for names: the deeper rule wins.
    SourceTrust.objects.create(area=world.a.grid, source="civil", field_group="name", rank=10)
    assert _by_group(resolve(police, civil))["name"] == ("absorb", "trusted")
    # Grid B's rules do not apply to grid A's persons.
    SourceTrust.objects.create(area=world.b.grid, source="police", field_group="name", rank=99)
    assert TrustRules.for_grid(world.a.grid).rank("police", "name") == 9


def test_equal_ranks_stay_undecided(world: World) -> None:
    police, civil = _pair(world)
    TrustPolicy.objects.create(area=world.community, field_group="contact", policy="trusted")
    SourceTrust.objects.create(area=world.community, source="police", rank=5)
    SourceTrust.objects.create(area=world.community, source="civil", rank=5)
    assert _by_group(resolve(police, civil))["contact"] == (None, "undecided")


def test_merge_applies_the_rules(world: World) -> None:
    police, civil = _pair(world)
    TrustPolicy.objects.create(area=world.community, field_group="contact", policy="newest")
    merge = svc.person_merge(actor=None, keep=police, absorb=civil, reason="同一人")
    police.refresh_from_db()
    civil.refresh_from_db()
    assert police.phone_tail == "4444" and civil.phone_tail == "2222"
    assert police.provenance["phone"]["source"] == "civil"
    assert police.name == "王晓明"
    assert merge.decisions["name"] == {"choice": "keep", "why": "worker_default"}
    assert merge.decisions["contact"] == {"choice": "absorb", "why": "newest"}
