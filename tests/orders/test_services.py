"""Every transition of the work order machine: allowed, illegal, and refused without change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model

from linli.audit.models import AuditEntry
from linli.orders import services as svc
from linli.orders.models import FollowUp, Level, OrderEvent, Source, Status, WorkOrder
from linli.orders.workflow import TRANSITIONS, IllegalTransition
from tests.factories import World
from tests.orders.factories import (
    T0,
    category,
    department,
    department_user,
    order_in,
    photo,
    resident_user,
    volunteer,
)

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def state(order: WorkOrder) -> tuple[Any, ...]:
    """Everything a refused call must leave as it was."""
    o = WorkOrder.objects.get(pk=order.pk)
    return (
        o.status,
        o.level,
        o.assignee_id,
        o.department_id,
        o.due_at,
        o.rating_stars,
        o.followup,
        OrderEvent.objects.filter(order=o).count(),
        AuditEntry.objects.count(),
    )


def refused(call: Any, order: WorkOrder, exc: type[Exception] = PermissionDenied) -> None:
    before = state(order)
    with pytest.raises(exc):
        call()
    assert state(order) == before


def trail(order: WorkOrder) -> list[tuple[str, str, str]]:
    return list(
        OrderEvent.objects.filter(order=order)
        .order_by("at", "id")
        .values_list("action", "from_status", "to_status")
    )


def test_submit_by_resident_sets_number_level_due_and_seals_phone(world: World) -> None:
    order = order_in(world, phone="13800138000")
    assert order.number == f"GD20261102{order.pk:06d}"
    assert (order.status, order.level, order.source) == (Status.SUBMITTED, Level.GRID, "portal")
    assert order.due_at == T0 + 24 * H
    assert order.phone_masked == "138****8000"
    assert b"13800138000" not in bytes(order.phone_sealed)
    assert order.requester_user == resident_user(world)
    assert trail(order) == [("submit", "", "submitted")]
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (entry.action, entry.object_label, entry.area) == ("create", order.number, world.a.grid)
    assert "13800138000" not in str(entry.changes)


def test_submit_copies_the_register_phone_sealed(world: World) -> None:
    order = order_in(world)
    assert order.phone_masked == world.a.householder.phone_masked
    assert order.contact_name == world.a.householder.name


def test_submit_retry_with_the_same_key_returns_the_same_order(world: World) -> None:
    first = order_in(world, client_key="k1")
    again = order_in(world, client_key="k1")
    assert again.pk == first.pk
    assert WorkOrder.objects.count() == 1


def test_submit_refuses_bad_input_with_messages_per_field(world: World) -> None:
    with pytest.raises(ValidationError) as info:
        order_in(world, title=" ", phone="12345")
    assert set(info.value.message_dict) == {"title", "phone"}
    assert WorkOrder.objects.count() == 0


def test_resident_cannot_file_in_another_grid_and_worker_only_in_their_own(world: World) -> None:
    user = resident_user(world)
    with pytest.raises(PermissionDenied):
        svc.order_submit(
            actor=user, category=category(), title="x", grid=world.b.grid, requester=None
        )
    with pytest.raises(PermissionDenied):
        svc.order_submit(
            actor=world.a.worker,
            category=category(),
            title="电话求助",
            grid=world.b.grid,
            source=Source.WORKER,
        )
    order = svc.order_submit(
        actor=world.a.worker,
        category=category("elderly_care"),
        title="电话求助",
        grid=world.a.grid,
        requester=world.a.householder,
        source=Source.WORKER,
        channel="phone",
        now=T0,
    )
    assert (order.source, order.channel, order.requester_user) == ("worker", "phone", None)
    assert WorkOrder.objects.count() == 1


def test_safety_category_starts_at_the_community(world: World) -> None:
    order = order_in(world, code="safety")
    assert (order.level, order.due_at) == (Level.COMMUNITY, T0 + 12 * H)


def test_the_whole_loop_with_a_volunteer(world: World) -> None:
    vol = volunteer(world.a.grid)
    order = order_in(world)
    resident = resident_user(world)
    svc.order_accept(actor=world.a.worker, order=order, now=T0 + H)
    svc.order_dispatch(actor=world.a.worker, order=order, assignee=vol, now=T0 + 2 * H)
    svc.order_take(actor=vol, order=order, now=T0 + 3 * H)
    svc.order_start(actor=vol, order=order, now=T0 + 4 * H)
    svc.order_finish(
        actor=vol, order=order, note="换了灯泡", minutes_spent=30, photos=[photo()], now=T0 + 5 * H
    )
    svc.order_rate(actor=resident, order=order, stars=5, words="很快", now=T0 + 6 * H)
    order.refresh_from_db()
    assert order.status == Status.RATED
    assert (order.rating_stars, order.rating_words, order.rating_fixed) == (5, "很快", True)
    assert order.followup == FollowUp.SCHEDULED
    assert order.followup_at == T0 + 6 * H + dt.timedelta(days=7)
    assert (order.accepted_at, order.taken_at, order.done_at) == (T0 + H, T0 + 3 * H, T0 + 5 * H)
    assert order.assignee == vol
    assert trail(order) == [
        ("submit", "", "submitted"),
        ("accept", "submitted", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("take", "dispatched", "taken"),
        ("start", "taken", "in_progress"),
        ("finish", "in_progress", "done"),
        ("rate", "done", "rated"),
    ]
    finish = OrderEvent.objects.get(order=order, action="finish")
    assert (finish.note, finish.minutes_spent, finish.attachments.count()) == ("换了灯泡", 30, 1)
    # Days later the follow-up question comes; "yes" closes the order.
    assert svc.orders_followup_due(now=T0 + 6 * H + dt.timedelta(days=6)) == 0
    assert svc.orders_followup_due(now=T0 + 6 * H + dt.timedelta(days=7)) == 1
    svc.order_followup_answer(actor=resident, order=order, still_fixed=True, now=T0 + 8 * 24 * H)
    order.refresh_from_db()
    assert (order.status, order.followup) == (Status.CLOSED, FollowUp.YES)
    assert [a for a, _f, _t in trail(order)][-2:] == ["followup", "close"]


def test_open_for_volunteers_first_taker_wins(world: World) -> None:
    v1, v2 = volunteer(world.a.grid, "v1"), volunteer(world.community, "v2")
    vb = volunteer(world.b.grid, "vb")
    order = order_in(world)
    svc.order_accept(actor=world.a.worker, order=order, now=T0)
    svc.order_open(actor=world.a.worker, order=order, now=T0)
    refused(lambda: svc.order_take(actor=vb, order=order, now=T0), order)
    svc.order_take(actor=v2, order=order, now=T0 + H)
    refused(lambda: svc.order_take(actor=v1, order=order), order, IllegalTransition)
    assert WorkOrder.objects.get(pk=order.pk).assignee == v2


def test_dispatched_order_is_taken_only_by_its_assignee(world: World) -> None:
    v1, v2 = volunteer(world.a.grid, "v1"), volunteer(world.a.grid, "v2")
    order = order_in(world)
    svc.order_accept(actor=world.a.worker, order=order)
    refused(
        lambda: svc.order_dispatch(actor=world.a.worker, order=order, assignee=world.b.worker),
        order,
        ValidationError,
    )
    svc.order_dispatch(actor=world.a.worker, order=order, assignee=v1)
    refused(lambda: svc.order_take(actor=v2, order=order), order)
    refused(lambda: svc.order_start(actor=v2, order=order), order)
    svc.order_take(actor=v1, order=order)
    refused(lambda: svc.order_start(actor=v2, order=order), order)


def test_finish_needs_a_note_even_with_a_photo(world: World) -> None:
    vol = volunteer(world.a.grid)
    order = order_in(world)
    svc.order_accept(actor=world.a.worker, order=order)
    svc.order_dispatch(actor=world.a.worker, order=order, assignee=vol)
    svc.order_take(actor=vol, order=order)
    svc.order_start(actor=vol, order=order)
    before = state(order)
    with pytest.raises(ValidationError) as info:
        svc.order_finish(actor=vol, order=order, note="  ", photos=[photo()])
    assert info.value.message_dict == {"note": ["请写明做了什么；照片不能代替办理记录。"]}
    assert state(order) == before
    assert not WorkOrder.objects.get(pk=order.pk).attachments.exists()


def test_not_fixed_reopens_and_the_grid_accepts_again(world: World) -> None:
    vol = volunteer(world.a.grid)
    order = order_in(world)
    for call in (
        lambda: svc.order_accept(actor=world.a.worker, order=order, now=T0),
        lambda: svc.order_dispatch(actor=world.a.worker, order=order, assignee=vol, now=T0),
        lambda: svc.order_take(actor=vol, order=order, now=T0),
        lambda: svc.order_start(actor=vol, order=order, now=T0),
        lambda: svc.order_finish(actor=vol, order=order, note="修了", now=T0),
    ):
        call()
    refused(
        lambda: svc.order_rate(actor=vol, order=order, stars=5), order
    )  # the doer may not rate their own work
    refused(
        lambda: svc.order_rate(actor=resident_user(world), order=order, stars=6),
        order,
        ValidationError,
    )
    svc.order_rate(actor=resident_user(world), order=order, stars=2, fixed=False, now=T0 + 2 * H)
    order.refresh_from_db()
    assert (order.status, order.due_at, order.followup) == (Status.REOPENED, T0 + 26 * H, "")
    assert [a for a, _f, _t in trail(order)][-2:] == ["rate", "reopen"]
    svc.order_accept(actor=world.a.worker, order=order)
    assert WorkOrder.objects.get(pk=order.pk).status == Status.ACCEPTED


def test_followup_no_reopens_a_closed_order(world: World) -> None:
    order = order_in(world)
    resident = resident_user(world)
    WorkOrder.objects.filter(pk=order.pk).update(status=Status.DONE)
    svc.order_rate(actor=resident, order=order, stars=4, now=T0)
    svc.order_close(actor=world.a.worker, order=order, now=T0 + H)
    refused(
        lambda: svc.order_followup_answer(actor=resident, order=order, still_fixed=False),
        order,
        ValidationError,
    )  # not asked yet
    svc.orders_followup_due(now=T0 + dt.timedelta(days=8))
    refused(
        lambda: svc.order_followup_answer(actor=world.a.worker, order=order, still_fixed=True),
        order,
    )
    svc.order_followup_answer(actor=resident, order=order, still_fixed=False, now=T0 + 9 * 24 * H)
    order.refresh_from_db()
    assert (order.status, order.followup) == (Status.REOPENED, FollowUp.NO)


def test_return_needs_a_reason_and_ends_the_order(world: World) -> None:
    order = order_in(world)
    refused(
        lambda: svc.order_return(actor=world.a.worker, order=order, reason=""),
        order,
        ValidationError,
    )
    svc.order_return(actor=world.a.worker, order=order, reason="不属于本社区")
    order.refresh_from_db()
    assert (order.status, order.due_at) == (Status.RETURNED, None)
    refused(lambda: svc.order_accept(actor=world.a.worker, order=order), order, IllegalTransition)


def test_cancel_by_requester_before_taken_only(world: World) -> None:
    vol = volunteer(world.a.grid)
    resident = resident_user(world)
    other = resident_user(world, "b")
    order = order_in(world)
    refused(lambda: svc.order_cancel(actor=other, order=order), order)
    svc.order_accept(actor=world.a.worker, order=order)
    svc.order_dispatch(actor=world.a.worker, order=order, assignee=vol)
    svc.order_take(actor=vol, order=order)
    refused(lambda: svc.order_cancel(actor=resident, order=order), order, IllegalTransition)
    second = order_in(world, title="再来一个")
    svc.order_cancel(actor=resident, order=second, reason="已自己解决")
    assert WorkOrder.objects.get(pk=second.pk).status == Status.CANCELLED


def test_sibling_grid_worker_and_volunteer_change_nothing(world: World) -> None:
    order = order_in(world)
    vb = volunteer(world.b.grid, "vb")
    for actor in (world.b.worker, vb, resident_user(world, "b")):
        refused(lambda a=actor: svc.order_accept(actor=a, order=order), order)
        refused(lambda a=actor: svc.order_return(actor=a, order=order, reason="x"), order)
        refused(lambda a=actor: svc.order_escalate(actor=a, order=order), order)
    svc.order_accept(actor=world.a.worker, order=order)
    for actor in (world.b.worker, vb):
        refused(lambda a=actor: svc.order_open(actor=a, order=order), order)
        refused(
            lambda a=actor: svc.order_dispatch(actor=a, order=order, assignee=world.a.worker),
            order,
        )
        refused(lambda a=actor: svc.order_close(actor=a, order=order), order)


def test_illegal_transitions_raise_a_clear_error(world: World) -> None:
    order = order_in(world)
    refused(lambda: svc.order_start(actor=world.a.worker, order=order), order, IllegalTransition)
    with pytest.raises(IllegalTransition) as info:
        svc.order_close(actor=world.a.worker, order=order)
    assert info.value.messages == ["处于“已提交”状态的工单不能执行“关闭工单”。"]
    refused(lambda: svc.order_answer(actor=None, order=order, note="x"), order, IllegalTransition)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_action_is_refused_from_every_state_the_table_does_not_allow(action: str) -> None:
    from linli.orders.workflow import transition_check

    sources, target = TRANSITIONS[action]
    for status in Status.values:
        if status in sources:
            assert transition_check(action, status) == (target or status)
        else:
            with pytest.raises(IllegalTransition):
                transition_check(action, status)


def test_escalation_task_climbs_the_ladder_on_a_frozen_clock(world: World) -> None:
    order = order_in(world)  # repair: 24 h at the grid, 48 at the community, 72 above
    assert svc.orders_escalate_overdue(now=T0 + 23 * H) == {
        "escalated": 0,
        "whistled": 0,
        "left": 0,
    }
    assert svc.orders_escalate_overdue(now=T0 + 25 * H)["escalated"] == 1
    order.refresh_from_db()
    assert (order.level, order.status, order.due_at) == (
        Level.COMMUNITY,
        Status.SUBMITTED,
        T0 + 73 * H,
    )
    event = OrderEvent.objects.get(order=order, action="escalate")
    assert (event.actor, event.from_level, event.to_level, event.note) == (
        None,
        "grid",
        "community",
        "已超过办理时限。",
    )
    # The grid worker no longer handles it; the community head does.
    refused(lambda: svc.order_accept(actor=world.a.worker, order=order), order)
    svc.orders_escalate_overdue(now=T0 + 74 * H)
    order.refresh_from_db()
    assert order.level == Level.SUBDISTRICT
    # No department takes repairs: it stays, overdue, at the subdistrict.
    assert svc.orders_escalate_overdue(now=T0 + 200 * H) == {
        "escalated": 0,
        "whistled": 0,
        "left": 1,
    }
    dept = department(world)
    assert svc.orders_escalate_overdue(now=T0 + 201 * H)["whistled"] == 1
    order.refresh_from_db()
    assert (order.level, order.status, order.department, order.whistled_from) == (
        Level.DEPARTMENT,
        Status.WHISTLED,
        dept,
        Level.SUBDISTRICT,
    )
    assert order.due_at == T0 + 201 * H + 120 * H


def test_whistle_and_answer_back_to_the_community(world: World) -> None:
    liaison = department_user(world)
    other_liaison = department_user(world, "other-dept")
    dept = department(world, users=(liaison,))
    order = order_in(world)
    # A grid worker may not whistle; the community head may.
    refused(
        lambda: svc.order_whistle(actor=world.a.worker, order=order, department=dept, note="x"),
        order,
    )
    refused(
        lambda: svc.order_whistle(actor=world.head, order=order, department=dept, note=""),
        order,
        ValidationError,
    )
    svc.order_whistle(actor=world.head, order=order, department=dept, note="占道经营", now=T0)
    order.refresh_from_db()
    assert (order.status, order.level, order.whistled_from) == (
        Status.WHISTLED,
        Level.DEPARTMENT,
        Level.COMMUNITY,
    )
    refused(lambda: svc.order_answer(actor=other_liaison, order=order, note="x"), order)
    refused(lambda: svc.order_answer(actor=world.head, order=order, note="x"), order)
    svc.order_answer(actor=liaison, order=order, note="已清理", now=T0 + H)
    order.refresh_from_db()
    assert (order.status, order.level, order.answered_at) == (
        Status.ANSWERED,
        Level.COMMUNITY,
        T0 + H,
    )
    refused(lambda: svc.order_close(actor=world.a.worker, order=order), order)
    svc.order_close(actor=world.head, order=order, note="核实已清理")
    assert WorkOrder.objects.get(pk=order.pk).status == Status.CLOSED


def test_after_rated_hook_is_called_only_for_fixed(world: World, monkeypatch: Any) -> None:
    calls: list[Model] = []
    monkeypatch.setattr(svc, "_after_rated", calls.append)
    a, b = order_in(world), order_in(world, title="另一件")
    WorkOrder.objects.filter(pk__in=[a.pk, b.pk]).update(status=Status.DONE)
    svc.order_rate(actor=resident_user(world), order=a, stars=5)
    svc.order_rate(actor=resident_user(world), order=b, stars=1, fixed=False)
    assert [o.pk for o in calls] == [a.pk]


def test_periodic_tasks_run_the_services(world: World) -> None:
    from linli.orders import tasks

    order = order_in(world)  # filed on 2 November; it is later than that now
    assert tasks.escalate_overdue.call_local() == {"escalated": 1, "whistled": 0, "left": 0}
    assert WorkOrder.objects.get(pk=order.pk).level == Level.COMMUNITY
    assert tasks.ask_followups.call_local() == 0
