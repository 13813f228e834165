"""Emergency operations of the API: scoped reads, and writes that a retry with the same
Idempotency-Key stores once and answers the same."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from linli.api.models import IdempotencyRecord
from linli.emergency import services as em
from linli.emergency.models import Arrival, CheckIn, FollowUpTask, Quarantine
from tests.api.conftest import ApiClient
from tests.emergency.factories import make_risk
from tests.factories import World, make_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(world: World) -> Any:
    return em.event_declare(
        actor=None,
        name="接口演练",
        kind="epidemic",
        areas=[world.community],
        measures=["arrivals", "quarantine", "checkins"],
    )


def _post(api: ApiClient, path: str, body: Any, key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api.client.post(
        "/api/v1" + path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
        HTTP_ACCEPT_LANGUAGE="en",
        **headers,
    )
    return response.status_code, response.json()


def _arrival_body(world: World, event: Any, **kw: Any) -> dict[str, Any]:
    body = {
        "event": event.pk,
        "grid": world.a.grid.code,
        "name": "孙远道",
        "phone": make_phone(),
        "arrived_on": str(timezone.localdate()),
        "travel_mode": "plane",
        "from_text": "外省",
    }
    body.update(kw)
    return body


def test_arrival_from_risk_area_starts_the_measure(
    world: World, event: Any, a_api: ApiClient
) -> None:
    risk = make_risk(event)
    status, data = _post(a_api, "/arrivals", _arrival_body(world, event, risk_area=risk.pk))
    q = Quarantine.objects.get()
    assert status == 201
    assert (data["decision"], data["quarantine_id"], data["grid_id"], data["coming_from"]) == (
        "quarantine",
        q.pk,
        world.a.grid.pk,
        "甲市乙区",
    )
    assert data["phone_masked"].count("*") == 4


def test_retry_with_the_same_key_is_stored_once_and_answers_the_same(
    world: World, event: Any, a_api: ApiClient
) -> None:
    body = _arrival_body(world, event)
    first = _post(a_api, "/arrivals", body, key="k-1")
    again = _post(a_api, "/arrivals", body, key="k-1")
    assert first == again and first[0] == 201
    assert Arrival.objects.count() == 1 and IdempotencyRecord.objects.count() == 1
    # The same key with another body is refused and changes nothing.
    status, data = _post(a_api, "/arrivals", {**body, "name": "别人"}, key="k-1")
    assert status == 422 and "different request" in data["detail"]
    assert Arrival.objects.count() == 1
    # Keys belong to their caller: B's worker may use "k-1" for their own request.
    assert IdempotencyRecord.objects.get().user == world.a.worker


def test_check_in_retry_with_key_stores_once_without_key_twice(
    world: World, event: Any, a_api: ApiClient
) -> None:
    q = em.quarantine_start(
        actor=None, event=event, person=world.a.householder, kind="home", reason="密接"
    )
    body = {"quarantine": q.pk, "temperature": "38.0", "symptoms": ["cough"]}
    first = _post(a_api, "/check-ins", body, key="c-1")
    assert first[0] == 201 and first[1]["alert"] is True
    assert _post(a_api, "/check-ins", body, key="c-1") == first
    assert CheckIn.objects.count() == 1 and FollowUpTask.objects.count() == 1
    assert _post(a_api, "/check-ins", body)[0] == 201
    assert CheckIn.objects.count() == 2


def test_refused_request_is_not_stored_and_can_be_retried(
    world: World, event: Any, a_api: ApiClient
) -> None:
    q = em.quarantine_start(
        actor=None, event=event, person=world.a.householder, kind="home", reason="密接"
    )
    status, data = _post(a_api, "/check-ins", {"quarantine": q.pk, "temperature": "50"}, key="x")
    assert status == 422 and "temperature" in data["errors"]
    assert IdempotencyRecord.objects.count() == 0
    assert (
        _post(a_api, "/check-ins", {"quarantine": q.pk, "temperature": "36.5"}, key="x")[0] == 201
    )


def test_a_racing_duplicate_rolls_back_and_answers_the_winner(
    world: World, event: Any, a_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two copies in flight: the second stores its record first; the first's work is undone."""
    from django.db import IntegrityError

    body = _arrival_body(world, event)
    # The rival's answer (a real one, stored under another key here).
    winner = _post(a_api, "/arrivals", _arrival_body(world, event, name="赢家"), key="w")[1]
    stored: dict[str, Any] = {}

    def unique_violation(**kw: Any) -> Any:
        # What the database answers when the rival committed the same key a moment ago.
        stored.update(kw, body=winner)
        raise IntegrityError("unique_idempotency_key")

    def rival(**kw: Any) -> IdempotencyRecord:
        return IdempotencyRecord(**stored)

    monkeypatch.setattr(IdempotencyRecord.objects, "create", unique_violation)
    monkeypatch.setattr(IdempotencyRecord.objects, "get", rival)
    status, data = _post(a_api, "/arrivals", body, key="race")
    assert (status, data) == (201, winner)
    assert list(Arrival.objects.values_list("name", flat=True)) == ["赢家"]


def test_reads_are_scoped_and_need_the_permission(
    world: World, event: Any, a_api: ApiClient, b_api: ApiClient, dept_api: ApiClient
) -> None:
    _post(a_api, "/arrivals", _arrival_body(world, event))
    assert [i["grid_id"] for i in a_api.get("/arrivals").data["items"]] == [world.a.grid.pk]
    assert b_api.get("/arrivals").data["count"] == 0
    assert [e["id"] for e in b_api.get("/emergency-events").data["items"]] == [event.pk]
    assert dept_api.get("/quarantines").status == 403


def test_stored_answers_are_purged_after_a_day(world: World, event: Any, a_api: ApiClient) -> None:
    import datetime as dt

    from linli.api.idempotency import idempotency_purge

    _post(a_api, "/arrivals", _arrival_body(world, event), key="old")
    record = IdempotencyRecord.objects.get()
    now = record.created_at + dt.timedelta(hours=23)
    assert idempotency_purge(now=now) == 0
    assert idempotency_purge(now=now + dt.timedelta(hours=2)) == 1
    assert IdempotencyRecord.objects.count() == 0 and Arrival.objects.count() == 1
