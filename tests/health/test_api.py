"""Health operations of the API: a batch of results and a vaccination, each stored once when
retried with the same Idempotency-Key; coverage reads; grid B stays invisible to grid A."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from linli.api.models import IdempotencyRecord
from linli.health import services as hs
from linli.health.models import PositiveAlert, TestRecord, Vaccination
from tests.api.conftest import ApiClient
from tests.factories import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def rnd(world: World) -> Any:
    return hs.round_open(
        actor=None, name="接口轮次", area=world.community, date=timezone.localdate(), sites=["s"]
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


def _batch(world: World, rnd: Any) -> dict[str, Any]:
    return {
        "round": rnd.pk,
        "results": [
            {"person": world.a.householder.pk, "result": "negative", "external_id": "L-1"},
            {"national_id": world.a.member.reveal_national_id(), "result": "positive"},
        ],
    }


def test_results_batch_with_the_same_key_is_stored_once_and_answers_the_same(
    world: World, rnd: Any, a_api: ApiClient
) -> None:
    body = _batch(world, rnd)
    first = _post(a_api, "/test-results", body, key="lab-1")
    assert first == (200, {"round": rnd.pk, "changed": 2, "unchanged": 0})
    again = _post(a_api, "/test-results", body, key="lab-1")
    assert again == first
    assert TestRecord.objects.count() == 2 and PositiveAlert.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    # Without a key a resend is still stored once (one record per person and round).
    assert _post(a_api, "/test-results", body) == (
        200,
        {"round": rnd.pk, "changed": 0, "unchanged": 2},
    )
    # The same key with a different body: 422.
    status, data = _post(a_api, "/test-results", {**body, "results": body["results"][:1]}, "lab-1")
    assert status == 422 and "Idempotency-Key" in data["detail"]


def test_results_batch_is_all_or_nothing_with_errors_per_item(
    world: World, rnd: Any, a_api: ApiClient
) -> None:
    body = _batch(world, rnd)
    body["results"].append({"national_id": world.b.householder_id_number, "result": "negative"})
    body["results"].append({"national_id": "110101199003077777", "result": "negative"})
    status, data = _post(a_api, "/test-results", body, key="lab-2")
    assert status == 422
    assert set(data["errors"]) == {"results.2", "results.3"}
    # Grid B's person answers like an unknown number.
    assert data["errors"]["results.2"] == ["Nobody in the register has this national ID number."]
    assert TestRecord.objects.count() == PositiveAlert.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0  # refusals are not stored
    # A person of grid B named by id: 404, like a missing id.
    b_body = {"round": rnd.pk, "results": [{"person": world.b.member.pk, "result": "negative"}]}
    assert _post(a_api, "/test-results", b_body)[0] == 404
    assert TestRecord.objects.count() == 0


def test_round_outside_scope_is_404(world: World, a_api: ApiClient) -> None:
    only_b = hs.round_open(
        actor=None, name="乙", area=world.b.grid, date=timezone.localdate(), sites=["s"]
    )
    body = {"round": only_b.pk, "results": [{"person": world.a.member.pk, "result": "negative"}]}
    assert _post(a_api, "/test-results", body)[0] == 404
    assert a_api.get(f"/test-rounds/{only_b.pk}/coverage").status == 404


def test_vaccination_created_then_replayed_then_conflict(world: World, a_api: ApiClient) -> None:
    body = {
        "national_id": world.a.householder_id_number,
        "dose": 1,
        "product": "科兴",
        "vaccinated_on": "2021-04-01",
    }
    status, data = _post(a_api, "/vaccinations", body, key="v-1")
    assert status == 201 and data["created"] is True and data["dose"] == 1
    assert _post(a_api, "/vaccinations", body, key="v-1") == (status, data)
    status2, data2 = _post(a_api, "/vaccinations", body)
    assert status2 == 200 and data2["created"] is False and data2["id"] == data["id"]
    status3, data3 = _post(a_api, "/vaccinations", {**body, "product": "北京生物"})
    assert status3 == 422 and "dose" in data3["errors"]
    assert Vaccination.objects.count() == 1
    b_body = {**body, "national_id": "", "person": world.b.member.pk}
    assert _post(a_api, "/vaccinations", b_body)[0] == 404


def test_coverage_reads_are_exact_and_scoped(
    world: World, rnd: Any, a_api: ApiClient, b_api: ApiClient
) -> None:
    hs.test_result_record(actor=None, round=rnd, person=world.a.householder, result="negative")
    hs.vaccination_record(
        actor=None,
        person=world.a.householder,
        dose=1,
        product="x",
        vaccinated_on=dt.date(2021, 1, 1),
    )
    cov = a_api.get(f"/test-rounds/{rnd.pk}/coverage")
    assert cov.status == 200
    assert cov.data["totals"] == {
        "people": 2,
        "sampled": 1,
        "negative": 1,
        "positive": 0,
        "pending": 0,
        "missing": 1,
    }
    assert [r["id"] for r in cov.data["rows"]] == [world.a.grid.pk]
    assert b_api.get(f"/test-rounds/{rnd.pk}/coverage").data["totals"]["negative"] == 0
    vac = a_api.get("/vaccination-coverage")
    assert vac.data["count"] == 1
    (row,) = vac.data["items"]
    assert (row["grid_id"], row["people"], row["dose1"], row["missing"]) == (
        world.a.grid.pk,
        2,
        1,
        1,
    )
    assert a_api.get("/vaccination-coverage", area=world.b.grid.code).data["count"] == 0
    rounds = a_api.get("/test-rounds")
    assert [r["id"] for r in rounds.data["items"]] == [rnd.pk]


def test_department_without_health_permission_is_refused(
    world: World, rnd: Any, dept_api: ApiClient
) -> None:
    assert dept_api.get("/test-rounds").status == 403
    assert dept_api.get("/vaccination-coverage").status == 403
    assert _post(dept_api, "/test-results", _batch(world, rnd))[0] == 403
    assert TestRecord.objects.count() == 0
