"""Screening services: campaigns from each source snapshot their targets, statuses move with
attempts, verification, the phone reveal, and the closed loop counts per grid."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from linli.audit.models import AuditEntry
from linli.emergency.selectors import event_dashboard
from linli.register.models import PersonTag, Tag
from linli.screening import services as svc
from linli.screening.models import ScreeningAttempt
from tests.factories import World, make_world
from tests.screening.factories import campaign_for_list, due, matched_list
from tests.supplies.factories import supplies_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def test_campaign_from_a_matched_list(world: World) -> None:
    wl = matched_list(world.community, [world.a.householder, world.b.member], unfound=1)
    c = campaign_for_list(world, wl, actor=world.head)
    targets = {t.name: t for t in c.targets.all()}
    assert set(targets) == {world.a.householder.name, world.b.member.name, "未登记0"}
    a = targets[world.a.householder.name]
    assert (a.grid, a.assignee, a.status) == (world.a.grid, world.a.worker, "pending")
    assert targets[world.b.member.name].assignee == world.b.worker
    # A row not in the register is worked by the community until the person is found.
    unfound = targets["未登记0"]
    assert (unfound.person, unfound.grid, unfound.assignee) == (None, world.community, None)
    # The snapshot stays: a later row in the list does not join the campaign.
    wl.entries.create(row=9, name="后来的", result="not_found")
    assert c.targets.count() == 3


def test_campaign_from_a_building_and_from_a_tag(world: World) -> None:
    c = svc.campaign_create(
        actor=world.head,
        name="楼栋排查",
        area=world.community,
        source="building",
        building=world.a.building,
        due_on=due(),
    )
    assert set(c.targets.values_list("person_id", flat=True)) == {
        world.a.householder.pk,
        world.a.member.pk,
    }
    tag = Tag.objects.first()
    assert tag is not None
    PersonTag.objects.create(person=world.b.householder, tag=tag)
    c2 = svc.campaign_create(
        actor=world.head, name="标签排查", area=world.community, source="tag", tag=tag, due_on=due()
    )
    assert list(c2.targets.values_list("person_id", flat=True)) == [world.b.householder.pk]


def test_campaign_refuses_bad_input_and_foreign_areas(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.campaign_create(
            actor=world.head, name="", area=world.community, source="building", due_on=due()
        )
    assert set(exc.value.message_dict) == {"name", "building"}
    # A grid worker does not start campaigns; a grid leader of A not over B's building.
    with pytest.raises(PermissionDenied):
        svc.campaign_create(
            actor=world.a.worker,
            name="x",
            area=world.a.grid,
            source="building",
            building=world.a.building,
            due_on=due(),
        )
    with pytest.raises(ValidationError):
        svc.campaign_create(
            actor=world.head,
            name="x",
            area=world.a.grid,
            source="building",
            building=world.b.building,
            due_on=due(),
        )


def test_attempts_move_the_status_and_double_taps_record_once(world: World) -> None:
    wl = matched_list(world.community, [world.a.householder], unfound=0)
    t = campaign_for_list(world, wl).targets.get()
    w = world.a.worker
    svc.target_record(actor=w, target=t, outcome="not_reachable", note="无人接", client_key="1")
    svc.target_record(actor=w, target=t, outcome="not_reachable", note="无人接", client_key="1")
    t.refresh_from_db()
    assert (t.status, t.attempts_count) == ("not_reachable", 1)
    with pytest.raises(ValidationError):
        svc.target_verify(actor=w, target=t)
    with pytest.raises(ValidationError):
        svc.target_record(actor=w, target=t, outcome="moved_away")  # needs a note
    svc.target_record(actor=w, target=t, outcome="reached", client_key="2")
    svc.target_verify(actor=w, target=t)
    t.refresh_from_db()
    assert (t.status, t.attempts_count, t.verified_by) == ("reached", 2, w)
    assert ScreeningAttempt.objects.filter(target=t).count() == 2
    # The worker of the other grid may not touch it.
    with pytest.raises(PermissionDenied):
        svc.target_record(actor=world.b.worker, target=t, outcome="moved_away", note="x")
    with pytest.raises(ValidationError):
        svc.target_record(actor=w, target=t, outcome="pending")


def test_phone_is_revealed_only_to_the_assignee_and_audited(world: World) -> None:
    wl = matched_list(world.community, [world.a.householder], unfound=0)
    t = campaign_for_list(world, wl).targets.get()
    assert svc.target_reveal_phone(actor=world.a.worker, target=t) == world.a.householder_phone
    assert AuditEntry.objects.filter(action="reveal", field="phone").count() == 1
    for other in (world.head, world.b.worker):
        with pytest.raises(PermissionDenied):
            svc.target_reveal_phone(actor=other, target=t)
    assert AuditEntry.objects.filter(action="reveal", field="phone").count() == 1


def test_closed_loop_counts_screened_verified_and_pending_per_grid(world: World) -> None:
    event = supplies_event([world.community])
    wl = matched_list(world.community, [world.a.householder, world.a.member, world.b.member])
    c = campaign_for_list(world, wl, event=event)
    ta = c.targets.filter(grid=world.a.grid).order_by("id")
    svc.target_record(actor=world.a.worker, target=ta[0], outcome="reached")
    svc.target_verify(actor=world.a.worker, target=ta[0])
    svc.target_record(actor=world.a.worker, target=ta[1], outcome="moved_away", note="去外地")
    board = event_dashboard(user=world.head, event=event)
    rows = {r["grid"].pk: r for r in board["rows"]}
    a, b = rows[world.a.grid.pk], rows[world.b.grid.pk]
    assert (a["screened"], a["verified"], a["pending"]) == (2, 1, 0)
    assert (b["screened"], b["verified"], b["pending"]) == (0, 0, 1)
    # Grid A's worker counts only grid A.
    mine = event_dashboard(user=world.a.worker, event=event)
    assert [r["grid"].pk for r in mine["rows"]] == [world.a.grid.pk]
    assert mine["totals"]["pending"] == 0
