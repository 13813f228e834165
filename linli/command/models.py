"""Per-grid tallies behind the command view's wide counts."""

from __future__ import annotations

from typing import Any

from django.db import models

from linli.core.scoping import ScopedModel, ScopedQuerySet


class GridTally(ScopedModel):
    """The counts of one grid, refreshed in the background (``command.tallies``).

    A district's or city's first page sums a few thousand of these rows instead of grouping
    millions of persons on every visit; a grid's or community's page still counts live.
    """

    grid = models.OneToOneField(
        "areas.Area", on_delete=models.CASCADE, primary_key=True, related_name="tally"
    )
    data: Any = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    objects = ScopedQuerySet["GridTally"].as_manager()

    def __str__(self) -> str:
        return f"tally of {self.grid_id} at {self.computed_at:%Y-%m-%d %H:%M}"
