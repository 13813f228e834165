"""Scoped reads of passes and checkpoints. Each takes the acting user and goes through
``restrict()``; a resident reads only their own passes."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from linli.accounts.roles import Perm
from linli.passes.models import (
    AccessPass,
    Checkpoint,
    DutyShift,
    GateScan,
    HealthCode,
    PassEvent,
    ShiftSwap,
)


def checkpoints_visible(user: Any, perm: Perm = Perm.VIEW_PASSES) -> QuerySet[Checkpoint]:
    return Checkpoint.objects.restrict(user, perm).select_related("estate", "grid")


def passes_visible(user: Any) -> QuerySet[AccessPass]:
    return AccessPass.objects.restrict(user, Perm.VIEW_PASSES).select_related(
        "estate", "grid", "host"
    )


def pass_events(user: Any, access_pass: AccessPass) -> QuerySet[PassEvent]:
    return PassEvent.objects.restrict(user, Perm.VIEW_PASSES).filter(access_pass=access_pass)


def scans_visible(user: Any) -> QuerySet[GateScan]:
    return GateScan.objects.restrict(user, Perm.VIEW_PASSES).select_related(
        "checkpoint", "scanned_by"
    )


def shifts_visible(user: Any) -> QuerySet[DutyShift]:
    """Shifts of gates in the user's nodes, and the user's own (a volunteer's duty)."""
    in_scope = DutyShift.objects.restrict(user, Perm.VIEW_PASSES).values("pk")
    return DutyShift.objects.filter(
        Q(pk__in=in_scope) | Q(user_id=getattr(user, "pk", None))
    ).select_related("checkpoint", "user")


def swaps_visible(user: Any) -> QuerySet[ShiftSwap]:
    """Swaps of shifts in the user's nodes, and those the user asked for or was asked."""
    uid = getattr(user, "pk", None)
    in_scope = ShiftSwap.objects.restrict(user, Perm.VIEW_PASSES).values("pk")
    return ShiftSwap.objects.filter(
        Q(pk__in=in_scope) | Q(from_user_id=uid) | Q(to_user_id=uid)
    ).select_related("shift__checkpoint", "from_user", "to_user")


def health_codes_visible(user: Any) -> QuerySet[HealthCode]:
    return HealthCode.objects.restrict(user, Perm.VIEW_PASSES)


def resident_passes(user: Any) -> QuerySet[AccessPass]:
    """A resident's own passes: for themselves, their household, and visitors they invited."""
    person_id = getattr(user, "person_id", None)
    if person_id is None:
        return AccessPass.objects.none()
    from linli.register.models import Person

    household_id = Person.objects.filter(pk=person_id).values_list("household_id", flat=True)
    return AccessPass.objects.filter(
        Q(person_id=person_id) | Q(host_id=person_id) | Q(household_id__in=household_id)
    ).select_related("estate")


def gate_people(checkpoint: Checkpoint) -> QuerySet[Any]:
    """Who may stand at *checkpoint*: active users bound, with a role that scans passes, to its
    grid or to a node above it up to the community (not the whole city)."""
    from linli.accounts.models import User
    from linli.accounts.roles import ROLE_PERMS, Role
    from linli.areas.models import AreaKind

    grid = checkpoint.grid
    nodes = [a.pk for a in grid.ancestors() if a.kind == AreaKind.COMMUNITY] + [grid.pk]
    roles = [r for r in Role if Perm.SCAN_PASSES in ROLE_PERMS.get(r, frozenset())]
    return (
        User.objects.filter(
            is_active=True,
            role_bindings__is_active=True,
            role_bindings__area_id__in=nodes,
            role_bindings__role__in=roles,
        )
        .distinct()
        .order_by("username")
    )
