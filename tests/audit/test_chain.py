"""The audit log's hash chain with the sequencer (decision 0043): on PostgreSQL an entry is
written pending and chained after it commits; SQLite chains in place. Either way the chain
verifies, the triggers let the chain columns be set once and nothing else change, and an
altered entry breaks the chain."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from linli.audit.models import AuditAction, AuditEntry
from linli.audit.services import audit_chain_pending, audit_record, audit_verify_chain
from linli.audit.triggers import (
    CHAIN_COLUMNS,
    CHAINED_CREATE,
    CHAINED_DROP,
    CONTENT_COLUMNS,
)

pytestmark = pytest.mark.django_db


def _record(label: str) -> AuditEntry:
    return audit_record(actor=None, action=AuditAction.EXPORT, object_label=label)


def _update(sql: str, params: list[Any]) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


def test_entries_are_chained_in_place_or_after_commit_and_verify() -> None:
    first = _record("一")
    second = _record("二")
    if connection.vendor == "postgresql":
        # Written pending: no lock, no chain look-up in the writer's transaction.
        assert [first.seq, first.entry_hash, second.seq] == [None, "", None]
        assert audit_chain_pending() == 2
    else:
        assert second.seq == first.seq + 1 and second.prev_hash == first.entry_hash
    assert audit_chain_pending() == 0  # nothing left: chained once
    rows = list(AuditEntry.objects.filter(pk__in=[first.pk, second.pk]).order_by("seq"))
    assert [r.pk for r in rows] == [first.pk, second.pk]
    assert rows[1].prev_hash == rows[0].entry_hash and rows[1].seq == rows[0].seq + 1
    checked, broken = audit_verify_chain()
    assert broken is None and checked == AuditEntry.objects.count()


def test_the_sequencer_continues_the_chain_from_its_head() -> None:
    _record("head")
    audit_chain_pending()
    head = AuditEntry.objects.order_by("-seq").first()
    assert head is not None
    pending = [
        AuditEntry.objects.create(at=head.at, actor_label="x", action="export", object_label=n)
        for n in ("a", "b", "c")
    ]
    assert audit_chain_pending(batch=2) == 3  # in two batches
    chained = list(AuditEntry.objects.filter(pk__in=[p.pk for p in pending]).order_by("seq"))
    assert [c.seq for c in chained] == [head.seq + 1, head.seq + 2, head.seq + 3]
    assert chained[0].prev_hash == head.entry_hash
    assert audit_verify_chain()[1] is None


def test_triggers_allow_chaining_once_and_nothing_else() -> None:
    entry = AuditEntry.objects.create(
        at=_record("at").at, actor_label="x", action="export", object_label="pending"
    )
    # A pending entry's content cannot change, not even together with its chaining.
    with pytest.raises(DatabaseError):
        _update("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError):
        _update(
            "UPDATE audit_auditentry SET seq = 999999, object_label = 'y' WHERE id = %s",
            [entry.pk],
        )
    audit_chain_pending()
    entry.refresh_from_db()
    assert entry.seq is not None
    # Chained: no second chaining, no edit of the hashes, no delete.
    with pytest.raises(DatabaseError):
        _update("UPDATE audit_auditentry SET seq = seq + 1000 WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError):
        _update("UPDATE audit_auditentry SET entry_hash = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError):
        _update("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert audit_verify_chain()[1] is None


def test_an_altered_entry_breaks_the_chain() -> None:
    for label in ("a", "b", "c"):
        _record(label)
    audit_chain_pending()
    middle = AuditEntry.objects.get(object_label="b")
    vendor = connection.vendor
    with connection.cursor() as cur:  # what someone with the database's keys could do
        for sql in CHAINED_DROP[vendor]:
            cur.execute(sql)
        cur.execute("UPDATE audit_auditentry SET reason = 'forged' WHERE id = %s", [middle.pk])
        for sql in CHAINED_CREATE[vendor]:
            cur.execute(sql)
    assert audit_verify_chain()[1] == middle.pk


def test_the_sqlite_trigger_names_every_content_column() -> None:
    """A column added later must be added to CONTENT_COLUMNS (and the trigger), or an update
    of it would pass SQLite's trigger unnoticed."""
    columns = {f.column for f in AuditEntry._meta.concrete_fields}
    assert set(CONTENT_COLUMNS) == columns - set(CHAIN_COLUMNS)


@pytest.mark.django_db(transaction=True)
def test_an_entry_committed_after_a_later_one_is_chained_after_it() -> None:
    """Ids are handed out at insert, commits land in any order: the chain follows the order in
    which the sequencer sees them committed, never a gap or a fork."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: entries are chained in place")
    inserted, release = threading.Event(), threading.Event()
    slow: dict[str, int] = {}

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                slow["id"] = _record("slow").pk
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(10)
    fast = _record("fast")  # a later id, committed first
    assert fast.pk > slow["id"]
    audit_chain_pending()
    release.set()
    thread.join()
    audit_chain_pending()
    seqs = dict(AuditEntry.objects.filter(pk__in=[fast.pk, slow["id"]]).values_list("id", "seq"))
    assert seqs[fast.pk] < seqs[slow["id"]]
    checked, broken = audit_verify_chain()
    assert broken is None and checked == AuditEntry.objects.count()


def test_the_command_chains_what_is_pending(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    AuditEntry.objects.create(
        at=_record("at").at, actor_label="x", action="export", object_label="pending"
    )
    call_command("audit_chain", "--once")
    assert "chained" in capsys.readouterr().out
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()


def test_the_worker_chains_what_is_pending_every_minute() -> None:
    """The huey worker's periodic task: due at every minute of the day, and when it runs it
    chains what a deployment without `linli audit_chain` left pending."""
    import datetime as dt

    from linli.audit.tasks import chain_audit_entries

    start = dt.datetime(2026, 11, 23, 0, 0)
    minutes = [start + dt.timedelta(minutes=m) for m in range(24 * 60)]
    task = chain_audit_entries.task_class()
    assert all(task.validate_datetime(t) for t in minutes)
    AuditEntry.objects.create(
        at=_record("at").at, actor_label="x", action="export", object_label="left pending"
    )
    assert AuditEntry.objects.filter(seq__isnull=True).exists()
    chain_audit_entries.call_local()
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()
    assert audit_verify_chain()[1] is None
