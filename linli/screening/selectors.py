"""Scoped reads of screening campaigns: restricted querysets, per-grid counts (grouped
queries), the worker's own targets, and the emergency closed loop's screened/verified."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from linli.accounts.roles import Perm
from linli.screening.models import ScreeningCampaign, ScreeningTarget, TargetStatus
from linli.screening.services import targets_open_q


def campaigns_visible(user: Any) -> QuerySet[ScreeningCampaign]:
    """Campaigns over a node in the user's scope, or with targets in it (a grid worker sees
    the community's campaign through their own grid's targets)."""
    mine = ScreeningTarget.objects.restrict(user, Perm.VIEW_SCREENING).values("campaign_id")
    inside = ScreeningCampaign.objects.restrict(user, Perm.VIEW_SCREENING).values("pk")
    return (
        ScreeningCampaign.objects.filter(Q(pk__in=inside) | Q(pk__in=mine))
        .select_related("area", "event", "created_by")
        .distinct()
    )


def targets_visible(user: Any) -> QuerySet[ScreeningTarget]:
    return ScreeningTarget.objects.restrict(user, Perm.VIEW_SCREENING).select_related(
        "campaign", "grid", "assignee", "person"
    )


def my_targets(user: Any) -> QuerySet[ScreeningTarget]:
    """The worker's phone list: targets assigned to them, still to work, soonest due first."""
    return (
        targets_visible(user)
        .filter(assignee=user)
        .filter(targets_open_q())
        .order_by("campaign__due_on", "status", "last_attempt_at", "id")
    )


def campaign_board(*, user: Any, campaign: ScreeningCampaign) -> dict[str, Any]:
    """Per grid in scope: how many targets in each status, verified, and who is left."""
    targets = targets_visible(user).filter(campaign=campaign)
    rows: dict[int, dict[str, Any]] = {}
    grouped = (
        targets.order_by()
        .values("grid_id", "grid__name", "status")
        .annotate(n=Count("id"), verified=Count("id", filter=Q(verified_at__isnull=False)))
    )
    for g in grouped:
        row = rows.setdefault(
            g["grid_id"],
            {"grid": g["grid__name"], "grid_id": g["grid_id"], "total": 0, "verified": 0}
            | {s.value: 0 for s in TargetStatus},
        )
        row[g["status"]] += g["n"]
        row["total"] += g["n"]
        row["verified"] += g["verified"]
    keys = ["total", "verified", *[s.value for s in TargetStatus]]
    totals = {k: sum(r[k] for r in rows.values()) for k in keys}
    left = targets.filter(targets_open_q()).order_by("grid__path", "status", "id")
    return {"rows": sorted(rows.values(), key=lambda r: r["grid"]), "totals": totals, "left": left}


def loop_counts(*, user: Any, event: Any) -> dict[str, list[tuple[int, int]]]:
    """For the emergency closed loop per grid: targets of the event's campaigns worked
    (screened: any outcome recorded), verified, and still pending (nobody drops out)."""
    targets = targets_visible(user).filter(campaign__event=event).order_by()

    def grouped(qs: QuerySet[ScreeningTarget]) -> list[tuple[int, int]]:
        return list(qs.values("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))

    return {
        "screened": grouped(targets.exclude(status=TargetStatus.PENDING)),
        "verified": grouped(targets.filter(verified_at__isnull=False)),
        "pending": grouped(targets.filter(status=TargetStatus.PENDING)),
    }
