"""The passes API: a gate scan retried with the same Idempotency-Key is stored once and answers
the same; the list, the pass check and health codes."""

from __future__ import annotations

from typing import Any

import pytest

from linli.accounts.services import token_issue
from linli.passes import services as ps
from linli.passes.models import GateScan, HealthCode
from tests.api.conftest import API, ApiClient
from tests.passes.conftest import PassWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(pw: PassWorld) -> ApiClient:
    return ApiClient(token_issue(actor=None, user=pw.w.a.worker))


def _post_scan(api: ApiClient, body: dict[str, Any], key: str | None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api.client.post(
        API + "/gate-scans",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
        **headers,
    )
    return response.status_code, response.json()


def test_scan_retried_is_stored_once(pw: PassWorld, api: ApiClient) -> None:
    ps.health_code_set(actor=pw.w.a.worker, person=pw.w.a.member, colour="yellow")
    p = ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.a.member)
    body = {
        "checkpoint": pw.gate_a.pk,
        "token": ps.pass_token(p),
        "direction": "in",
        "client_id": "phone-1-0001",
        "offline": True,
    }
    first = _post_scan(api, body, "key-1")
    again = _post_scan(api, body, "key-1")
    assert first[0] == 201 and again == first
    assert first[1]["result"] == "ok" and first[1]["health_code"] == "yellow"
    assert first[1]["holder_masked"] == "张*A" and first[1]["offline"] is True
    # Another key but the same client id: the scan stored the first time, answered 200.
    status, other = _post_scan(api, body, "key-2")
    assert (status, other["id"]) == (200, first[1]["id"])
    # The same key with another body is refused.
    status, bad = _post_scan(api, {**body, "direction": "out"}, "key-1")
    assert status == 422 and "Idempotency-Key" in bad["detail"]
    assert GateScan.objects.count() == 1


def test_scan_errors(pw: PassWorld, api: ApiClient) -> None:
    body = {"checkpoint": pw.gate_a.pk, "token": "LP1.x.y", "direction": "in", "client_id": ""}
    status, answer = _post_scan(api, body, None)
    assert status == 422 and "client_id" in answer["errors"]
    status, answer = _post_scan(api, {**body, "client_id": "c"}, None)
    assert (status, answer["result"], answer["reason"]) == (201, "refused", "malformed")
    status, _ = _post_scan(api, {**body, "checkpoint": pw.gate_b.pk, "client_id": "d"}, None)
    assert status == 404


def test_scan_list_and_verify(pw: PassWorld, api: ApiClient) -> None:
    visitor = pw.visitor()
    token = ps.pass_token(visitor)
    ok = api.post("/passes/verify", {"token": token, "checkpoint": pw.gate_a.pk})
    assert ok.status == 200 and ok.data["ok"] and ok.data["pass_id"] == visitor.pk
    ps.pass_revoke(actor=pw.w.a.worker, access_pass=visitor, reason="取消")
    refused = api.post("/passes/verify", {"token": token, "checkpoint": pw.gate_a.pk})
    assert (refused.data["ok"], refused.data["reason"]) == (False, "revoked")
    assert GateScan.objects.count() == 0  # a check is not a scan
    ps.gate_scan_record(
        actor=pw.w.a.worker, checkpoint=pw.gate_a, token=token, direction="out", client_id="z"
    )
    page = api.get("/gate-scans", checkpoint=pw.gate_a.pk)
    assert page.data["count"] == 1
    assert page.data["items"][0]["reason"] == "revoked"
    assert api.get("/gate-scans", result="ok").data["count"] == 0


def test_health_code_set(pw: PassWorld, api: ApiClient) -> None:
    answer = api.post(
        "/health-codes", {"person": pw.w.a.member.pk, "colour": "red", "source": "卫健委"}
    )
    assert answer.status == 200 and answer.data["colour"] == "red"
    assert HealthCode.objects.get(person=pw.w.a.member).source == "卫健委"
    bad = api.post("/health-codes", {"person": pw.w.a.member.pk, "colour": "blue"})
    assert bad.status == 422
    assert api.post("/health-codes", {"person": pw.w.b.member.pk, "colour": "red"}).status == 404


def test_a_department_sets_health_codes_in_its_district_only(pw: PassWorld) -> None:
    """The health department's system pushes colours with a department token: allowed for the
    people of its district, 404 (and nothing written) for anyone in another district; it gets
    nothing else of passes."""
    from linli.accounts.services import user_create
    from linli.areas.models import AreaKind
    from linli.register import services as reg
    from tests.factories import PASSWORD, _grid_world, make_area

    w = pw.w
    district = make_area(AreaKind.DISTRICT, "T102", "邻区", w.city)
    sub = make_area(AreaKind.SUBDISTRICT, "T102001", "邻街道", district)
    community = make_area(AreaKind.COMMUNITY, "T102001001", "邻社区", sub)
    estate = reg.estate_create(actor=None, community=community, name="邻小区")
    other = _grid_world(community, estate, "C", 1)
    health, _ = user_create(
        actor=None, username="weijian", password=PASSWORD, role="department", area=w.district
    )
    dept = ApiClient(token_issue(actor=None, user=health))

    ok = dept.post("/health-codes", {"person": w.b.member.pk, "colour": "yellow", "source": "卫健"})
    assert (ok.status, ok.data["colour"], ok.data["person_id"]) == (200, "yellow", w.b.member.pk)
    code = HealthCode.objects.get(person=w.b.member)
    assert (code.colour, code.source, code.set_by) == ("yellow", "卫健", health)
    outside = dept.post("/health-codes", {"person": other.member.pk, "colour": "red"})
    assert outside.status == 404
    assert not HealthCode.objects.filter(person=other.member).exists()
    # A department of the other district sets that one, and not ours.
    neighbour, _ = user_create(
        actor=None, username="weijian2", password=PASSWORD, role="department", area=district
    )
    dept2 = ApiClient(token_issue(actor=None, user=neighbour))
    assert dept2.post("/health-codes", {"person": other.member.pk, "colour": "red"}).status == 200
    assert dept2.post("/health-codes", {"person": w.b.member.pk, "colour": "red"}).status == 404
    assert HealthCode.objects.get(person=w.b.member).colour == "yellow"
    # Nothing else of passes: no scans, no pass check, no gate.
    assert dept.get("/gate-scans").status == 403
    token = ps.pass_token(ps.resident_pass_issue(actor=None, person=w.a.member))
    assert dept.post("/passes/verify", {"checkpoint": pw.gate_a.pk, "token": token}).status == 404
    scan = {"checkpoint": pw.gate_a.pk, "token": token, "direction": "in", "client_id": "d-1"}
    assert dept.post("/gate-scans", scan).status == 404
    assert GateScan.objects.count() == 0
