"""Merging two records of one person, and undoing it exactly."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from linli.audit.models import AuditEntry
from linli.linkage import services as svc
from linli.linkage.models import PersonMerge
from linli.register import services as reg
from linli.register.models import (
    EventKind,
    Household,
    Membership,
    Person,
    PersonStatus,
    PersonTag,
    RegisterEvent,
    Tag,
)
from tests.factories import World

pytestmark = pytest.mark.django_db


def _state() -> tuple[Any, ...]:
    """Everything a merge touches, in comparable form."""
    cols = [f.attname for f in Person._meta.concrete_fields if f.attname != "updated_at"]
    return (
        [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in Person.objects.order_by("pk").values_list(*cols)
        ],
        list(
            Membership.objects.order_by("pk").values_list(
                "pk", "person_id", "household_id", "ended_on", "end_reason"
            )
        ),
        list(PersonTag.objects.order_by("pk").values_list("pk", "person_id", "tag_id")),
        list(
            RegisterEvent.objects.exclude(kind__in=[EventKind.MERGED, EventKind.UNMERGED])
            .order_by("pk")
            .values_list("pk", "person_id")
        ),
        list(Household.objects.order_by("pk").values_list("pk", "householder_id")),
    )


@pytest.fixture
def duplicate(world: World) -> Person:
    """Grid A's householder typed in again by hand: no ID, another phone, a tag of its own."""
    dup = reg.person_create(
        actor=None, name="张建国", phone="13900001111", grid=world.a.grid, source="police"
    )
    reg.person_tag_set(actor=None, person=dup, tags=[Tag.objects.get(code="elderly_alone")])
    return dup


def test_merge_moves_everything_and_undo_restores_exactly(world: World, duplicate: Person) -> None:
    head = world.a.householder
    head_id = (head.id_bidx, head.id_masked, head.birth_date, head.sex)
    before = _state()
    events_before = RegisterEvent.objects.filter(person=head).count()
    merge = svc.person_merge(
        actor=world.a.worker, keep=duplicate, absorb=head, reason="同一人，派出所名单重复"
    )
    duplicate.refresh_from_db()
    head.refresh_from_db()
    # The ID was only on the absorbed record: it moved (and with it birth date and sex).
    assert (duplicate.id_bidx, duplicate.id_masked, duplicate.birth_date, duplicate.sex) == head_id
    assert duplicate.id_tail == world.a.householder_id_number[-4:]
    assert head.id_bidx is None and head.id_masked == ""
    assert head.status == PersonStatus.MERGED and head.merged_into_id == duplicate.pk
    # Undecided conflict (two phones, no trust rule): the kept record's value stays.
    assert duplicate.phone_tail == "1111"
    assert merge.decisions["contact"] == {"choice": "keep", "why": "worker_default"}
    assert merge.decisions["identity"] == {"choice": "absorb", "why": "only_absorb"}
    # The household, its membership and the householder role came over.
    assert duplicate.household_id == world.a.household.pk
    assert Household.objects.get(pk=world.a.household.pk).householder_id == duplicate.pk
    assert Membership.objects.filter(person=head).count() == 0
    assert Membership.objects.filter(person=duplicate, ended_on__isnull=True).count() == 1
    assert (
        RegisterEvent.objects.filter(person=duplicate).exclude(kind=EventKind.MERGED).count()
        >= events_before
    )
    assert RegisterEvent.objects.filter(person=head, kind=EventKind.MERGED).count() == 1
    assert RegisterEvent.objects.filter(person=duplicate, kind=EventKind.MERGED).count() == 1
    assert (
        AuditEntry.objects.filter(
            object_type="person", object_id=str(head.pk), changes__event="merge"
        ).count()
        == 1
    )
    assert duplicate.provenance["national_id"]["source"] == "worker"

    svc.person_unmerge(actor=world.a.worker, merge=merge)
    assert _state() == before
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == world.a.worker
    assert RegisterEvent.objects.filter(person=head, kind=EventKind.UNMERGED).count() == 1
    assert RegisterEvent.objects.filter(person=duplicate, kind=EventKind.UNMERGED).count() == 1
    with pytest.raises(ValidationError):
        svc.person_unmerge(actor=world.a.worker, merge=merge)


def test_merge_of_two_ids_swaps_them_and_undo_restores(world: World) -> None:
    """Both records have an ID; the worker takes the absorbed one's: they swap, none is lost."""
    member = world.a.member
    head = world.a.householder
    ids = {"head": head.id_bidx, "member": member.id_bidx}
    before = _state()
    merge = svc.person_merge(
        actor=None, keep=head, absorb=member, reason="测试", choices={"identity": "absorb"}
    )
    head.refresh_from_db()
    member.refresh_from_db()
    assert (head.id_bidx, member.id_bidx) == (ids["member"], ids["head"])
    assert merge.decisions["identity"] == {"choice": "absorb", "why": "worker"}
    assert head.birth_date.year == 2012
    assert member.birth_date.year == 1951
    svc.person_unmerge(actor=None, merge=merge)
    assert _state() == before


def test_a_worker_cannot_merge_outside_their_grid(world: World, duplicate: Person) -> None:
    before = _state()
    audit = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied):
        svc.person_merge(
            actor=world.b.worker, keep=duplicate, absorb=world.a.householder, reason="x"
        )
    # A cross-grid pair needs both grids in scope.
    with pytest.raises(PermissionDenied):
        svc.person_merge(
            actor=world.a.worker, keep=duplicate, absorb=world.b.householder, reason="x"
        )
    assert _state() == before
    assert AuditEntry.objects.count() == audit
    assert PersonMerge.objects.count() == 0


def test_undo_is_refused_after_a_later_change(world: World, duplicate: Person) -> None:
    merge = svc.person_merge(actor=None, keep=duplicate, absorb=world.a.householder, reason="x")
    reg.person_update(
        actor=None, person=Person.objects.get(pk=duplicate.pk), data={"notes": "后来补充"}
    )
    with pytest.raises(ValidationError, match="无法自动撤销"):
        svc.person_unmerge(actor=None, merge=merge)
    assert PersonMerge.objects.get(pk=merge.pk).undone_at is None


def test_merge_needs_a_reason_and_two_live_records(world: World, duplicate: Person) -> None:
    with pytest.raises(ValidationError):
        svc.person_merge(actor=None, keep=duplicate, absorb=world.a.householder, reason=" ")
    with pytest.raises(ValidationError):
        svc.person_merge(actor=None, keep=duplicate, absorb=duplicate, reason="x")
    svc.person_merge(actor=None, keep=duplicate, absorb=world.a.householder, reason="x")
    with pytest.raises(ValidationError, match="已并入其他记录"):
        svc.person_merge(actor=None, keep=world.a.member, absorb=world.a.householder, reason="x")


def test_flags_follow_the_merge_and_the_undo(world: World, duplicate: Person) -> None:
    from linli.linkage.models import ConcernCategory, ConcernFlag

    flag = ConcernFlag.objects.create(
        person=world.a.householder,
        category=ConcernCategory.objects.get(code="health_code"),
        reason="测试",
        grid=world.a.grid,
    )
    merge = svc.person_merge(actor=None, keep=duplicate, absorb=world.a.householder, reason="x")
    assert ConcernFlag.objects.get(pk=flag.pk).person_id == duplicate.pk
    svc.person_unmerge(actor=None, merge=merge)
    assert ConcernFlag.objects.get(pk=flag.pk).person_id == world.a.householder.pk
