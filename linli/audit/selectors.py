"""Scoped reads of the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.roles import Perm
from linli.audit.models import AuditEntry
from linli.core.scoping import scope_for


def audit_entries(
    *, user: Any, action: str = "", object_type: str = "", object_id: str = ""
) -> QuerySet[AuditEntry]:
    """Entries about objects in the user's audit scope, plus the user's own acts."""
    scope = scope_for(user, Perm.VIEW_AUDIT)
    if not getattr(user, "is_authenticated", False):
        return AuditEntry.objects.none()
    # One condition on the table itself (no id IN subquery over the whole log).
    in_scope = AuditEntry.scope_q(scope) if not scope.is_empty else Q(pk__in=[])
    qs = AuditEntry.objects.filter(in_scope | Q(actor=user))
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    return qs.select_related("actor").order_by("-id")
