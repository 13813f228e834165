"""Services of passes: the pass state machine, visitor applications, resident passes, gate
scans (idempotent, with the server's verdict), health codes, rosters and swaps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from linli.audit.models import AuditEntry
from linli.emergency import services as em
from linli.passes import services as ps
from linli.passes.models import (
    AccessPass,
    DutyShift,
    GateScan,
    PassStatus,
    ShiftSwap,
    SwapStatus,
)
from linli.volunteers import services as vol
from linli.volunteers.models import PointsClaim, RuleKind
from tests.passes.conftest import PassWorld
from tests.volunteers.factories import approved_volunteer, resident_user

pytestmark = pytest.mark.django_db


def test_visitor_pass_machine(pw: PassWorld) -> None:
    p = pw.visitor(approve=False)
    assert (p.status, p.holder_masked, p.phone_masked) == ("applied", "王*访", "139****1111")
    assert bytes(p.phone_sealed) and b"13900001111" not in bytes(p.phone_sealed)
    assert p.estate == pw.w.a.building.estate and p.grid == pw.w.a.grid
    with pytest.raises(ValidationError):
        ps.pass_token(p)  # no code before approval
    with pytest.raises(ValidationError) as exc:
        ps.pass_decide(actor=pw.w.a.worker, access_pass=p, approve=False, note="")
    assert set(exc.value.message_dict) == {"note"}
    p = ps.pass_decide(actor=pw.w.a.worker, access_pass=p, approve=True)
    assert p.status == PassStatus.APPROVED and p.decided_by == pw.w.a.worker
    with pytest.raises(ValidationError):
        ps.pass_decide(actor=pw.w.a.worker, access_pass=p, approve=True)
    p = ps.pass_revoke(actor=pw.w.a.worker, access_pass=p, reason="访客未按时离开")
    assert p.status == PassStatus.REVOKED
    assert list(p.events.values_list("kind", flat=True)) == ["applied", "approved", "revoked"]
    with pytest.raises(ValidationError):
        ps.pass_revoke(actor=pw.w.a.worker, access_pass=p, reason="again")
    assert AuditEntry.objects.filter(object_type="accesspass", object_id=str(p.pk)).count() == 3


def test_other_grid_worker_may_not_decide(pw: PassWorld) -> None:
    p = pw.visitor(approve=False)
    with pytest.raises(PermissionDenied):
        ps.pass_decide(actor=pw.w.b.worker, access_pass=p, approve=True)
    p.refresh_from_db()
    assert p.status == PassStatus.APPLIED


def test_visitor_application_checks(pw: PassWorld) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        ps.visitor_pass_apply(
            actor=pw.host,
            host=pw.w.a.householder,
            visitor_name="",
            visitor_phone="123",
            reason="",
            valid_from=now,
            valid_until=now + dt.timedelta(days=8),
        )
    assert set(exc.value.message_dict) == {
        "visitor_name",
        "visitor_phone",
        "reason",
        "valid_until",
    }
    # Someone else's account may not apply as this host.
    with pytest.raises(PermissionDenied):
        ps.visitor_pass_apply(
            actor=resident_user(pw.w.b.householder),
            host=pw.w.a.householder,
            visitor_name="王来访",
            visitor_phone="13900001111",
            reason="送药",
            valid_from=now,
            valid_until=now + dt.timedelta(hours=2),
        )
    # Once the event ends, no pass is needed (nor granted).
    em.event_end(actor=None, event=pw.event)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        pw.visitor(approve=False)
    assert "No pass is needed" in str(exc.value)
    assert AccessPass.objects.count() == 0


def test_resident_pass_one_valid_per_holder(pw: PassWorld) -> None:
    first = ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.a.householder)
    assert (first.kind, first.status, first.holder_masked) == ("person", "approved", "张*国")
    second = ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.a.householder)
    first.refresh_from_db()
    assert (first.status, second.status) == ("revoked", "approved")
    household = ps.resident_pass_issue(actor=pw.w.a.worker, household=pw.w.a.household)
    assert household.kind == "household" and "张*国" in household.holder_name
    with pytest.raises(PermissionDenied):
        ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.b.householder)


def test_expiry_sweep(pw: PassWorld) -> None:
    p = pw.visitor(hours=1)
    waiting = pw.visitor(approve=False, hours=1)
    assert ps.passes_expire_due(now=timezone.now()) == 0
    assert ps.passes_expire_due(now=timezone.now() + dt.timedelta(hours=2)) == 2
    p.refresh_from_db()
    waiting.refresh_from_db()
    assert (p.status, waiting.status) == ("expired", "expired")


def scan(pw: PassWorld, token: str, client_id: str, **kw: object) -> GateScan:
    s, _ = ps.gate_scan_record(
        actor=pw.w.a.worker,
        checkpoint=kw.pop("checkpoint", pw.gate_a),  # type: ignore[arg-type]
        token=token,
        direction=str(kw.pop("direction", "in")),
        client_id=client_id,
        **kw,  # type: ignore[arg-type]
    )
    return s


def test_scan_is_stored_once_per_client_id(pw: PassWorld) -> None:
    token = ps.pass_token(pw.visitor())
    s1, created1 = ps.gate_scan_record(
        actor=pw.w.a.worker, checkpoint=pw.gate_a, token=token, direction="in", client_id="c-1"
    )
    s2, created2 = ps.gate_scan_record(
        actor=pw.w.a.worker, checkpoint=pw.gate_a, token=token, direction="in", client_id="c-1"
    )
    assert (created1, created2, s1.pk) == (True, False, s2.pk)
    assert GateScan.objects.count() == 1
    assert (s1.result, s1.holder_masked, s1.grid) == ("ok", "王*访", pw.w.a.grid)


def test_scan_verdicts(pw: PassWorld) -> None:
    visitor = pw.visitor()
    token = ps.pass_token(visitor)
    prefix, raw, sig = token.split(".")
    assert scan(pw, f"{prefix}.{raw}.{sig[:-2]}AB", "f").reason == "bad_signature"
    assert scan(pw, "hello", "m").reason == "malformed"
    # An offline scan from earlier, inside the window, is judged at its own time.
    earlier = timezone.now() - dt.timedelta(minutes=2)
    assert scan(pw, token, "o", scanned_at=earlier, offline=True).result == "ok"
    # Past the window.
    late = timezone.now() + dt.timedelta(hours=7)
    assert scan(pw, token, "late", scanned_at=late, now=late).reason == "expired"
    with pytest.raises(ValidationError):
        scan(pw, token, "future", scanned_at=timezone.now() + dt.timedelta(hours=1))
    ps.pass_revoke(actor=pw.w.a.worker, access_pass=visitor, reason="取消")
    assert scan(pw, token, "r").reason == "revoked"
    assert ps.revoked_pass_ids(visitor.estate_id) == [visitor.pk]
    # A pass for another estate.
    from linli.register import services as reg

    other = reg.estate_create(actor=None, community=pw.w.community, name="别苑")
    building = reg.building_create(
        actor=None, estate=other, grid=pw.w.a.grid, name="1号楼", floors=3
    )
    gate = ps.checkpoint_create(actor=pw.w.a.worker, estate=other, grid=pw.w.a.grid, name="北门")
    assert building.grid == gate.grid
    fresh = ps.pass_token(pw.visitor())
    assert scan(pw, fresh, "e", checkpoint=gate).reason == "wrong_estate"
    results = list(GateScan.objects.order_by("pk").values_list("result", flat=True))
    assert results == ["refused", "refused", "ok", "refused", "refused", "refused"]


def test_scan_at_another_grids_gate_is_refused(pw: PassWorld) -> None:
    token = ps.pass_token(pw.visitor())
    with pytest.raises(PermissionDenied):
        scan(pw, token, "x", checkpoint=pw.gate_b)
    assert GateScan.objects.count() == 0


def test_health_colour(pw: PassWorld) -> None:
    person = ps.resident_pass_issue(actor=pw.w.a.worker, person=pw.w.a.member)
    household = ps.resident_pass_issue(actor=pw.w.a.worker, household=pw.w.a.household)
    assert ps.health_colour_of(person) == ""
    ps.health_code_set(actor=pw.w.a.worker, person=pw.w.a.member, colour="green", source="卫健委")
    ps.health_code_set(actor=pw.w.a.worker, person=pw.w.a.householder, colour="red")
    assert ps.health_colour_of(person) == "green"
    assert ps.health_colour_of(household) == "red"  # the worst of the household
    assert ps.health_colour_of(pw.visitor()) == ""
    with pytest.raises(ValidationError):
        ps.health_code_set(actor=pw.w.a.worker, person=pw.w.a.member, colour="blue")
    with pytest.raises(PermissionDenied):
        ps.health_code_set(actor=pw.w.a.worker, person=pw.w.b.member, colour="red")


def test_roster_swap_and_points(pw: PassWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    w = pw.w
    volunteer = approved_volunteer(w, w.a.member).user
    other = approved_volunteer(w, w.a.householder).user
    now = timezone.now()
    shift = ps.shift_create(
        actor=w.a.worker,
        checkpoint=pw.gate_a,
        user=volunteer,
        starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=5),
    )
    with pytest.raises(ValidationError):  # the same person twice at once
        ps.shift_create(
            actor=w.a.worker,
            checkpoint=pw.gate_a,
            user=volunteer,
            starts_at=now + dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(hours=3),
        )
    with pytest.raises(ValidationError):  # grid B's worker may not stand at A's gate
        ps.shift_create(
            actor=w.a.worker,
            checkpoint=pw.gate_a,
            user=w.b.worker,
            starts_at=now,
            ends_at=now + dt.timedelta(hours=1),
        )
    with pytest.raises(PermissionDenied):
        ps.swap_request(actor=other, shift=shift, to_user=other)
    swap = ps.swap_request(actor=volunteer, shift=shift, to_user=other)
    with pytest.raises(ValidationError):  # not accepted yet
        ps.swap_decide(actor=w.a.worker, swap=swap, approve=True)
    with pytest.raises(PermissionDenied):
        ps.swap_answer(actor=volunteer, swap=swap, accept=True)
    swap = ps.swap_answer(actor=other, swap=swap, accept=True)
    with pytest.raises(PermissionDenied):
        ps.swap_decide(actor=w.b.worker, swap=swap, approve=True)
    swap = ps.swap_decide(actor=w.a.worker, swap=swap, approve=True)
    shift.refresh_from_db()
    assert (swap.status, shift.user) == (SwapStatus.APPROVED, other)
    assert ShiftSwap.objects.get().status == "approved"

    # The shift ends; finishing it opens the volunteer's points claim (once).
    with pytest.raises(ValidationError):
        ps.shift_finish(actor=other, shift=shift)
    later = now + dt.timedelta(hours=6)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the shift is over
    # No points rule yet: the shift is recorded, the claim is not opened, and we say why.
    shift, claim, why = ps.shift_finish(actor=other, shift=shift)
    assert shift.ended_at == shift.ends_at and claim is None and why
    assert PointsClaim.objects.count() == 0
    vol.rule_create(actor=None, area=w.community, kind=RuleKind.CHECKPOINT_SHIFT, points=15)
    shift, claim, why = ps.shift_finish(actor=other, shift=shift)
    assert shift.ended_at == shift.ends_at
    assert claim is not None and claim.points == 15 and claim.volunteer.user == other
    _again, claim2, _why = ps.shift_finish(actor=w.a.worker, shift=shift)
    assert ps.shifts_finish_due() == 0  # already finished
    assert claim2.pk == claim.pk and PointsClaim.objects.count() == 1
    assert DutyShift.objects.count() == 1


def test_ended_shifts_finish_by_themselves(pw: PassWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    w = pw.w
    volunteer = approved_volunteer(w, w.a.member).user
    vol.rule_create(actor=None, area=w.community, kind=RuleKind.CHECKPOINT_SHIFT, points=8)
    now = timezone.now()
    ps.shift_create(
        actor=w.a.worker,
        checkpoint=pw.gate_a,
        user=volunteer,
        starts_at=now + dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=2),
    )
    assert ps.shifts_finish_due() == 0
    later = now + dt.timedelta(hours=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert ps.shifts_finish_due() == 1
    claim = PointsClaim.objects.get()
    assert (claim.points, claim.volunteer.user) == (8, volunteer)
    assert ps.shifts_finish_due() == 0
