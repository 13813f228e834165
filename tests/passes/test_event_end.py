"""Ending an emergency event closes what it opened for passes (issue 4): the passes issued
under it stop verifying (closed, on the gates' revocation list), the shifts after the end are
cancelled, and every record stays. Another event still running passes over a grid takes its
passes over. Browser-free: the gate-scan API and the gate page's data, not the phone."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from linli.accounts.services import token_issue
from linli.audit.models import AuditEntry
from linli.emergency import services as em
from linli.emergency.measures import _END_HOOKS
from linli.passes import services as ps
from linli.passes.models import (
    AccessPass,
    DutyShift,
    PassEvent,
    PassEventKind,
    PassStatus,
    ShiftSwap,
    SwapStatus,
)
from tests.api.conftest import ApiClient
from tests.passes.conftest import PassWorld
from tests.passes.walk import passes_event
from tests.volunteers.factories import approved_volunteer

pytestmark = pytest.mark.django_db


def _shift(pw: PassWorld, user: Any, gate: Any, start: dt.timedelta, hours: int = 4) -> DutyShift:
    now = timezone.now()
    return ps.shift_create(
        actor=None,
        checkpoint=gate,
        user=user,
        starts_at=now + start,
        ends_at=now + start + dt.timedelta(hours=hours),
    )


def _gate_data(user: Any, gate: Any) -> dict[str, Any]:
    c = Client()
    c.force_login(user)
    page = c.get(reverse("passes:gate", args=[gate.pk])).content.decode()
    start = page.index('id="gate-data">') + len('id="gate-data">')
    return dict(json.loads(page[start : page.index("</script>", start)]))


def test_the_passes_hook_is_registered() -> None:
    assert (ps.event_ended, "passes") in _END_HOOKS


def test_stopping_the_passes_measure_closes_them_and_the_event_runs_on(pw: PassWorld) -> None:
    """A running event that turns passes off closes them as an ending would (the notes say
    why), cancels the later gate shifts, and keeps its other measures."""
    w = pw.w
    resident = ps.resident_pass_issue(actor=w.a.worker, person=w.a.member)
    later = _shift(pw, w.a.worker, pw.gate_a, dt.timedelta(hours=3))
    event = pw.event
    others = [m for m in event.measures if m != "passes"]
    assert others and "passes" in event.measures

    with translation.override("zh-hans"):  # the notes are written in the active language
        em.event_change(
            actor=w.head,
            event=event,
            name=event.name,
            kind=event.kind,
            level=event.level,
            measures=others,
            rule_days=event.rule_days,
            risk_rules=event.risk_rules,
            checkin_deadline_hour=event.checkin_deadline_hour,
        )

    event.refresh_from_db()
    assert event.status == "active" and event.measures == others
    resident.refresh_from_db()
    assert resident.status == PassStatus.CLOSED
    closed = PassEvent.objects.get(access_pass=resident, kind=PassEventKind.CLOSED)
    assert closed.note == "已关闭：事件已不再实行通行证管理。"
    assert DutyShift.objects.get(pk=later.pk).cancelled_at is not None
    shift_entry = AuditEntry.objects.get(
        object_type="dutyshift", object_id=str(later.pk), changes__cancelled=True
    )
    assert shift_entry.reason == "事件已不再实行通行证管理。"
    entry = AuditEntry.objects.filter(object_type="emergencyevent", action="change").latest("id")
    assert entry.changes["passes_closed"] == 1 and entry.changes["shifts_cancelled"] == 1
    assert entry.changes["measures"] == others
    # Changing the event again without touching passes closes nothing more.
    em.event_change(
        actor=w.head,
        event=event,
        name="改名",
        kind=event.kind,
        level=event.level,
        measures=others,
        rule_days=event.rule_days,
        risk_rules=event.risk_rules,
        checkin_deadline_hour=event.checkin_deadline_hour,
    )
    last = AuditEntry.objects.filter(object_type="emergencyevent", action="change").latest("id")
    assert "passes_closed" not in last.changes


def test_ending_closes_passes_cancels_later_shifts_and_keeps_records(pw: PassWorld) -> None:
    w = pw.w
    resident = ps.resident_pass_issue(actor=w.a.worker, person=w.a.member)
    household = ps.resident_pass_issue(actor=w.b.worker, household=w.b.household)
    visitor = pw.visitor()
    applied = pw.visitor(approve=False, name="赵等批")
    revoked = pw.visitor(name="钱已撤")
    ps.pass_revoke(actor=w.a.worker, access_pass=revoked, reason="取消")
    assert {p.event_id for p in (resident, household, visitor, applied)} == {pw.event.pk}
    volunteer = approved_volunteer(w, w.a.householder).user
    later = _shift(pw, volunteer, pw.gate_a, dt.timedelta(hours=3))
    swap = ps.swap_request(actor=volunteer, shift=later, to_user=w.a.worker)
    running = _shift(pw, w.a.worker, pw.gate_a, -dt.timedelta(hours=1))
    later_b = _shift(pw, w.b.worker, pw.gate_b, dt.timedelta(days=1))
    at = timezone.now()

    em.event_end(actor=w.head, event=pw.event, now=at)

    statuses = dict(AccessPass.objects.values_list("pk", "status"))
    assert statuses == {
        resident.pk: PassStatus.CLOSED,
        household.pk: PassStatus.CLOSED,
        visitor.pk: PassStatus.CLOSED,
        applied.pk: PassStatus.CLOSED,
        revoked.pk: PassStatus.REVOKED,
    }
    closed_events = PassEvent.objects.filter(kind=PassEventKind.CLOSED)
    assert sorted(closed_events.values_list("access_pass_id", flat=True)) == sorted(
        [resident.pk, household.pk, visitor.pk, applied.pk]
    )
    assert {e.actor_id for e in closed_events} == {w.head.pk}
    # The records stay: every pass keeps its earlier steps, and its event.
    assert PassEvent.objects.filter(access_pass=visitor).count() == 3  # applied, approved, closed
    assert set(AccessPass.objects.values_list("event_id", flat=True)) == {pw.event.pk}
    # The gates' revocation list names the closed passes (the applied one too: harmless).
    estate = w.a.building.estate.pk
    assert ps.revoked_pass_ids(estate) == sorted(
        [resident.pk, household.pk, visitor.pk, applied.pk, revoked.pk]
    )
    # Shifts not begun are cancelled (their swap refused); the one under way runs on.
    cancelled = dict(DutyShift.objects.values_list("pk", "cancelled_at"))
    assert cancelled == {later.pk: at, running.pk: None, later_b.pk: at}
    assert ShiftSwap.objects.get(pk=swap.pk).status == SwapStatus.REFUSED
    entry = AuditEntry.objects.filter(object_type="emergencyevent", changes__status="ended").get()
    assert entry.changes == {
        "status": "ended",
        "quarantines_closed": 0,
        "tasks_closed": 0,
        "passes_closed": 4,
        "passes_carried_over": 0,
        "shifts_cancelled": 2,
    }
    assert AuditEntry.objects.filter(object_type="accesspass", actor=w.head).count() == 4
    # Nothing closed can be used again: no code, no decision, no finishing, no swap.
    with pytest.raises(ValidationError):
        ps.pass_token(AccessPass.objects.get(pk=resident.pk))
    with pytest.raises(ValidationError):
        ps.pass_decide(actor=w.a.worker, access_pass=applied, approve=True)
    later.refresh_from_db()
    with pytest.raises(ValidationError):
        ps.shift_finish(actor=w.a.worker, shift=later, now=later.ends_at)
    with pytest.raises(ValidationError):
        ps.swap_request(actor=volunteer, shift=later, to_user=w.a.worker)
    assert ps.shifts_finish_due(now=later.ends_at + dt.timedelta(days=2)) == 1  # the running one
    # A cancelled shift does not hold its person: they may be put on duty at that time again.
    ps.shift_create(
        actor=w.a.worker,
        checkpoint=pw.gate_a,
        user=volunteer,
        starts_at=later.starts_at,
        ends_at=later.ends_at,
    )


def test_an_ended_events_pass_is_refused_at_the_gate(pw: PassWorld) -> None:
    """The gate-scan API and the pass check refuse the code; the gate page's revocation list
    (what a phone checking offline uses) names the pass."""
    w = pw.w
    p = ps.resident_pass_issue(actor=w.a.worker, person=w.a.member)
    token = ps.pass_token(p)
    api = ApiClient(token_issue(actor=None, user=w.a.worker))
    scan = {"checkpoint": pw.gate_a.pk, "token": token, "direction": "in", "client_id": "s-1"}
    before = api.post("/gate-scans", scan)
    assert (before.status, before.data["result"]) == (201, "ok")
    assert p.pk not in _gate_data(w.a.worker, pw.gate_a)["revoked"]
    assert _gate_data(w.a.worker, pw.gate_a)["closed"] == []

    em.event_end(actor=w.head, event=pw.event)

    after = api.post("/gate-scans", {**scan, "client_id": "s-2"})
    assert (after.status, after.data["result"], after.data["reason"]) == (201, "refused", "closed")
    assert after.data["pass_id"] == p.pk
    check = api.post("/passes/verify", {"checkpoint": pw.gate_a.pk, "token": token}).data
    assert (check["ok"], check["reason"], check["pass_id"]) == (False, "closed", None)
    data = _gate_data(w.a.worker, pw.gate_a)
    # Listed as refused, and as closed, so the offline gate names the reason.
    assert p.pk in data["revoked"] and data["closed"] == [p.pk]
    # The signature alone still verifies: the revocation list is what stops it offline.
    from linli.passes.signing import verify_token

    assert verify_token(token).ok


def test_another_event_running_passes_takes_them_over(pw: PassWorld) -> None:
    w = pw.w
    # A second event, declared later, runs passes over grid A only.
    second = passes_event(w, [w.a.grid])
    in_a = ps.resident_pass_issue(actor=w.a.worker, person=w.a.member)
    in_b = ps.resident_pass_issue(actor=w.b.worker, person=w.b.member)
    assert (in_a.event_id, in_b.event_id) == (pw.event.pk, pw.event.pk)  # the earliest event
    shift_a = _shift(pw, w.a.worker, pw.gate_a, dt.timedelta(hours=2))
    shift_b = _shift(pw, w.b.worker, pw.gate_b, dt.timedelta(hours=2))

    em.event_end(actor=w.head, event=pw.event)

    in_a.refresh_from_db()
    in_b.refresh_from_db()
    assert (in_a.status, in_a.event_id) == (PassStatus.APPROVED, second.pk)
    assert (in_b.status, in_b.event_id) == (PassStatus.CLOSED, pw.event.pk)
    shift_a.refresh_from_db()
    shift_b.refresh_from_db()
    assert shift_a.cancelled_at is None and shift_b.cancelled_at is not None
    entry = AuditEntry.objects.filter(object_type="emergencyevent", changes__status="ended").get()
    assert (entry.changes["passes_closed"], entry.changes["passes_carried_over"]) == (1, 1)

    em.event_end(actor=w.head, event=second)
    in_a.refresh_from_db()
    shift_a.refresh_from_db()
    assert in_a.status == PassStatus.CLOSED and shift_a.cancelled_at is not None


def test_an_event_without_passes_leaves_the_gates_alone(pw: PassWorld) -> None:
    w = pw.w
    other = em.event_declare(
        actor=None, name="防汛", kind="disaster", areas=[w.community], measures=["arrivals"]
    )
    outside = ps.resident_pass_issue(actor=w.a.worker, person=w.a.member)
    shift = _shift(pw, w.a.worker, pw.gate_a, dt.timedelta(hours=2))
    em.event_end(actor=w.head, event=other)
    outside.refresh_from_db()
    shift.refresh_from_db()
    assert outside.status == PassStatus.APPROVED and shift.cancelled_at is None


def test_the_periodic_task_closes_what_an_ending_missed(pw: PassWorld) -> None:
    """A pass tied to an event that ended without closing it (issued while the event was being
    ended, or before passes knew their event) closes on the next sweep, once."""
    p = ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.a.member)
    type(pw.event).objects.filter(pk=pw.event.pk).update(status="ended", ends_at=timezone.now())
    assert ps.passes_close_ended() == 1
    assert ps.passes_close_ended() == 0
    p.refresh_from_db()
    assert p.status == PassStatus.CLOSED
    assert PassEvent.objects.filter(access_pass=p, kind=PassEventKind.CLOSED, actor=None).exists()


def test_the_migration_ties_earlier_passes_to_their_event(pw: PassWorld) -> None:
    during = ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.a.member)
    before = ps.resident_pass_issue(actor=pw.w.b.worker, person=pw.w.b.member)
    AccessPass.objects.update(event=None)
    AccessPass.objects.filter(pk=before.pk).update(
        created_at=pw.event.starts_at - dt.timedelta(days=1)
    )
    migration = importlib.import_module("linli.passes.migrations.0003_link_passes_to_events")
    migration.link(apps, None)
    assert dict(AccessPass.objects.values_list("pk", "event_id")) == {
        during.pk: pw.event.pk,
        before.pk: None,
    }
