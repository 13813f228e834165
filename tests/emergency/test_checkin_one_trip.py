"""The check-in in one round trip (decision 0048): on PostgreSQL the common check-in — a
worker's, no fever, no symptom, a measure in their scope — is written by one pipeline of
prepared statements; it must store exactly what the full service path stores, answer replays
and refusals as that path does, stay inside the caller's jurisdiction, and never write twice
under one key."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.api.idempotency import Keyed
from linli.api.models import IdempotencyRecord
from linli.audit.models import AuditEntry
from linli.audit.services import audit_verify_chain
from linli.emergency import services as em
from linli.emergency.models import (
    CheckIn,
    FollowUpTask,
    QuarantineEvent,
    QuarantineEventKind,
    TaskKind,
    TaskStatus,
)
from tests.api.conftest import ApiClient
from tests.factories import World

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"),
        reason="one-trip writes are PostgreSQL's (decision 0048); SQLite keeps the full path",
    ),
]


@pytest.fixture
def quarantine(world: World) -> Any:
    event = em.event_declare(
        actor=None,
        name="一趟演练",
        kind="epidemic",
        areas=[world.community],
        measures=["quarantine", "checkins"],
    )
    return em.quarantine_start(
        actor=None,
        event=event,
        person=world.a.householder,
        kind="home",
        reason="密接",
        starts_on=timezone.localdate() - dt.timedelta(days=2),
    )


def _post(api: ApiClient, body: Any, key: str | None) -> tuple[int, Any]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api.token}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    response = api.client.post(
        "/api/v1/check-ins", data=json.dumps(body), content_type="application/json", **headers
    )
    return response.status_code, response.json()


def _one_trip(ctx: CaptureQueriesContext) -> bool:
    return any(q["sql"].startswith("WITH q AS") for q in ctx.captured_queries)


def _rows(check: CheckIn) -> dict[str, Any]:
    """What a check-in leaves behind, without keys and clocks."""
    event = QuarantineEvent.objects.get(
        kind=QuarantineEventKind.CHECKED_IN, data__check_in=check.pk
    )
    entry = AuditEntry.objects.get(object_type="checkin", object_id=str(check.pk))
    return {
        "check_in": (
            check.quarantine_id,
            check.day,
            check.temperature,
            check.symptoms,
            check.note,
            check.by_self,
            check.recorded_by_id,
            check.grid_id,
        ),
        "timeline": (event.quarantine_id, event.summary, event.actor_id, event.grid_id),
        "audit": (
            entry.actor_id,
            entry.actor_label,
            entry.action,
            entry.object_label,
            entry.area_id,
            entry.field,
            entry.reason,
            entry.changes,
        ),
    }


def _trail(check: CheckIn) -> list[tuple[Any, ...]]:
    """The timeline entries and tasks a check-in started, in the order they were written."""
    events = QuarantineEvent.objects.filter(
        quarantine_id=check.quarantine_id, at=check.at
    ).order_by("id")
    tasks = FollowUpTask.objects.filter(check_in=check).order_by("id")
    return [(e.kind, e.summary, e.actor_id, e.grid_id) for e in events] + [
        (t.kind, t.day, t.summary, t.assigned_to_id, t.grid_id, t.status) for t in tasks
    ]


@pytest.mark.parametrize(
    ("temperature", "symptoms"),
    [("36.6", []), ("38.2", []), ("36.8", ["cough", "fatigue"]), ("37.5", ["cough"])],
)
def test_one_trip_stores_what_the_full_path_stores(
    quarantine: Any, a_api: ApiClient, world: World, temperature: str, symptoms: list[str]
) -> None:
    today = timezone.localdate()
    body = {
        "quarantine": quarantine.pk,
        "temperature": temperature,
        "symptoms": symptoms,
        "note": " 好 ",
    }
    with CaptureQueriesContext(connection) as ctx:
        status, answer = _post(a_api, body, key="k1")
    assert status == 201 and _one_trip(ctx)
    quick = CheckIn.objects.get(pk=answer["id"])
    assert quick.day == today and quick.note == "好"
    assert answer["alert"] is quick.is_alert is (temperature != "36.6")
    # The full path (called directly, as a page does), same day and values: the same rows.
    full = em.checkin_record(
        actor=world.a.worker,
        quarantine=quarantine,
        temperature=temperature,
        symptoms=symptoms,
        note=" 好 ",
        day=today,
    )
    assert _rows(quick) == _rows(full)
    assert _trail(quick) == _trail(full)
    assert len(_trail(quick)) == (4 if quick.is_alert else 1)
    entry = AuditEntry.objects.get(object_type="checkin", object_id=str(quick.pk))
    assert entry.channel == "api"
    # The stored answer is the answer, with the database's id.
    record = IdempotencyRecord.objects.get(key="k1")
    # (The answer's time is rendered to the millisecond, the stored one is pydantic's: the
    # full path stores the same, and a replay renders it as the first answer.)
    stored = dict(record.body)
    assert stored.pop("at").startswith(answer["at"][:-1])
    assert record.status_code == 201 and stored == {k: v for k, v in answer.items() if k != "at"}
    assert record.operation == "POST /check-ins" and record.user_id == world.a.worker.pk
    assert answer["quarantine_id"] == quarantine.pk and answer["symptoms"] == [
        s for s in ("cough", "fatigue") if s in symptoms
    ]
    # The audit entries went in pending and chain like every other entry.
    assert audit_verify_chain()[1] is None
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()


def test_a_replay_answers_the_stored_body_and_writes_nothing(
    quarantine: Any, a_api: ApiClient
) -> None:
    body = {"quarantine": quarantine.pk, "temperature": "36.4", "symptoms": []}
    first = _post(a_api, body, key="again")
    counts = (CheckIn.objects.count(), QuarantineEvent.objects.count(), AuditEntry.objects.count())
    with CaptureQueriesContext(connection) as ctx:
        assert _post(a_api, body, key="again") == first
    assert _one_trip(ctx)  # answered from the message's own look-up
    assert (
        CheckIn.objects.count(),
        QuarantineEvent.objects.count(),
        AuditEntry.objects.count(),
    ) == counts
    assert IdempotencyRecord.objects.filter(key="again").count() == 1
    # The same key for another body is refused, and nothing is written.
    status, answer = _post(a_api, {**body, "temperature": "36.5"}, key="again")
    assert status == 422 and "Idempotency-Key" in answer["detail"]
    assert CheckIn.objects.count() == counts[0]


def test_a_key_lost_to_a_racing_copy_rolls_everything_back(
    quarantine: Any, a_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rival stored the key between this copy's look-up and its write: the real unique
    constraint refuses this copy's record, the whole pipeline (check-in, timeline, audit) is
    undone, and the full way answers the rival's body."""
    body = {"quarantine": quarantine.pk, "temperature": "36.6", "symptoms": []}
    first = _post(a_api, body, key="race")
    before = (CheckIn.objects.count(), QuarantineEvent.objects.count(), AuditEntry.objects.count())
    # This copy saw no stored answer: its look-up and guard find nothing.
    monkeypatch.setattr(Keyed, "lookup", _nothing_stored)
    monkeypatch.setattr(Keyed, "unused", lambda self: ("TRUE", []))
    assert _post(a_api, body, key="race") == first
    after = (CheckIn.objects.count(), QuarantineEvent.objects.count(), AuditEntry.objects.count())
    assert after == before and IdempotencyRecord.objects.filter(key="race").count() == 1


def _nothing_stored(self: Keyed) -> tuple[str, list[Any]]:
    return "SELECT 1 WHERE FALSE", []


def test_the_day_s_missed_check_in_task_is_closed(quarantine: Any, a_api: ApiClient) -> None:
    today = timezone.localdate()
    task = FollowUpTask.objects.create(
        quarantine=quarantine,
        kind=TaskKind.MISSED_CHECKIN,
        day=today,
        summary="今日未打卡",
        grid_id=quarantine.grid_id,
    )
    other = FollowUpTask.objects.create(
        quarantine=quarantine,
        kind=TaskKind.MISSED_CHECKIN,
        day=today - dt.timedelta(days=1),
        summary="昨日未打卡",
        grid_id=quarantine.grid_id,
    )
    with CaptureQueriesContext(connection) as ctx:
        status, _ = _post(a_api, {"quarantine": quarantine.pk, "temperature": "36.5"}, None)
    assert status == 201 and _one_trip(ctx)
    task.refresh_from_db()
    other.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.done_at is not None
    assert task.note == "已补录打卡。"  # Chinese by default
    assert other.status == TaskStatus.OPEN


def test_another_grid_s_measure_is_not_found_and_nothing_is_written(
    quarantine: Any, b_api: ApiClient
) -> None:
    """Cross-grid: grid B's worker posts for grid A's measure."""
    counts = (CheckIn.objects.count(), AuditEntry.objects.count())
    status, _ = _post(b_api, {"quarantine": quarantine.pk, "temperature": "36.5"}, key="x")
    assert status == 404
    assert (CheckIn.objects.count(), AuditEntry.objects.count()) == counts
    assert not IdempotencyRecord.objects.filter(key="x").exists()


def test_cases_outside_the_one_trip_go_the_full_way(quarantine: Any, a_api: ApiClient) -> None:
    # An unknown symptom: the full path names it.
    with CaptureQueriesContext(connection) as ctx:
        status, answer = _post(
            a_api, {"quarantine": quarantine.pk, "temperature": "36.5", "symptoms": ["x"]}, "s"
        )
    assert status == 422 and not _one_trip(ctx) and answer["detail"]
    # A day before the measure began: the one trip writes nothing, the full way refuses.
    early = (quarantine.starts_on - dt.timedelta(days=1)).isoformat()
    status, _ = _post(
        a_api, {"quarantine": quarantine.pk, "temperature": "36.5", "day": early}, "early"
    )
    assert status == 422 and not CheckIn.objects.exists()
    # A measure that has ended (transferred): refused, nothing written.
    em.quarantine_transfer(actor=None, quarantine=quarantine, to="集中隔离点")
    status, _ = _post(a_api, {"quarantine": quarantine.pk, "temperature": "36.5"}, "late")
    assert status == 422 and not CheckIn.objects.exists()
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_check_in_waiting_on_the_lock_sees_what_its_holder_committed(
    migration_seeds: None,
) -> None:
    """The reminder sweep holds the measure's lock and creates the day's missed-check-in task;
    a check-in arriving meanwhile waits on the lock in its pipeline, and its writing statement —
    with a snapshot taken after the lock — closes the task the sweep committed (decision 0048;
    a single statement would have read the task table before the lock was granted)."""
    from linli.accounts.services import token_issue
    from linli.emergency.models import Quarantine
    from tests.factories import make_world

    world = make_world()
    event = em.event_declare(
        actor=None,
        name="锁演练",
        kind="epidemic",
        areas=[world.community],
        measures=["quarantine", "checkins"],
    )
    q = em.quarantine_start(
        actor=None, event=event, person=world.a.householder, kind="home", reason="密接"
    )
    api = ApiClient(token_issue(actor=None, user=world.a.worker))
    _post(api, {"quarantine": q.pk, "temperature": "36.5"}, None)  # token, caches: warm
    CheckIn.objects.all().delete()
    locked, answered = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def check_in() -> None:
        try:
            assert locked.wait(10)
            with CaptureQueriesContext(connection) as ctx:
                outcome["answer"] = _post(api, {"quarantine": q.pk, "temperature": "36.6"}, "w")
            outcome["one_trip"] = _one_trip(ctx)
        finally:
            answered.set()
            connection.close()

    thread = threading.Thread(target=check_in)
    thread.start()
    with transaction.atomic():  # the sweep, as _remind_one does it
        Quarantine.objects.select_for_update().get(pk=q.pk)
        task = FollowUpTask.objects.create(
            quarantine=q,
            kind=TaskKind.MISSED_CHECKIN,
            day=timezone.localdate(),
            summary="今日未打卡",
            grid_id=q.grid_id,
        )
        locked.set()
        assert not answered.wait(1.5)  # the check-in waits for this lock
    thread.join(20)
    assert outcome["answer"][0] == 201 and outcome["one_trip"]
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
