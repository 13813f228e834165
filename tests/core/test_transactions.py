"""service_atomic: a savepoint inside a caller's transaction, none inside all_or_nothing
(decision 0043)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from linli.areas.models import Area
from linli.core.transactions import all_or_nothing, service_atomic

pytestmark = pytest.mark.django_db


def _fail() -> None:
    with service_atomic():
        Area.objects.count()
        raise ValueError("refused")


def test_outside_all_or_nothing_a_refusal_leaves_the_callers_transaction_usable() -> None:
    with transaction.atomic():
        with pytest.raises(ValueError):
            _fail()
        assert Area.objects.count() >= 0  # still usable: the service rolled back its savepoint


def test_inside_all_or_nothing_no_savepoint_is_taken(
    django_assert_num_queries: Any,
) -> None:
    # Inside: the count only, no SAVEPOINT and no RELEASE.
    with all_or_nothing(), django_assert_num_queries(1), service_atomic():
        Area.objects.count()
    # Elsewhere: SAVEPOINT, the count, RELEASE.
    with transaction.atomic(), django_assert_num_queries(3), service_atomic():
        Area.objects.count()


def test_a_failure_inside_all_or_nothing_undoes_the_whole_block() -> None:
    before = Area.objects.count()
    with pytest.raises(ValueError), all_or_nothing():
        Area.objects.create(name="临时", code="T9", kind="city", path="/t9/", depth=0)
        _fail()
    assert Area.objects.count() == before
    assert not connection.needs_rollback
