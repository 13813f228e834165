"""Writing to the audit log. Every reveal, change, export and sign-in goes through here."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from linli.audit.context import current_context
from linli.audit.models import AuditEntry

# Serialises the sequencer on PostgreSQL so the hash chain has one order (only one chains at
# a time; writers never take it). SQLite's IMMEDIATE transactions already serialise writers.
_CHAIN_LOCK_KEY = 0x4C494E4C49  # "LINLI"
# Entries chained per sequencer transaction.
CHAIN_BATCH = 1000


def _chain_head() -> tuple[int, str]:
    """(seq, entry_hash) of the last chained entry, (0, "") for an empty chain."""
    head = (
        AuditEntry.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "entry_hash")
        .first()
    )
    return (head[0] or 0, head[1]) if head is not None else (0, "")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_label: str = "",
    area: Any = None,
    field: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry, chained to the previous one. Personal values never go in `changes`
    unmasked: callers pass masked values for national IDs and phones."""
    entry = audit_entry(
        actor=actor,
        action=action,
        obj=obj,
        object_label=object_label,
        area=area,
        field=field,
        reason=reason,
        changes=changes,
    )
    if connection.vendor == "postgresql":
        # Pending: one insert, no lock. The sequencer chains it once it has committed
        # (decision 0043), so concurrent writers no longer commit one at a time.
        entry.save()
        return entry
    # SQLite's IMMEDIATE transactions already serialise writers: chain in place. Inside a
    # caller's transaction no savepoint is taken (an entry that cannot be written fails the
    # caller's whole work, as it must).
    with transaction.atomic(savepoint=False):
        last = _chain_head()
        entry.seq = last[0] + 1
        entry.prev_hash = last[1]
        entry.entry_hash = entry.compute_hash()
        entry.save()
    return entry


def audit_entry(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_label: str = "",
    area: Any = None,
    field: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """The entry :func:`audit_record` appends, unsaved and unchained (a one-trip write inserts
    it pending itself, decision 0048; its object may not have a key yet)."""
    ctx = current_context()
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if area is None and obj is not None:
        area = getattr(obj, "grid", None) or getattr(obj, "area", None)
    if area is None and obj is not None and obj._meta.label == "accounts.User":
        # Acts on a staff account (sign-in, grant, token) belong where the account is bound,
        # so the heads of that node see them in their audit log.
        from linli.areas.models import Area

        area = (
            Area.objects.filter(bindings__user_id=obj.pk, bindings__is_active=True)
            .order_by("-depth")
            .first()
        )
    entry = AuditEntry(
        at=timezone.now(),
        actor=user,
        actor_label=(user.label if user else (str(actor) if actor else "system"))[:150],
        action=action,
        object_type=(obj._meta.model_name or "") if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=(object_label or (str(obj) if obj is not None else ""))[:200],
        area=area,
        field=field,
        reason=reason,
        changes=_jsonable(changes or {}),
        ip=ctx.ip,
        channel=ctx.channel,
        user_agent=ctx.user_agent,
    )
    return entry


def audit_chain_pending(*, batch: int = CHAIN_BATCH) -> int:
    """The sequencer: chain every committed pending entry, in id order, after the chain's last
    entry; return how many were chained. Entries are pending on PostgreSQL between their commit
    and this (``linli audit_chain`` runs it continuously, the worker every minute, and
    ``audit_verify_chain`` first). Safe to run anywhere at any time: one sequencer chains at a
    time (advisory lock) and an entry is chained once (the triggers refuse a second time)."""
    chained = 0
    if not AuditEntry.objects.filter(seq__isnull=True).exists():
        return chained  # the common idle look: one indexed query, no lock, no transaction
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    # The chain columns derive from the entries: a crash that loses this
                    # commit leaves them pending, to be chained again. No flush wait needed.
                    cur.execute("SET LOCAL synchronous_commit = off")
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
            pending = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch])
            if not pending:
                return chained
            seq, prev = _chain_head()
            for entry in pending:
                seq += 1
                entry.seq, entry.prev_hash = seq, prev
                entry.entry_hash = prev = entry.compute_hash()
            AuditEntry.objects.bulk_update(pending, ["seq", "prev_hash", "entry_hash"])
        chained += len(pending)
        if len(pending) < batch:
            return chained


def audit_verify_chain() -> tuple[int, int | None]:
    """Chain what is pending, then walk the chain in its order; return (entries checked, id of
    the first broken entry or None). An altered, removed or reordered entry breaks the chain
    at the entry after it (or at itself)."""
    audit_chain_pending()
    prev = ""
    checked = 0
    for entry in (
        AuditEntry.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000)
    ):
        if entry.prev_hash != prev or entry.compute_hash() != entry.entry_hash:
            return checked, entry.pk
        prev = entry.entry_hash
        checked += 1
    return checked, None
