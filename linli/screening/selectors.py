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


def _event_targets(user: Any, event: Any) -> QuerySet[ScreeningTarget]:
    return targets_visible(user).filter(campaign__event=event).order_by()


def _grouped(qs: QuerySet[ScreeningTarget]) -> list[tuple[int, int]]:
    return list(qs.values("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))


# The emergency closed loop per grid (registered with linli.emergency.selectors.register_stage
# in ScreeningConfig.ready): targets of the event's campaigns worked (screened: any outcome
# recorded), verified, and still pending — added to the arrivals' own counts, so nobody drops
# out of the loop.
def screened_counts(user: Any, event: Any) -> list[tuple[int, int]]:
    return _grouped(_event_targets(user, event).exclude(status=TargetStatus.PENDING))


def verified_counts(user: Any, event: Any) -> list[tuple[int, int]]:
    return _grouped(_event_targets(user, event).filter(verified_at__isnull=False))


def pending_counts(user: Any, event: Any) -> list[tuple[int, int]]:
    return _grouped(_event_targets(user, event).filter(status=TargetStatus.PENDING))


def was_screened(event: Any, person_id: int) -> bool:
    return (
        ScreeningTarget.objects.filter(campaign__event=event, person_id=person_id)
        .exclude(status=TargetStatus.PENDING)
        .exists()
    )


def was_verified(event: Any, person_id: int) -> bool:
    return ScreeningTarget.objects.filter(
        campaign__event=event, person_id=person_id, verified_at__isnull=False
    ).exists()


def is_pending(event: Any, person_id: int) -> bool:
    return ScreeningTarget.objects.filter(
        campaign__event=event, person_id=person_id, status=TargetStatus.PENDING
    ).exists()


def loop_counts(*, user: Any, event: Any) -> dict[str, list[tuple[int, int]]]:
    """The three loop stages at once (tests and callers that want all of them)."""
    return {
        "screened": screened_counts(user, event),
        "verified": verified_counts(user, event),
        "pending": pending_counts(user, event),
    }
