"""Emergency services: events and their reach, arrivals and the measures they start, the
quarantine state machine, check-ins and alerts, reminders with an injected clock, release."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from linli.emergency import services as em
from linli.emergency.models import (
    Arrival,
    ArrivalDecision,
    CheckIn,
    EmergencyEvent,
    EventStatus,
    FollowUpTask,
    Quarantine,
    QuarantineEvent,
    QuarantineStatus,
    Reminder,
    TaskKind,
    TaskStatus,
)
from linli.emergency.selectors import event_dashboard, events_for_area, events_visible
from tests.emergency.factories import DAY0, at, make_event, make_risk
from tests.factories import World, make_phone

pytestmark = pytest.mark.django_db


def _arrive(world: World, event: EmergencyEvent, **kw: Any) -> Arrival:
    fields: dict[str, Any] = {
        "actor": world.a.worker,
        "event": event,
        "grid": world.a.grid,
        "name": "王归来",
        "phone": make_phone(),
        "arrived_on": DAY0,
        "travel_mode": "train",
        "from_text": "外地",
        "now": at(0),
    }
    fields.update(kw)
    return em.arrival_register(**fields)


def _quarantined(world: World, event: EmergencyEvent) -> Quarantine:
    risk = make_risk(event)
    arrival = _arrive(world, event, risk_area=risk, from_text="")
    return Quarantine.objects.get(arrival=arrival)


# --- events ---------------------------------------------------------------------------------


def test_grid_worker_may_not_declare_and_nothing_is_created(world: World) -> None:
    with pytest.raises(PermissionDenied):
        em.event_declare(
            actor=world.a.worker, name="x", kind="epidemic", areas=[world.community], measures=[]
        )
    assert EmergencyEvent.objects.count() == 0


def test_declared_event_puts_covered_nodes_and_below_in_emergency_mode(world: World) -> None:
    event = em.event_declare(
        actor=world.head,
        name="演练",
        kind="epidemic",
        areas=[world.a.grid],
        measures=["checkins", "arrivals", "bogus"][:2],
        is_drill=True,
    )
    assert (event.area, event.measures, event.is_drill) == (
        world.a.grid,
        ["arrivals", "checkins"],
        True,
    )
    assert events_for_area(world.a.grid) == [event]
    assert events_for_area(world.b.grid) == []
    assert events_for_area(world.community) == []
    # Visible to grid A's worker and the head, not to grid B's worker.
    assert list(events_visible(world.a.worker)) == [event]
    assert list(events_visible(world.head)) == [event]
    assert list(events_visible(world.b.worker)) == []


def test_an_event_over_the_community_reaches_both_grids(world: World) -> None:
    event = make_event(world)
    assert events_for_area(world.a.grid) == [event] == events_for_area(world.b.grid)
    assert list(events_visible(world.b.worker)) == [event]


def test_event_fields_are_checked(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        em.event_declare(
            actor=world.head,
            name=" ",
            kind="war",
            level=7,
            areas=[world.community],
            measures=["bogus"],
            rule_days={"home": 0},
            checkin_deadline_hour=25,
        )
    assert sorted(exc.value.message_dict) == [
        "checkin_deadline_hour",
        "kind",
        "level",
        "measures",
        "name",
        "rule_days",
    ]


def test_ending_closes_measures_and_keeps_records(world: World) -> None:
    event = make_event(world)
    q = _quarantined(world, event)
    em.checkin_record(actor=world.a.worker, quarantine=q, temperature="38.0", now=at(0, 11))
    with pytest.raises(PermissionDenied):
        em.event_end(actor=world.a.worker, event=event)
    em.event_end(actor=world.head, event=event, now=at(1))
    event.refresh_from_db()
    q.refresh_from_db()
    assert (event.status, event.ends_at) == (EventStatus.ENDED, at(1))
    assert q.status == QuarantineStatus.CLOSED
    assert list(FollowUpTask.objects.values_list("status", flat=True)) == [TaskStatus.DONE]
    assert Arrival.objects.count() == 1 and CheckIn.objects.count() == 1
    assert events_for_area(world.a.grid) == []
    with pytest.raises(ValidationError):
        em.event_end(actor=world.head, event=event)


# --- arrivals -------------------------------------------------------------------------------


def test_arrival_from_high_risk_area_starts_home_quarantine(world: World) -> None:
    event = make_event(world)
    risk = make_risk(event, "high")
    arrival = _arrive(
        world, event, risk_area=risk, from_text="", arrived_on=DAY0 - dt.timedelta(days=1)
    )
    q = Quarantine.objects.get(arrival=arrival)
    assert (q.kind, q.starts_on, q.planned_end, q.status) == (
        "home",
        DAY0 - dt.timedelta(days=1),
        DAY0 + dt.timedelta(days=13),
        "active",
    )
    assert q.responsible == world.a.worker
    assert arrival.decision == ArrivalDecision.QUARANTINE
    assert list(q.events.values_list("kind", flat=True)) == ["started"]


def test_arrival_from_medium_risk_starts_monitoring_and_low_stays_pending(world: World) -> None:
    event = make_event(world)
    medium = _arrive(world, event, risk_area=make_risk(event, "medium", "丙地"), from_text="")
    low = _arrive(world, event, risk_area=make_risk(event, "low", "丁地"), from_text="")
    q = Quarantine.objects.get(arrival=medium)
    assert (q.kind, q.planned_end) == ("home_monitoring", DAY0 + dt.timedelta(days=7))
    low.refresh_from_db()
    assert low.decision == ArrivalDecision.PENDING
    assert not Quarantine.objects.filter(arrival=low).exists()


def test_arrival_matches_the_register_by_national_id_then_phone(world: World) -> None:
    event = make_event(world)
    by_id = _arrive(world, event, national_id=world.a.householder_id_number, phone="")
    by_phone = _arrive(
        world, event, phone=world.a.householder_phone, arrived_on=DAY0 - dt.timedelta(days=2)
    )
    stranger = _arrive(world, event)
    assert (by_id.person, by_phone.person, stranger.person) == (
        world.a.householder,
        world.a.householder,
        None,
    )
    assert by_id.id_masked == world.a.householder.id_masked
    assert bytes(by_id.id_sealed or b"") and world.a.householder_id_number.encode() not in bytes(
        by_id.id_sealed or b""
    )


def test_a_repeated_registration_is_stored_once(world: World) -> None:
    event = make_event(world)
    phone = make_phone()
    first = _arrive(world, event, phone=phone)
    again = _arrive(world, event, phone=phone, name="王归来")
    assert again.pk == first.pk
    assert Arrival.objects.count() == 1


def test_arrival_input_errors_name_each_field(world: World) -> None:
    event = make_event(world)
    with pytest.raises(ValidationError) as exc:
        _arrive(
            world,
            event,
            name="",
            phone="12",
            national_id="123",
            arrived_on=DAY0 + dt.timedelta(days=1),
            travel_mode="horse",
            from_text="",
        )
    assert sorted(exc.value.message_dict) == [
        "arrived_on",
        "from_text",
        "name",
        "national_id",
        "phone",
        "travel_mode",
    ]
    assert Arrival.objects.count() == 0


def test_worker_of_grid_a_cannot_register_into_grid_b(world: World) -> None:
    event = make_event(world)
    with pytest.raises(PermissionDenied):
        _arrive(world, event, grid=world.b.grid)
    assert Arrival.objects.count() == 0


def test_decide_pending_arrival(world: World) -> None:
    event = make_event(world)
    arrival = _arrive(world, event)
    with pytest.raises(PermissionDenied):
        em.arrival_decide(actor=world.b.worker, arrival=arrival, decision="home")
    em.arrival_decide(actor=world.a.worker, arrival=arrival, decision="centralised", now=at(0, 12))
    arrival.refresh_from_db()
    assert (arrival.decision, arrival.verified_by) == (ArrivalDecision.QUARANTINE, world.a.worker)
    q = Quarantine.objects.get(arrival=arrival)
    assert (q.kind, q.planned_end) == ("centralised", DAY0 + dt.timedelta(days=14))
    with pytest.raises(ValidationError):
        em.arrival_decide(actor=world.a.worker, arrival=arrival, decision="no_measure")


# --- quarantine state machine ---------------------------------------------------------------


def test_release_needs_the_days_done_and_every_check_in(world: World) -> None:
    event = make_event(world, rule_days={"home": 3})
    q = _quarantined(world, event)
    assert q.planned_end == DAY0 + dt.timedelta(days=3)
    em.checkin_record(actor=None, quarantine=q, temperature="36.5", by_self=True, now=at(0, 10))
    with pytest.raises(ValidationError, match="计划天数未满"):
        em.quarantine_release(actor=world.a.worker, quarantine=q, now=at(2, 12))
    em.checkin_record(actor=None, quarantine=q, temperature="36.6", by_self=True, now=at(1, 8))
    with pytest.raises(ValidationError, match=str(DAY0 + dt.timedelta(days=2))):
        em.quarantine_release(actor=world.a.worker, quarantine=q, now=at(3, 12))
    q.refresh_from_db()
    assert q.status == "active"
    # The worker records the missed day on the person's behalf, then releases.
    em.checkin_record(
        actor=world.a.worker,
        quarantine=q,
        temperature="36.4",
        day=DAY0 + dt.timedelta(days=2),
        now=at(3, 12),
    )
    with pytest.raises(PermissionDenied):
        em.quarantine_release(actor=world.b.worker, quarantine=q, now=at(3, 12))
    cert = em.quarantine_release(actor=world.a.worker, quarantine=q, now=at(3, 13))
    q.refresh_from_db()
    assert (q.status, q.ended_at, cert.quarantine_id) == ("released", at(3, 13), q.pk)
    assert list(q.events.order_by("at", "id").values_list("kind", flat=True)) == [
        "started",
        "checked_in",
        "checked_in",
        "checked_in",
        "released",
    ]


def test_illegal_transitions_are_refused(world: World) -> None:
    event = make_event(world)
    q = _quarantined(world, event)
    em.quarantine_transfer(actor=world.a.worker, quarantine=q, to="定点医院", now=at(1))
    for call in (
        lambda: em.quarantine_extend(actor=world.a.worker, quarantine=q, days=3, reason="x"),
        lambda: em.quarantine_release(actor=world.a.worker, quarantine=q, now=at(30)),
        lambda: em.quarantine_transfer(actor=world.a.worker, quarantine=q, to="x"),
        lambda: em.checkin_record(
            actor=world.a.worker, quarantine=q, temperature="36.5", now=at(1)
        ),
    ):
        with pytest.raises(em.IllegalTransition):
            call()
    q.refresh_from_db()
    assert q.status == "transferred"
    assert q.events.count() == 2


def test_extend_moves_the_planned_end_with_a_reason(world: World) -> None:
    event = make_event(world)
    q = _quarantined(world, event)
    with pytest.raises(ValidationError):
        em.quarantine_extend(actor=world.a.worker, quarantine=q, days=0, reason="")
    em.quarantine_extend(actor=world.a.worker, quarantine=q, days=7, reason="密接复核", now=at(2))
    q.refresh_from_db()
    assert q.planned_end == DAY0 + dt.timedelta(days=21)
    assert q.events.first().kind == "extended"  # type: ignore[union-attr]


# --- check-ins and alerts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("temperature", "symptoms", "alert"),
    [("37.2", [], False), ("37.3", [], True), ("36.5", ["cough"], True), ("36.5", [], False)],
)
def test_fever_or_symptom_raises_alert_and_task_at_once(
    world: World, temperature: str, symptoms: list[str], alert: bool
) -> None:
    event = make_event(world)
    q = _quarantined(world, event)
    check = em.checkin_record(
        actor=None,
        quarantine=q,
        temperature=temperature,
        symptoms=symptoms,
        by_self=True,
        now=at(0, 8),
    )
    tasks = list(
        FollowUpTask.objects.values_list("kind", "check_in_id", "assigned_to_id", "status")
    )
    assert tasks == (
        [(TaskKind.HEALTH_ALERT, check.pk, world.a.worker.pk, "open")] if alert else []
    )
    assert QuarantineEvent.objects.filter(quarantine=q, kind="alert").count() == int(alert)


def test_check_in_input_is_checked(world: World) -> None:
    event = make_event(world)
    q = _quarantined(world, event)
    for kw in (
        {"temperature": "45"},
        {"temperature": "abc"},
        {"temperature": "36.5", "symptoms": ["flu"]},
        {"temperature": "36.5", "day": DAY0 + dt.timedelta(days=1)},
        {"temperature": "36.5", "day": DAY0 - dt.timedelta(days=1)},
    ):
        with pytest.raises(ValidationError):
            em.checkin_record(actor=world.a.worker, quarantine=q, now=at(0, 9), **kw)
    with pytest.raises(PermissionDenied):
        em.checkin_record(actor=world.b.worker, quarantine=q, temperature="36.5", now=at(0, 9))
    assert CheckIn.objects.count() == 0


# --- reminders ------------------------------------------------------------------------------


def test_reminder_then_task_once_a_day(
    world: World, django_capture_on_commit_callbacks: Any, capsys: Any, settings: Any
) -> None:
    settings.LINLI_EMERGENCY_ESCALATE_MINUTES = 120
    event = make_event(world)
    phone = make_phone()
    risk = make_risk(event)
    arrival = _arrive(world, event, risk_area=risk, from_text="", phone=phone)
    q = Quarantine.objects.get(arrival=arrival)
    other = _quarantined(world, event)  # checks in on time
    em.checkin_record(actor=None, quarantine=other, temperature="36.5", by_self=True, now=at(1, 8))
    capsys.readouterr()

    # Before the deadline hour (10:00) of day 1: nothing.
    assert em.reminders_run(now=at(1, 9, 59)) == {"reminded": 0, "tasks": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert em.reminders_run(now=at(1, 10, 5)) == {"reminded": 1, "tasks": 0}
    out = capsys.readouterr().out
    assert f"[SMS → {phone}]" in out and out.count("[SMS") == 1
    # Idempotent within the day; the task comes when the reminder is two hours old.
    with django_capture_on_commit_callbacks(execute=True):
        assert em.reminders_run(now=at(1, 10, 20)) == {"reminded": 0, "tasks": 0}
        assert em.reminders_run(now=at(1, 12, 4)) == {"reminded": 0, "tasks": 0}
        assert em.reminders_run(now=at(1, 12, 5)) == {"reminded": 0, "tasks": 1}
        assert em.reminders_run(now=at(1, 13)) == {"reminded": 0, "tasks": 0}
    assert capsys.readouterr().out == ""
    assert list(Reminder.objects.values_list("quarantine_id", "day")) == [
        (q.pk, DAY0 + dt.timedelta(days=1))
    ]
    task = FollowUpTask.objects.get()
    assert (task.quarantine, task.kind, task.day, task.status) == (
        q,
        TaskKind.MISSED_CHECKIN,
        DAY0 + dt.timedelta(days=1),
        "open",
    )
    # A late check-in for that day closes the task.
    em.checkin_record(
        actor=world.a.worker,
        quarantine=q,
        temperature="36.6",
        day=DAY0 + dt.timedelta(days=1),
        now=at(1, 15),
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert list(q.events.order_by("at", "id").values_list("kind", flat=True)) == [
        "started",
        "reminded",
        "task",
        "checked_in",
    ]


def test_dashboard_counts_per_grid(world: World) -> None:
    event = make_event(world)
    q = _quarantined(world, event)
    _arrive(world, event)  # pending
    em.checkin_record(actor=None, quarantine=q, temperature="38.1", by_self=True, now=at(0, 8))
    _quarantined(world, event)  # another, missing today
    board = event_dashboard(user=world.a.worker, event=event, today=DAY0)
    assert [r["grid"] for r in board["rows"]] == [world.a.grid]
    row = board["rows"][0]
    assert {k: row[k] for k in row if k != "grid"} == {
        "active": 2,
        "checked_in": 1,
        "missing": 1,
        "alerts": 1,
        "tasks": 1,
        "screened": 3,
        "verified": 0,
        "tested": 0,  # fed by linli.health's test rounds
        "quarantined": 2,
        "released": 0,
        "pending": 1,
    }
    head = event_dashboard(user=world.head, event=event, today=DAY0)
    assert [r["grid"] for r in head["rows"]] == [world.a.grid, world.b.grid]
    assert head["rows"][1]["screened"] == 0
    assert event_dashboard(user=world.b.worker, event=event, today=DAY0)["totals"]["screened"] == 0
