"""Pages of passes: the worker's pages, the resident's application and code, the gate page's
data and its sync endpoint (idempotent), and measure links on the event page and portal."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.emergency.measures import links_for
from linli.passes import services as ps
from linli.passes.models import AccessPass, Checkpoint, DutyShift, GateScan
from tests.passes.conftest import PassWorld

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_worker_pages(pw: PassWorld) -> None:
    w = pw.w
    c = _client(w.a.worker)
    p = pw.visitor(approve=False)
    home = c.get(reverse("passes:home")).content.decode()
    assert "王来访" in home and "东门" in home and "西门" not in home
    assert c.get(reverse("passes:pass_list") + "?status=applied").status_code == 200
    detail = c.get(reverse("passes:pass_detail", args=[p.pk])).content.decode()
    assert "139****1111" in detail and "13900001111" not in detail
    # Refusing without a note keeps the pass waiting and says why.
    r = c.post(reverse("passes:pass_action", args=[p.pk, "refuse"]), {"note": ""}, follow=True)
    assert "请说明拒绝的原因" in r.content.decode()
    assert AccessPass.objects.get().status == "applied"
    c.post(reverse("passes:pass_action", args=[p.pk, "approve"]))
    assert AccessPass.objects.get().status == "approved"
    for name in ("passes:scan_list", "passes:duty"):
        assert c.get(reverse(name)).status_code == 200
    assert c.get(reverse("passes:roster", args=[pw.gate_a.pk])).status_code == 200


def test_checkpoint_form_keeps_input(pw: PassWorld) -> None:
    c = _client(pw.w.a.worker)
    estate = pw.w.a.building.estate
    r = c.post(
        reverse("passes:checkpoint_create"),
        {"estate": estate.pk, "grid": pw.w.a.grid.pk, "name": "东门"},
    )
    assert r.status_code == 200 and "同名" in r.content.decode()
    assert 'value="东门"' in r.content.decode()
    r = c.post(
        reverse("passes:checkpoint_create"),
        {"estate": estate.pk, "grid": pw.w.a.grid.pk, "name": "南门"},
    )
    assert r.status_code == 302 and Checkpoint.objects.filter(name="南门").exists()
    # Grid B is not among A's choices.
    r = c.post(
        reverse("passes:checkpoint_create"),
        {"estate": estate.pk, "grid": pw.w.b.grid.pk, "name": "越界门"},
    )
    assert r.status_code == 200 and not Checkpoint.objects.filter(name="越界门").exists()


def test_resident_issue_and_health_code_pages(pw: PassWorld) -> None:
    c = _client(pw.w.a.worker)
    until = (timezone.localtime() + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(
        reverse("passes:resident_issue", args=[pw.w.a.household.pk]),
        {"holder": "household", "valid_until": until},
    )
    assert r.status_code == 302
    assert AccessPass.objects.get().kind == "household"
    r = c.post(
        reverse("passes:health_code", args=[pw.w.a.member.pk]), {"colour": "green", "source": ""}
    )
    assert r.status_code == 302
    assert pw.w.a.member.health_code.colour == "green"


def test_portal_visitor_flow(pw: PassWorld) -> None:
    c = _client(pw.host)
    home = c.get(reverse("passes:portal_home")).content.decode()
    assert 'id="visitor-apply"' in home
    start = timezone.localtime()
    form = {
        "visitor_name": "王来访",
        "visitor_phone": "1390000",
        "reason": "送药",
        "valid_from": start.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (start + dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
    }
    r = c.post(reverse("passes:portal_visitor"), form)
    assert r.status_code == 200 and 'value="王来访"' in r.content.decode()
    assert AccessPass.objects.count() == 0
    r = c.post(reverse("passes:portal_visitor"), {**form, "visitor_phone": "13900001111"})
    p = AccessPass.objects.get()
    assert r["Location"] == reverse("passes:portal_pass", args=[p.pk])
    page = c.get(r["Location"]).content.decode()
    assert 'id="pass-qr"' not in page
    p = ps.pass_decide(actor=pw.w.a.worker, access_pass=p, approve=True)
    page = c.get(r["Location"]).content.decode()
    assert 'id="pass-qr"' in page and ps.pass_token(p) in page
    # Another resident sees nothing of it.
    from tests.volunteers.factories import resident_user

    other = _client(resident_user(pw.w.b.householder))
    assert other.get(r["Location"]).status_code == 404
    assert "王来访" not in other.get(reverse("passes:portal_home")).content.decode()


def test_measure_links(pw: PassWorld) -> None:
    portal = links_for(pw.event, portal=True)
    assert [link["url"] for link in portal] == [reverse("passes:portal_home")]
    bench = links_for(pw.event, allowed=lambda perm: True)
    assert reverse("passes:home") in [link["url"] for link in bench]


def test_gate_page_and_sync(pw: PassWorld) -> None:
    c = _client(pw.w.a.worker)
    p = ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.a.member)
    ps.health_code_set(actor=pw.w.a.worker, person=pw.w.a.member, colour="red")
    revoked = pw.visitor()
    ps.pass_revoke(actor=pw.w.a.worker, access_pass=revoked, reason="取消")
    # Households: the worst colour of the living members; grid B's residents share the estate.
    home_a = ps.resident_pass_issue(actor=pw.w.a.worker, household=pw.w.a.household)
    ps.health_code_set(actor=pw.w.b.worker, person=pw.w.b.member, colour="green")
    home_b = ps.resident_pass_issue(actor=pw.w.b.worker, household=pw.w.b.household)
    page = c.get(reverse("passes:gate", args=[pw.gate_a.pk])).content.decode()
    start = page.index('id="gate-data">') + len('id="gate-data">')
    data = json.loads(page[start : page.index("</script>", start)])
    assert data["revoked"] == [revoked.pk] and data["closed"] == [] and data["health_on"] is True
    assert data["colours"] == {str(p.pk): "red", str(home_a.pk): "red", str(home_b.pk): "green"}
    assert "李" not in page[start : page.index("</script>", start)]  # no names of grid B
    assert set(data["keys"]) == {"1"}
    url = reverse("passes:gate_sync", args=[pw.gate_a.pk])
    body = {
        "token": ps.pass_token(p),
        "direction": "in",
        "client_id": "q-1",
        "scanned_at": timezone.now().isoformat(),
        "offline": True,
    }
    answers = [
        c.post(url, body, content_type="application/json", headers={"Idempotency-Key": "q-1"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["health_code"] == "red"
    assert GateScan.objects.count() == 1
    bad = c.post(url, {"direction": "in"}, content_type="application/json")
    assert bad.status_code == 422
    # Grid B's worker may not post to A's gate.
    other = _client(pw.w.b.worker)
    assert other.post(url, body, content_type="application/json").status_code == 404


def test_duty_swap_pages(pw: PassWorld) -> None:
    w = pw.w
    now = timezone.now()
    shift = ps.shift_create(
        actor=w.a.worker,
        checkpoint=pw.gate_a,
        user=w.a.worker,
        starts_at=now + dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=6),
    )
    c = _client(w.a.worker)
    # Whoever stands a shift finds "my duty" in the nav; the head has none yet.
    assert 'id="nav-duty"' in c.get(reverse("workbench:home")).content.decode()
    head = _client(w.head)
    assert 'id="nav-duty"' not in head.get(reverse("workbench:home")).content.decode()
    r = c.post(reverse("passes:shift_action", args=[shift.pk, "swap"]), {"to_user": w.head.pk})
    assert r.status_code == 302
    assert 'id="nav-duty"' in head.get(reverse("workbench:home")).content.decode()  # asked
    duty = head.get(reverse("passes:duty")).content.decode()
    swap = shift.swaps.get()
    assert f'data-swap="{swap.pk}"' in duty
    head.post(reverse("passes:swap_action", args=[swap.pk, "accept"]))
    c.post(reverse("passes:swap_action", args=[swap.pk, "approve"]))
    assert DutyShift.objects.get().user == w.head


def test_person_page_links(pw: PassWorld) -> None:
    c = _client(pw.w.a.worker)
    page = c.get(reverse("workbench:person_detail", args=[pw.w.a.member.pk])).content.decode()
    assert reverse("passes:health_code", args=[pw.w.a.member.pk]) in page
    assert reverse("passes:resident_issue", args=[pw.w.a.household.pk]) in page
    from linli.emergency import services as em

    em.event_end(actor=None, event=pw.event)
    page = c.get(reverse("workbench:person_detail", args=[pw.w.a.member.pk])).content.decode()
    assert 'id="person-health-code"' not in page


def test_volunteer_at_the_gate(pw: PassWorld) -> None:
    from tests.volunteers.factories import approved_volunteer

    volunteer = approved_volunteer(pw.w, pw.w.a.member).user
    c = _client(volunteer)
    assert c.get(reverse("passes:gate", args=[pw.gate_a.pk])).status_code == 200
    assert c.get(reverse("passes:gate", args=[pw.gate_b.pk])).status_code == 404
    assert c.get(reverse("passes:home")).status_code == 403
    assert c.get(reverse("passes:duty")).status_code == 200
    token = ps.pass_token(pw.visitor())
    answer = c.post(
        reverse("passes:gate_sync", args=[pw.gate_a.pk]),
        {"token": token, "direction": "out", "client_id": "v-1"},
        content_type="application/json",
        headers={"Idempotency-Key": "v-1"},
    )
    assert answer.status_code == 201 and answer.json()["result"] == "ok"
    assert GateScan.objects.get().scanned_by == volunteer
