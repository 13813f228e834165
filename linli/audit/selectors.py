"""Scoped reads of the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.roles import Perm
from linli.audit.models import AuditEntry


def audit_entries(
    *, user: Any, action: str = "", object_type: str = "", object_id: str = ""
) -> QuerySet[AuditEntry]:
    """Entries about objects in the user's audit scope, plus the user's own acts."""
    qs = AuditEntry.objects.restrict(user, Perm.VIEW_AUDIT)
    if getattr(user, "is_authenticated", False):
        qs = AuditEntry.objects.filter(Q(pk__in=qs.values("pk")) | Q(actor=user))
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    return qs.select_related("actor").order_by("-id")
