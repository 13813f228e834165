"""Redemptions sent at the same moment: the last unit of stock goes once, the same request
redeems once, and the balance never goes below zero."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection

from linli.accounts.models import User
from linli.volunteers import services as svc
from linli.volunteers.models import PointsEntry, Redemption, Reward
from tests.factories import World, make_world
from tests.volunteers.factories import activity, approved_volunteer, attended, reward, rules


def _busy() -> tuple[type[Exception], ...]:
    """What a request that lost the race may see besides a clear refusal.

    PostgreSQL makes the loser wait on the row locks and then answers it properly. The test
    database on SQLite is an in-memory shared cache, which answers "table is locked" at once
    instead of waiting (a file database, as deployed, waits: IMMEDIATE transactions and a busy
    timeout); either way the loser changes nothing, which is what these tests hold.
    """
    return (OperationalError,) if connection.vendor == "sqlite" else ()


@pytest.fixture
def live(transactional_db: None) -> World:
    return make_world()


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at the same instant; return results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # the outcome is what the test checks
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _volunteer_with_points(w: World) -> User:
    rules(w.community)
    v = approved_volunteer(w, w.a.householder)
    s = attended(v, activity(w.a.grid, hours=3))
    assert v.user is not None
    svc.claim_review(
        actor=None, claim=svc.claim_for_signup(actor=v.user, signup=s, note="x"), approve=True
    )
    return User.objects.get(pk=v.user.pk)


def test_last_unit_of_stock_goes_once(live: World) -> None:
    user = _volunteer_with_points(live)  # 30 points
    rw = reward(live.community, price=10, stock=1)
    results = _together(
        [
            lambda: svc.redemption_create(
                actor=User.objects.get(pk=user.pk), reward=rw, request_key="a"
            ),
            lambda: svc.redemption_create(
                actor=User.objects.get(pk=user.pk), reward=rw, request_key="b"
            ),
        ]
    )
    made = [r for r in results if isinstance(r, Redemption)]
    refused = [r for r in results if isinstance(r, (ValidationError, *_busy()))]
    assert (len(made), len(refused)) == (1, 1), results
    assert Reward.objects.get().stock == 0
    assert Redemption.objects.count() == 1
    assert sorted(PointsEntry.objects.values_list("delta", flat=True)) == [-10, 30]


def test_the_same_request_twice_at_once_redeems_once(live: World) -> None:
    user = _volunteer_with_points(live)
    rw = reward(live.community, price=10, stock=5)
    results = _together(
        [
            lambda: svc.redemption_create(
                actor=User.objects.get(pk=user.pk), reward=rw, request_key="same"
            ),
            lambda: svc.redemption_create(
                actor=User.objects.get(pk=user.pk), reward=rw, request_key="same"
            ),
        ]
    )
    made = [r for r in results if isinstance(r, Redemption)]
    assert all(isinstance(r, (Redemption, *_busy())) for r in results), results
    assert len({r.pk for r in made}) == 1
    if connection.vendor == "postgresql":
        assert len(made) == 2  # the second waited and was given the first's redemption
    assert (Redemption.objects.count(), Reward.objects.get().stock) == (1, 4)
    assert sorted(PointsEntry.objects.values_list("delta", flat=True)) == [-10, 30]


def test_balance_cannot_be_spent_twice(live: World) -> None:
    user = _volunteer_with_points(live)  # 30 points
    first = reward(live.community, price=20, stock=5, name="电饭煲")
    second = reward(live.community, price=20, stock=5, name="台灯")
    results = _together(
        [
            lambda: svc.redemption_create(
                actor=User.objects.get(pk=user.pk), reward=first, request_key="a"
            ),
            lambda: svc.redemption_create(
                actor=User.objects.get(pk=user.pk), reward=second, request_key="b"
            ),
        ]
    )
    assert sum(isinstance(r, Redemption) for r in results) == 1, results
    assert all(isinstance(r, (Redemption, ValidationError, *_busy())) for r in results)
    assert sum(PointsEntry.objects.values_list("delta", flat=True)) == 10
