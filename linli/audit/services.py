"""Writing to the audit log. Every reveal, change, export and sign-in goes through here."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from linli.audit.context import current_context
from linli.audit.models import AuditEntry

# Serialises appends on PostgreSQL so the hash chain has one order; SQLite's IMMEDIATE
# transactions already serialise writers.
_CHAIN_LOCK_KEY = 0x4C494E4C49  # "LINLI"


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
    # Inside a caller's transaction no savepoint is taken (two round trips fewer per audited
    # write): an entry that cannot be written fails the caller's whole work, as it must.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        prev = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
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
            prev_hash=prev or "",
        )
        entry.entry_hash = entry.compute_hash()
        entry.save()
    return entry


def audit_verify_chain() -> tuple[int, int | None]:
    """Walk the chain; return (entries checked, id of the first broken entry or None)."""
    prev = ""
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev or entry.compute_hash() != entry.entry_hash:
            return checked, entry.pk
        prev = entry.entry_hash
        checked += 1
    return checked, None
