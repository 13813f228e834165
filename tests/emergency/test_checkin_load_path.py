"""The check-in API's hot path (issue 4, decision 0038): what the load benchmark optimised
stays true — a bounded number of queries per check-in, and a duplicate key that loses on the
database's own unique constraint still rolls its work back and answers the stored body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection

from linli.api.models import IdempotencyRecord
from linli.audit.models import AuditEntry
from linli.audit.services import audit_verify_chain
from linli.emergency import services as em
from linli.emergency.models import CheckIn, QuarantineEvent
from tests.api.conftest import ApiClient
from tests.factories import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def quarantine(world: World) -> Any:
    event = em.event_declare(
        actor=None,
        name="压测演练",
        kind="epidemic",
        areas=[world.community],
        measures=["quarantine", "checkins"],
    )
    return em.quarantine_start(
        actor=None, event=event, person=world.a.householder, kind="home", reason="密接"
    )


def _post(api: ApiClient, body: Any, key: str) -> tuple[int, Any]:
    response = api.client.post(
        "/api/v1/check-ins",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    return response.status_code, response.json()


# Queries of one check-in with a key (inside the test's transaction the outer BEGIN/COMMIT are
# a savepoint and its release; the server counts the same).
# PostgreSQL, the common check-in in one trip (decision 0048): the token with its user and
# role bindings, then one pipeline of the stored answer's look-up, the measure's lock and the
# statement that writes everything (here inside a savepoint and its release) — one round trip
# after the token's. Before 0048 it was 11, before 0043 16, before 0038 22.
# SQLite, the full path: the token, the measure, the key, begin, the locked measure with its
# grid, check-in, timeline, missed-day task, the chain's head, audit entry, record, commit.
BUDGET = {"postgresql": 6, "sqlite": 12}


def test_a_check_in_stays_within_its_query_budget(
    quarantine: Any, a_api: ApiClient, django_assert_num_queries: Any
) -> None:
    body = {"quarantine": quarantine.pk, "temperature": "36.6", "symptoms": []}
    _post(a_api, body, key="warm")  # the first request may load the URLconf and caches
    with django_assert_num_queries(BUDGET[connection.vendor]):
        assert _post(a_api, body, key="budget")[0] == 201
    assert CheckIn.objects.count() == 2 and IdempotencyRecord.objects.count() == 2
    assert AuditEntry.objects.filter(object_type="checkin").count() == 2
    assert audit_verify_chain()[1] is None


def test_a_duplicate_key_losing_on_the_constraint_rolls_back_and_replays(
    quarantine: Any, a_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rival committed the key after this copy looked for it: the real unique constraint
    refuses this copy's record, its check-in, timeline and audit entry are undone, and it
    answers the rival's stored body. (A fever, so that the full path runs on PostgreSQL too;
    tests/emergency/test_checkin_one_trip.py has the same for the one-trip path.)"""
    body = {"quarantine": quarantine.pk, "temperature": "37.9", "symptoms": []}
    first = _post(a_api, body, key="dup")
    assert first[0] == 201
    before = (CheckIn.objects.count(), QuarantineEvent.objects.count(), AuditEntry.objects.count())
    # This copy's look-up ran before the rival's commit: it saw nothing.
    monkeypatch.setattr(
        IdempotencyRecord.objects, "filter", lambda **kw: IdempotencyRecord.objects.none()
    )
    assert _post(a_api, body, key="dup") == first
    after = (CheckIn.objects.count(), QuarantineEvent.objects.count(), AuditEntry.objects.count())
    assert after == before and IdempotencyRecord.objects.count() == 1
    assert audit_verify_chain()[1] is None
