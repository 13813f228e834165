"""Scoped reads of emergency mode. Each takes the acting user and goes through ``restrict()``;
counts are grouped queries per grid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.scoping import scope_for
from linli.emergency.models import (
    Arrival,
    ArrivalDecision,
    CheckIn,
    EmergencyEvent,
    EventQuerySet,
    FollowUpTask,
    Quarantine,
    QuarantineEvent,
    QuarantineStatus,
    ReleaseCertificate,
    RiskArea,
    TaskKind,
    TaskStatus,
)

# Stages of the closed loop fed by other capabilities (linli.health registers "tested";
# linli.screening adds its campaigns' targets to "screened", "verified" and "pending"):
# key -> [(per-grid counts for (user, event), whether (event, person id) reached it), ...].
_STAGES: dict[
    str,
    list[
        tuple[
            Callable[[Any, EmergencyEvent], Iterable[tuple[int, int]]],
            Callable[[EmergencyEvent, int], bool],
        ]
    ],
] = {}


def register_stage(
    key: str,
    counts: Callable[[Any, EmergencyEvent], Iterable[tuple[int, int]]],
    reached: Callable[[EmergencyEvent, int], bool],
) -> None:
    """Let a capability feed one stage of the loop (called from its AppConfig.ready()); several
    capabilities may feed the same stage, their counts add up. Registering the same pair twice
    keeps one (apps may be set up again)."""
    feeders = _STAGES.setdefault(key, [])
    if (counts, reached) not in feeders:
        feeders.append((counts, reached))


def events_visible(user: Any) -> EventQuerySet:
    qs: EventQuerySet = EmergencyEvent.objects.all().restrict(user, Perm.VIEW_EMERGENCY)
    return qs


def events_active_for(user: Any) -> list[EmergencyEvent]:
    """Active events touching the user's jurisdiction (for the nav and the home pages)."""
    if scope_for(user, Perm.VIEW_EMERGENCY).is_empty:
        return []
    return list(events_visible(user).active().order_by("-starts_at"))


def events_for_area(area: Area) -> list[EmergencyEvent]:
    """Active events covering *area* or an ancestor: the area is in emergency mode."""
    return list(EmergencyEvent.objects.active().covering(area).order_by("-starts_at"))


def risk_areas_visible(user: Any) -> QuerySet[RiskArea]:
    return RiskArea.objects.restrict(user, Perm.VIEW_EMERGENCY).select_related("event")


def arrivals_visible(user: Any) -> QuerySet[Arrival]:
    return Arrival.objects.restrict(user, Perm.VIEW_EMERGENCY).select_related(
        "risk_area", "grid", "event", "person"
    )


def quarantines_visible(user: Any) -> QuerySet[Quarantine]:
    return Quarantine.objects.restrict(user, Perm.VIEW_EMERGENCY).select_related(
        "grid", "event", "responsible", "person"
    )


def quarantines_to_act_on(user: Any) -> QuerySet[Quarantine]:
    """The measures *user* may see, with their grid only: what a write needs before its service
    locks and re-reads the row (the joins of quarantines_visible cost a check-in ~1 ms of ORM)."""
    return Quarantine.objects.restrict(user, Perm.VIEW_EMERGENCY).select_related("grid")


def tasks_visible(user: Any) -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.restrict(user, Perm.VIEW_EMERGENCY).select_related(
        "quarantine", "grid", "assigned_to"
    )


def quarantine_timeline(*, user: Any, quarantine: Quarantine) -> QuerySet[QuarantineEvent]:
    return QuarantineEvent.objects.restrict(user, Perm.VIEW_EMERGENCY).filter(quarantine=quarantine)


def quarantine_check_ins(*, user: Any, quarantine: Quarantine) -> QuerySet[CheckIn]:
    return CheckIn.objects.restrict(user, Perm.VIEW_EMERGENCY).filter(quarantine=quarantine)


def event_grids(user: Any, event: EmergencyEvent) -> list[Area]:
    """The grids the event covers that lie in the user's scope."""
    q = Q()
    for a in event.areas.all():
        q |= Q(path__startswith=a.path)
    scope = scope_for(user, Perm.VIEW_EMERGENCY)
    return list(Area.objects.filter(q, scope.q("id"), kind=AreaKind.GRID).order_by("path"))


def event_dashboard(
    *, user: Any, event: EmergencyEvent, today: dt.date | None = None
) -> dict[str, Any]:
    """Per grid in scope: under quarantine, checked in today, missing today, open alerts, open
    tasks; and the closed loop (screened → verified → tested → quarantined → released, pending).

    Every number is a grouped query over restricted rows.
    """
    today = today or timezone.localdate()
    grids = event_grids(user, event)
    rows: dict[int, dict[str, Any]] = {
        g.pk: {
            "grid": g,
            "active": 0,
            "checked_in": 0,
            "missing": 0,
            "alerts": 0,
            "tasks": 0,
            "screened": 0,
            "verified": 0,
            "tested": 0,
            "quarantined": 0,
            "released": 0,
            "pending": 0,
        }
        for g in grids
    }

    def add(key: str, pairs: Any) -> None:
        for grid_id, n in pairs:
            if grid_id in rows:
                rows[grid_id][key] += n

    def grouped(qs: QuerySet[Any]) -> Any:
        return qs.order_by().values("grid_id").annotate(n=Count("id")).values_list("grid_id", "n")

    quarantines = quarantines_visible(user).filter(event=event)
    due = quarantines.filter(
        status=QuarantineStatus.ACTIVE, starts_on__lte=today, planned_end__gt=today
    )
    today_checkin = CheckIn.objects.filter(quarantine=OuterRef("pk"), day=today)
    add("active", grouped(quarantines.filter(status=QuarantineStatus.ACTIVE)))
    add("checked_in", grouped(due.filter(Exists(today_checkin))))
    add("missing", grouped(due.exclude(Exists(today_checkin))))
    open_tasks = tasks_visible(user).filter(quarantine__event=event, status=TaskStatus.OPEN)
    add("alerts", grouped(open_tasks.filter(kind=TaskKind.HEALTH_ALERT)))
    add("tasks", grouped(open_tasks))
    arrivals = arrivals_visible(user).filter(event=event)
    add("screened", grouped(arrivals))
    add("verified", grouped(arrivals.filter(verified_at__isnull=False)))
    add("pending", grouped(arrivals.filter(decision=ArrivalDecision.PENDING)))
    add("quarantined", grouped(quarantines))
    add("released", grouped(quarantines.filter(status=QuarantineStatus.RELEASED)))
    for key, feeders in _STAGES.items():
        for counts, _reached in feeders:
            add(key, counts(user, event))
    keys = [k for k in next(iter(rows.values()), {}) if k != "grid"]
    totals = {k: sum(r[k] for r in rows.values()) for k in keys}
    return {"rows": list(rows.values()), "totals": totals, "today": today}


def person_stages(
    *, arrival: Arrival | None, quarantine: Quarantine | None
) -> list[dict[str, Any]]:
    """The closed loop for one person: which stages are reached ("tested" is fed by the test
    rounds of the event when that capability is installed; None means not tracked)."""
    released = quarantine is not None and quarantine.status == QuarantineStatus.RELEASED
    tested: bool | None = None
    if "tested" in _STAGES:
        event = arrival.event if arrival is not None else quarantine and quarantine.event
        person_id = (arrival and arrival.person_id) or (quarantine and quarantine.person_id)
        tested = bool(
            event and person_id and any(r(event, person_id) for _c, r in _STAGES["tested"])
        )
    return [
        {"key": "screened", "done": arrival is not None},
        {"key": "verified", "done": bool(arrival and arrival.verified_at)},
        {"key": "tested", "done": tested},
        {"key": "quarantined", "done": quarantine is not None},
        {"key": "released", "done": released},
    ]


def command_card(*, user: Any, area: Area | None) -> list[dict[str, Any]]:
    """For the command view: each active event touching the selection, with its counts."""
    if scope_for(user, Perm.VIEW_EMERGENCY).is_empty:
        return []
    events = events_for_area(area) if area is not None else events_active_for(user)
    today = timezone.localdate()
    cards = []
    for event in events[:3]:
        quarantines = quarantines_visible(user).filter(event=event)
        arrivals = arrivals_visible(user).filter(event=event)
        if area is not None:
            quarantines = quarantines.filter(grid__path__startswith=area.path)
            arrivals = arrivals.filter(grid__path__startswith=area.path)
        active = quarantines.filter(status=QuarantineStatus.ACTIVE)
        cards.append(
            {
                "event": event,
                "arrivals": arrivals.count(),
                "pending": arrivals.filter(decision=ArrivalDecision.PENDING).count(),
                "active": active.count(),
                "missing": active.filter(starts_on__lte=today, planned_end__gt=today)
                .exclude(check_ins__day=today)
                .count(),
                "alerts": tasks_visible(user)
                .filter(
                    quarantine__in=quarantines,
                    kind=TaskKind.HEALTH_ALERT,
                    status=TaskStatus.OPEN,
                )
                .count(),
                "released": quarantines.filter(status=QuarantineStatus.RELEASED).count(),
            }
        )
    return cards


# --- the resident's own view (by verified phone) --------------------------------------------


def own_quarantines(*, phone_bidx: str, person_id: int | None) -> QuerySet[Quarantine]:
    """Quarantines of the person whose phone was verified by a code (or who signed in)."""
    q = Q(pk__in=[])
    if phone_bidx:
        q |= Q(phone_bidx=phone_bidx)
    if person_id:
        q |= Q(person_id=person_id)
    return Quarantine.objects.filter(q).select_related("event", "grid").order_by("-starts_on")


def own_quarantine(*, phone_bidx: str, person_id: int | None, pk: int) -> Quarantine:
    found = own_quarantines(phone_bidx=phone_bidx, person_id=person_id).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def certificate_lookup(number: str) -> ReleaseCertificate | None:
    """For the public online check: a certificate by its number (masked data only shown)."""
    return (
        ReleaseCertificate.objects.select_related("quarantine__grid")
        .filter(number=number.strip().upper()[:16])
        .first()
    )
