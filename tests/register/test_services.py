"""Register services: validation, history kept, permissions enforced, audit written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linli.audit.models import AuditEntry
from linli.register import services as reg
from linli.register.models import Membership, Person, PersonStatus, RegisterEvent
from linli.register.selectors import person_search
from tests.factories import World, make_national_id

pytestmark = pytest.mark.django_db


def test_person_fields_are_sealed_and_derived(world: World) -> None:
    p = Person.objects.get(pk=world.a.householder.pk)
    assert p.id_masked.startswith("3701") and "*" in p.id_masked
    assert p.reveal_national_id() == world.a.householder_id_number
    assert p.birth_date == dt.date(1951, 3, 9)
    assert p.sex == "M"
    assert world.a.householder_id_number.encode() not in bytes(p.id_sealed)
    assert p.provenance["national_id"]["source"] == "worker"


def test_invalid_national_id_is_refused_with_reason(world: World) -> None:
    bad = world.a.householder_id_number[:-1] + (
        "0" if world.a.householder_id_number[-1] != "0" else "1"
    )
    with pytest.raises(ValidationError) as exc:
        reg.person_create(actor=world.a.worker, name="王五", national_id=bad, grid=world.a.grid)
    assert "national_id" in exc.value.message_dict


def test_duplicate_national_id_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        reg.person_create(
            actor=world.a.worker,
            name="重复",
            national_id=world.a.householder_id_number,
            grid=world.a.grid,
        )


def test_worker_cannot_write_in_sibling_grid(world: World) -> None:
    before = Person.objects.count()
    with pytest.raises(PermissionDenied):
        reg.person_create(actor=world.a.worker, name="越权", grid=world.b.grid)
    assert Person.objects.count() == before


def test_reveal_needs_reason_and_is_audited(world: World) -> None:
    p = world.a.householder
    with pytest.raises(ValidationError):
        reg.person_reveal(actor=world.a.worker, person=p, field="national_id", reason="")
    value = reg.person_reveal(
        actor=world.a.worker, person=p, field="national_id", reason="入户核查"
    )
    assert value == world.a.householder_id_number
    entry = AuditEntry.objects.filter(action="reveal").latest("id")
    assert (
        entry.actor == world.a.worker
        and entry.reason == "入户核查"
        and entry.field == "national_id"
    )
    with pytest.raises(PermissionDenied):
        reg.person_reveal(actor=world.b.worker, person=p, field="phone", reason="好奇")


def test_move_out_keeps_history(world: World) -> None:
    p = world.a.member
    today = timezone.localdate()
    reg.person_move_out(actor=world.a.worker, person=p, occurred_on=today, destination="北京")
    p.refresh_from_db()
    assert p.status == PersonStatus.MOVED_OUT and p.household is None
    span = Membership.objects.get(person=p)
    assert span.ended_on == today and span.end_reason == "move_out"
    kinds = list(RegisterEvent.objects.filter(person=p).values_list("kind", flat=True))
    assert "move_out" in kinds and "move_in" in kinds


def test_move_house_between_grids_needs_both(world: World) -> None:
    with pytest.raises(PermissionDenied):
        reg.person_move_house(
            actor=world.a.worker,
            person=world.a.member,
            to_household=world.b.household,
            relation="other",
        )
    reg.person_move_house(
        actor=world.head, person=world.a.member, to_household=world.b.household, relation="other"
    )
    p = Person.objects.get(pk=world.a.member.pk)
    assert p.grid == world.b.grid and p.household == world.b.household
    assert Membership.objects.filter(person=p).count() == 2


def test_death_recorded_once(world: World) -> None:
    reg.person_record_death(
        actor=world.a.worker, person=world.a.householder, occurred_on=timezone.localdate()
    )
    with pytest.raises(ValidationError):
        reg.person_record_death(
            actor=world.a.worker, person=world.a.householder, occurred_on=timezone.localdate()
        )
    world.a.household.refresh_from_db()
    assert world.a.household.householder is None


def test_update_records_masked_history(world: World) -> None:
    new_id = make_national_id(dt.date(1951, 3, 9))
    changed = reg.person_update(
        actor=world.a.worker,
        person=world.a.householder,
        data={"national_id": new_id, "name": "张建军"},
    )
    assert set(changed) == {"national_id", "name"}
    ev = RegisterEvent.objects.filter(person=world.a.householder, kind="change").latest("id")
    assert new_id not in str(ev.data) and "*" in ev.data["changes"]["national_id"]["to"]


def test_search_by_name_pinyin_tail_and_scope(world: World) -> None:
    w = world.a.worker
    assert list(person_search(user=w, q="张建国")) == [world.a.householder]
    assert world.a.householder in person_search(user=w, q="zjg")
    assert world.a.householder in person_search(user=w, q=world.a.householder_id_number[-4:])
    assert list(person_search(user=w, q=world.a.householder_id_number)) == [world.a.householder]
    assert list(person_search(user=w, q=world.a.householder_phone)) == [world.a.householder]
    # The sibling grid's people are not found, by any key.
    assert not person_search(user=w, q="李建国").exists()
    assert not person_search(user=w, q=world.b.householder_id_number).exists()
    assert not person_search(user=w, q=world.b.householder_phone).exists()


def test_audit_rows_cannot_be_updated_or_deleted(world: World) -> None:
    from django.db import connection, transaction
    from django.db.utils import DatabaseError

    entry = AuditEntry.objects.order_by("id").first()
    assert entry is not None
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_audit_chain_verifies(world: World) -> None:
    from linli.audit.services import audit_verify_chain

    checked, broken = audit_verify_chain()
    assert broken is None and checked == AuditEntry.objects.count()


def test_dates_before_joining_or_in_future_are_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        reg.person_move_out(
            actor=world.a.worker, person=world.a.member, occurred_on=dt.date(2000, 1, 1)
        )
    with pytest.raises(ValidationError):
        reg.person_move_out(
            actor=world.a.worker,
            person=world.a.member,
            occurred_on=timezone.localdate() + dt.timedelta(days=1),
        )
    world.a.member.refresh_from_db()
    assert world.a.member.status == PersonStatus.LIVING


def test_accepted_correction_applies_sealed_phone(world: World) -> None:
    from linli.accounts.models import User
    from linli.register.models import CorrectionProposal

    resident = User.objects.create(username="r", person=world.a.householder)
    proposal = reg.correction_propose(
        actor=resident, person=world.a.member, changes={"phone": "13912345678"}
    )
    raw = CorrectionProposal.objects.filter(pk=proposal.pk).values_list("changes", flat=True).get()
    assert "13912345678" not in str(raw)
    reg.correction_review(actor=world.a.worker, proposal=proposal, accept=True)
    member = Person.objects.get(pk=world.a.member.pk)
    assert member.reveal_phone() == "13912345678"
    assert member.provenance["phone"]["source"] == "resident"


def test_sign_in_entries_belong_to_the_account_node(world: World) -> None:
    from linli.audit.models import AuditAction
    from linli.audit.selectors import audit_entries
    from linli.audit.services import audit_record

    entry = audit_record(actor=world.a.worker, action=AuditAction.LOGIN, obj=world.a.worker)
    assert entry.area == world.a.grid
    assert entry in audit_entries(user=world.head)
    assert entry not in audit_entries(user=world.b.worker)
