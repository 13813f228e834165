"""Reads for volunteers, activities, points and the store.

Workers read through ``restrict(user, perm)``: rows outside their scope are absent and pages
answer 404 for them. A volunteer reads their own rows (``my_*``), starting from their own
record. The resident-facing points board shows the resident's own grid only, with each
volunteer's name as they chose to show it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.scoping import scope_for
from linli.volunteers.models import (
    Activity,
    ClaimStatus,
    EntryKind,
    PointsClaim,
    PointsEntry,
    PointsRule,
    Redemption,
    RedemptionStatus,
    Reward,
    Signup,
    SignupStatus,
    Volunteer,
    VolunteerEvent,
    VolunteerStatus,
)


def volunteers_visible(user: Any) -> QuerySet[Volunteer]:
    """Volunteers registered in the user's jurisdiction (both communities of a party member)."""
    return Volunteer.objects.restrict(user, Perm.VIEW_VOLUNTEERS).select_related("area")


def registrations_pending(user: Any) -> QuerySet[Volunteer]:
    """Open applications the user may approve, oldest first."""
    return (
        Volunteer.objects.restrict(user, Perm.APPROVE_VOLUNTEERS)
        .filter(status=VolunteerStatus.APPLIED)
        .select_related("area", "paired_community", "residence_community")
        .order_by("created_at", "id")
    )


def volunteer_timeline(user: Any, volunteer: Volunteer) -> QuerySet[VolunteerEvent]:
    return (
        VolunteerEvent.objects.filter(volunteer=volunteer)
        .filter(volunteer__in=volunteers_visible(user))
        .select_related("actor")
    )


def activities_visible(user: Any) -> QuerySet[Activity]:
    return (
        Activity.objects.restrict(user, Perm.VIEW_VOLUNTEERS)
        .select_related("area", "rule")
        .annotate(
            taken=Count(
                "signups",
                filter=Q(signups__status__in=[SignupStatus.SIGNED_UP, SignupStatus.ATTENDED]),
            )
        )
        .order_by("-starts_at", "-id")
    )


def claims_pending(user: Any) -> QuerySet[PointsClaim]:
    """Claims awaiting review in the user's jurisdiction, oldest first; never their own."""
    return (
        PointsClaim.objects.restrict(user, Perm.MANAGE_VOLUNTEERS)
        .filter(status=ClaimStatus.PENDING)
        .exclude(volunteer__user=user)
        .select_related("volunteer", "area", "rule")
        .order_by("created_at", "id")
    )


def rewards_managed(user: Any) -> QuerySet[Reward]:
    return Reward.objects.restrict(user, Perm.MANAGE_VOLUNTEERS).select_related("area")


def redemptions_open(user: Any) -> QuerySet[Redemption]:
    """Rewards reserved in the user's jurisdiction and not yet picked up."""
    return (
        Redemption.objects.restrict(user, Perm.MANAGE_VOLUNTEERS)
        .filter(status=RedemptionStatus.RESERVED)
        .select_related("reward", "volunteer", "area")
        .order_by("created_at", "id")
    )


def rules_visible(user: Any) -> QuerySet[PointsRule]:
    """Rules in the user's jurisdiction and on the nodes above it (which apply there too)."""
    roots = scope_for(user, Perm.VIEW_VOLUNTEERS).paths
    above = {r[: i + 1] for r in roots for i, ch in enumerate(r) if ch == "/"}
    return (
        PointsRule.objects.filter(
            Q(pk__in=PointsRule.objects.restrict(user, Perm.VIEW_VOLUNTEERS).values("pk"))
            | Q(area__path__in=above)
        )
        .select_related("area")
        .order_by("area__path", "kind")
    )


def balances(volunteer_ids: list[int]) -> dict[int, int]:
    """Points per volunteer (the sum of each ledger), for the ids given."""
    rows = (
        PointsEntry.objects.filter(volunteer_id__in=volunteer_ids)
        .values("volunteer_id")
        .annotate(n=Sum("delta"))
    )
    return {r["volunteer_id"]: int(r["n"] or 0) for r in rows}


# --- rankings ------------------------------------------------------------------------------


def month_bounds(month: str | None) -> tuple[dt.datetime, dt.datetime, str]:
    """The start and end of a month given as YYYY-MM (this month when missing or malformed)."""
    today = timezone.localdate()
    year, mon = today.year, today.month
    if month:
        try:
            y, m = (int(x) for x in month.split("-", 1))
            if 2000 <= y <= 2100 and 1 <= m <= 12:
                year, mon = y, m
        except ValueError:
            pass
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, mon, 1, tzinfo=tz)
    end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return start, end, f"{year:04d}-{mon:02d}"


@dataclass
class RankRow:
    rank: int
    volunteer: Volunteer
    points: int


# Points that count for rankings: what was earned, less earnings reversed. Spending does not
# lower a volunteer's rank.
_EARNED = Q(kind=EntryKind.EARN) | Q(kind=EntryKind.REVERSAL, reversal_of__kind=EntryKind.EARN)


def _ranking(entries: QuerySet[PointsEntry], limit: int) -> list[RankRow]:
    rows = list(
        entries.filter(_EARNED)
        .values("volunteer_id")
        .annotate(points=Sum("delta"))
        .filter(points__gt=0)
        .order_by("-points", "volunteer_id")[:limit]
    )
    people = Volunteer.objects.in_bulk([r["volunteer_id"] for r in rows])
    ranked: list[RankRow] = []
    for i, r in enumerate(rows):
        # Equal points share a rank.
        rank = ranked[-1].rank if ranked and ranked[-1].points == r["points"] else i + 1
        ranked.append(RankRow(rank, people[r["volunteer_id"]], int(r["points"])))
    return ranked


def ranking(user: Any, *, area: Area, month: str | None, limit: int = 50) -> list[RankRow]:
    """Volunteers of *area* (a grid, a community or above, within the user's scope) ranked by
    points earned in the month."""
    if not scope_for(user, Perm.VIEW_VOLUNTEERS).covers(area):
        raise Http404
    start, end, _label = month_bounds(month)
    entries = PointsEntry.objects.restrict(user, Perm.VIEW_VOLUNTEERS).filter(
        area__path__startswith=area.path, created_at__gte=start, created_at__lt=end
    )
    return _ranking(entries, limit)


def ranking_areas(user: Any) -> QuerySet[Area]:
    """The grids and communities the user may rank."""
    return Area.objects.restrict(user, Perm.VIEW_VOLUNTEERS).filter(
        kind__in=[AreaKind.GRID, AreaKind.COMMUNITY]
    )


def board_for_resident(user: Any, *, month: str | None, limit: int = 20) -> list[RankRow]:
    """The portal's points board: the resident's own grid, this month, names as chosen."""
    person = getattr(user, "person", None)
    if person is None or person.household_id is None:
        return []
    grid = person.household.grid
    start, end, _label = month_bounds(month)
    entries = PointsEntry.objects.filter(
        area__path__startswith=grid.path, created_at__gte=start, created_at__lt=end
    )
    return _ranking(entries, limit)


# --- the volunteer's own pages -------------------------------------------------------------


def my_volunteer(user: Any) -> Volunteer | None:
    """The signed-in user's volunteer record (any status), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.select_related("area").filter(user=user).first()


def my_activities(volunteer: Volunteer) -> QuerySet[Activity]:
    """Activities open to the volunteer: in the area they serve, above it, or below it."""
    area = volunteer.area
    above = [a.pk for a in area.ancestors()]
    return (
        Activity.objects.filter(Q(area__path__startswith=area.path) | Q(area_id__in=above))
        .select_related("area")
        .annotate(
            taken=Count(
                "signups",
                filter=Q(signups__status__in=[SignupStatus.SIGNED_UP, SignupStatus.ATTENDED]),
            )
        )
    )


def my_signups(volunteer: Volunteer) -> dict[int, Signup]:
    return {
        s.activity_id: s
        for s in Signup.objects.filter(volunteer=volunteer).select_related("activity")
    }


def my_activity(volunteer: Volunteer, pk: int) -> Activity:
    activity = my_activities(volunteer).filter(pk=pk).first()
    if activity is None:
        raise Http404
    return activity


def my_signup(volunteer: Volunteer, pk: int) -> Signup:
    signup = (
        Signup.objects.filter(volunteer=volunteer, pk=pk)
        .select_related("activity__area", "activity__rule")
        .first()
    )
    if signup is None:
        raise Http404
    return signup


def store_for(volunteer_or_area: Volunteer | Area) -> QuerySet[Reward]:
    """Rewards offered at or above the area (the stores a volunteer there may use)."""
    area = volunteer_or_area.area if isinstance(volunteer_or_area, Volunteer) else volunteer_or_area
    paths = [a.path for a in [*area.ancestors(), area]]
    return Reward.objects.filter(area__path__in=paths, is_active=True).select_related("area")
