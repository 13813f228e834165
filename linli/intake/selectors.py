"""Reads of import batches and their timelines, restricted to the user's jurisdiction.

Batches hold personal data (the uploaded file, the rejected rows), so only those who may
import into an area (register.change) see its batches.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from linli.accounts.roles import Perm
from linli.intake.models import ImportBatch, ImportEvent


def import_batches(*, user: Any) -> QuerySet[ImportBatch]:
    """The batches of the areas where the user may import, newest first."""
    return (
        ImportBatch.objects.restrict(user, Perm.CHANGE_REGISTER)
        .select_related("area", "created_by", "profile")
        .order_by("-created_at", "-id")
    )


def import_batch_events(*, user: Any, batch: ImportBatch) -> QuerySet[ImportEvent]:
    """The timeline of one batch (empty when the batch is out of the user's scope)."""
    return (
        ImportEvent.objects.restrict(user, Perm.CHANGE_REGISTER)
        .filter(batch=batch)
        .select_related("actor")
        .order_by("created_at", "id")
    )
