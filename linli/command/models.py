"""Per-area tallies behind the wide counts of the command view and the workbench tree."""

from __future__ import annotations

from typing import Any

from django.db import models

from linli.core.scoping import Scope, ScopedQuerySet


class AreaTally(models.Model):
    """The counts of one node of the tree (a grid, or everything below a higher node),
    refreshed in the background (``command.tallies``).

    A district's first page reads the tallies of its few children instead of grouping a
    million persons on every visit; a grid's or community's page still counts live.
    """

    area = models.OneToOneField(
        "areas.Area", on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )
    data: Any = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    objects = ScopedQuerySet["AreaTally"].as_manager()

    def __str__(self) -> str:
        return f"tally of {self.area_id} at {self.computed_at:%Y-%m-%d %H:%M}"

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return scope.q("area")
