"""The scoping layer: a grant covers its node and everything below, nothing beside it."""

from __future__ import annotations

from typing import Any

import pytest

from linli.accounts.models import User
from linli.accounts.roles import Perm
from linli.accounts.services import binding_grant, binding_revoke
from linli.areas.models import Area
from linli.core.scoping import scope_for
from linli.register.models import (
    Building,
    Dwelling,
    Entrance,
    Estate,
    Household,
    Membership,
    Person,
    RegisterEvent,
)
from tests.factories import World

pytestmark = pytest.mark.django_db

SCOPED = [Building, Dwelling, Entrance, Household, Membership, Person, RegisterEvent]


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_grid_worker_sees_only_own_grid(world: World, model: type) -> None:
    mine = model.objects.restrict(world.a.worker)
    assert mine.exists()
    grid_of = {
        Building: "grid",
        Dwelling: "grid",
        Entrance: "building__grid",
        Household: "grid",
        Membership: "household__grid",
        Person: "grid",
        RegisterEvent: "grid",
    }[model]
    assert set(mine.values_list(grid_of, flat=True)) == {world.a.grid.pk}
    assert model.objects.restrict(world.head).count() == model.objects.count()


def test_estate_visible_through_buildings_and_community(world: World) -> None:
    assert list(Estate.objects.restrict(world.a.worker)) == list(Estate.objects.all())
    assert Estate.objects.restrict(world.head).count() == 1


def test_areas_are_subtree_only(world: World) -> None:
    assert list(Area.objects.restrict(world.a.worker)) == [world.a.grid]
    assert set(Area.objects.restrict(world.head)) == {world.community, world.a.grid, world.b.grid}
    assert world.district in Area.objects.restrict(world.admin)
    assert world.city not in Area.objects.restrict(world.admin)


def test_permissions_follow_roles(world: World) -> None:
    leader = User.objects.create(username="lz")
    binding_grant(actor=None, user=leader, role="building_leader", area=world.a.grid)
    assert Person.objects.restrict(leader).count() == 2
    assert scope_for(leader, Perm.REVEAL_PII).is_empty
    assert scope_for(leader, Perm.CHANGE_REGISTER).is_empty


def test_anonymous_and_unbound_users_see_nothing(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not Person.objects.restrict(AnonymousUser()).exists()
    loner = User.objects.create(username="loner")
    assert not Person.objects.restrict(loner).exists()
    inactive = world.a.worker
    inactive.is_active = False
    inactive.save()
    assert not Person.objects.restrict(User.objects.get(pk=inactive.pk)).exists()


def test_revoked_binding_stops_access(world: World) -> None:
    binding = world.a.worker.role_bindings.get()
    binding_revoke(actor=None, binding=binding)
    user = User.objects.get(pk=world.a.worker.pk)
    assert not Person.objects.restrict(user).exists()


def test_two_bindings_union(world: World) -> None:
    binding_grant(actor=None, user=world.a.worker, role="grid_worker", area=world.b.grid)
    user = User.objects.get(pk=world.a.worker.pk)
    assert Person.objects.restrict(user).count() == 4
    assert scope_for(user, Perm.VIEW_REGISTER).paths == tuple(
        sorted([world.a.grid.path, world.b.grid.path])
    )


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_wide_scope_filter_selects_the_same_rows(
    world: World, model: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = set(model.objects.restrict(world.head).values_list("pk", flat=True))
    narrow_a = set(model.objects.restrict(world.a.worker).values_list("pk", flat=True))
    monkeypatch.setattr("linli.core.scoping.WIDE_SCOPE_GRIDS", 0)
    head = User.objects.get(pk=world.head.pk)
    worker = User.objects.get(pk=world.a.worker.pk)
    assert scope_for(head, Perm.VIEW_REGISTER).is_wide
    assert set(model.objects.restrict(head).values_list("pk", flat=True)) == narrow
    assert set(model.objects.restrict(worker).values_list("pk", flat=True)) == narrow_a


def test_a_grid_scope_is_narrow_without_counting(
    world: World, django_assert_num_queries: Any
) -> None:
    """A grid worker's scope (roots that are grids) is known narrow from its bindings alone;
    wider scopes still count their grids."""
    worker = User.objects.get(pk=world.a.worker.pk)
    head = User.objects.get(pk=world.head.pk)
    worker_scope = scope_for(worker, Perm.VIEW_REGISTER)
    head_scope = scope_for(head, Perm.VIEW_REGISTER)
    assert worker_scope.grids_only and not head_scope.grids_only
    with django_assert_num_queries(0):
        assert worker_scope.is_wide is False
    with django_assert_num_queries(1):
        assert head_scope.is_wide is False  # the test community has two grids
