"""Writes of emergency mode. Each service checks the actor's permission on the nodes it touches
(``actor=None`` is the system: the periodic task, a resident's own registration), locks and
re-reads the rows it changes, writes an audit entry and, for quarantine, a timeline event.

Quarantine is a state machine: ``TRANSITIONS`` is the one table of what may follow what, and
``_transition`` refuses anything else with a clear error.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import RoleBinding, User
from linli.accounts.roles import Perm, Role
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_entry, audit_record
from linli.core import crypto
from linli.core.identity import (
    mask_name,
    mask_national_id,
    mask_phone,
    normalise_phone,
    parse_national_id,
)
from linli.core.scoping import scope_for
from linli.core.transactions import service_atomic
from linli.emergency import certificates
from linli.emergency.measures import run_end_hooks
from linli.emergency.models import (
    FEVER_FROM,
    Arrival,
    ArrivalDecision,
    ArrivalSource,
    CheckIn,
    EmergencyEvent,
    EventKind,
    EventStatus,
    FollowUpTask,
    Measure,
    Quarantine,
    QuarantineEvent,
    QuarantineEventKind,
    QuarantineKind,
    QuarantineStatus,
    ReleaseCertificate,
    Reminder,
    RiskArea,
    RiskLevel,
    Symptom,
    TaskKind,
    TaskStatus,
    TravelMode,
)
from linli.register.models import Dwelling, Person, PersonStatus

# (status, action) -> new status. Nothing else is allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    (QuarantineStatus.ACTIVE, "extend"): QuarantineStatus.ACTIVE,
    (QuarantineStatus.ACTIVE, "check_in"): QuarantineStatus.ACTIVE,
    (QuarantineStatus.ACTIVE, "release"): QuarantineStatus.RELEASED,
    (QuarantineStatus.ACTIVE, "transfer"): QuarantineStatus.TRANSFERRED,
    (QuarantineStatus.ACTIVE, "close"): QuarantineStatus.CLOSED,
}

# The statuses a check-in may be recorded in (read off TRANSITIONS once).
CHECK_IN_FROM = tuple(s for (s, action) in TRANSITIONS if action == "check_in")

TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")


class IllegalTransition(ValidationError):
    """A quarantine step that its current status does not allow."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _local_day(now: dt.datetime) -> dt.date:
    return timezone.localtime(now).date()


def _require(actor: Any, perm: Perm, areas: Iterable[Area | None]) -> None:
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if not all(scope.covers(a) for a in areas):
        raise PermissionDenied(_("You may not do this outside your jurisdiction."))


def _user(actor: Any) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- events ---------------------------------------------------------------------------------


def _common_ancestor(areas: list[Area]) -> Area:
    paths = [a.path.strip("/").split("/") for a in areas]
    common: list[str] = []
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return Area.objects.get(pk=int(common[-1])) if common else areas[0]


def _clean_event_fields(
    *,
    name: str,
    kind: str,
    level: int,
    measures: Iterable[str],
    rule_days: dict[str, int] | None,
    risk_rules: dict[str, str] | None,
    checkin_deadline_hour: int,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Give the event a name.")
    if kind not in EventKind.values:
        errors["kind"] = _("Choose a kind of emergency.")
    if not 1 <= int(level) <= 4:
        errors["level"] = _("The level is 1 (most severe) to 4.")
    chosen = [m for m in Measure.values if m in set(measures)]
    if set(measures) - set(Measure.values):
        errors["measures"] = _("Unknown measure.")
    days = {k: int(v) for k, v in (rule_days or {}).items()}
    if set(days) - set(QuarantineKind.values) or any(not 1 <= d <= 60 for d in days.values()):
        errors["rule_days"] = _("Days per measure are 1 to 60.")
    rules = dict(risk_rules or {})
    if set(rules) - set(RiskLevel.values) or any(
        v and v not in QuarantineKind.values for v in rules.values()
    ):
        errors["risk_rules"] = _("Unknown measure for a risk level.")
    if not 0 <= int(checkin_deadline_hour) <= 23:
        errors["checkin_deadline_hour"] = _("The deadline hour is 0 to 23.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "kind": kind,
        "level": int(level),
        "measures": chosen,
        "rule_days": days,
        "risk_rules": rules,
        "checkin_deadline_hour": int(checkin_deadline_hour),
    }


@transaction.atomic
def event_declare(
    *,
    actor: Any,
    name: str,
    kind: str,
    areas: list[Area],
    measures: Iterable[str],
    level: int = 4,
    is_drill: bool = False,
    rule_days: dict[str, int] | None = None,
    risk_rules: dict[str, str] | None = None,
    checkin_deadline_hour: int = 10,
    now: dt.datetime | None = None,
) -> EmergencyEvent:
    """Declare an emergency (or a drill) over *areas*: they enter emergency mode at once."""
    if not areas:
        raise ValidationError({"areas": _("Choose at least one area the event covers.")})
    _require(actor, Perm.MANAGE_EMERGENCY, areas)
    fields = _clean_event_fields(
        name=name,
        kind=kind,
        level=level,
        measures=measures,
        rule_days=rule_days,
        risk_rules=risk_rules,
        checkin_deadline_hour=checkin_deadline_hour,
    )
    event = EmergencyEvent.objects.create(
        **fields,
        is_drill=is_drill,
        area=_common_ancestor(list(areas)),
        starts_at=_now(now),
        declared_by=_user(actor),
    )
    event.areas.set(areas)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=event,
        area=event.area,
        changes={**fields, "areas": [a.code for a in areas], "is_drill": is_drill},
    )
    return event


def _locked_event(event: EmergencyEvent) -> EmergencyEvent:
    return EmergencyEvent.objects.select_for_update().get(pk=event.pk)


def _covered(event: EmergencyEvent) -> list[Area]:
    return list(event.areas.all())


@transaction.atomic
def event_change(
    *,
    actor: Any,
    event: EmergencyEvent,
    name: str,
    kind: str,
    level: int,
    measures: Iterable[str],
    rule_days: dict[str, int] | None,
    risk_rules: dict[str, str] | None,
    checkin_deadline_hour: int,
) -> EmergencyEvent:
    """Change an active event's level, measures and rules (the covered areas stay)."""
    _require(actor, Perm.MANAGE_EMERGENCY, _covered(event))
    event = _locked_event(event)
    if event.status != EventStatus.ACTIVE:
        raise ValidationError(_("This event has ended; it cannot change."))
    fields = _clean_event_fields(
        name=name,
        kind=kind,
        level=level,
        measures=measures,
        rule_days=rule_days,
        risk_rules=risk_rules,
        checkin_deadline_hour=checkin_deadline_hour,
    )
    changes: dict[str, Any] = {k: v for k, v in fields.items() if getattr(event, k) != v}
    stopped = set(event.measures or []) - set(fields["measures"])
    if stopped:
        # What the stopped measures opened closes, as at the end (the capabilities' hooks run
        # while the event still lists them, so a hook sees what it is closing).
        changes.update(run_end_hooks(event, actor=actor, at=timezone.now(), stopped=stopped))
    for k, v in fields.items():
        setattr(event, k, v)
    event.save()
    audit_record(
        actor=actor, action=AuditAction.CHANGE, obj=event, area=event.area, changes=changes
    )
    return event


@transaction.atomic
def event_end(
    *, actor: Any, event: EmergencyEvent, now: dt.datetime | None = None
) -> EmergencyEvent:
    """End the event: its measures close (quarantines still running are closed, open tasks are
    done, and what other capabilities opened for it closes through their end hooks,
    ``linli.emergency.measures.register_end_hook``), every record stays."""
    _require(actor, Perm.MANAGE_EMERGENCY, _covered(event))
    event = _locked_event(event)
    if event.status != EventStatus.ACTIVE:
        raise ValidationError(_("This event has already ended."))
    at = _now(now)
    event.status = EventStatus.ENDED
    event.ends_at = at
    event.save(update_fields=["status", "ends_at", "updated_at"])
    closed = 0
    for q in Quarantine.objects.select_for_update().filter(
        event=event, status=QuarantineStatus.ACTIVE
    ):
        _transition(q, "close", actor=actor, at=at, summary=_("Closed: the event has ended."))
        closed += 1
    tasks = FollowUpTask.objects.filter(quarantine__event=event, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, done_at=at, note=_("Closed: the event has ended.")
    )
    others = run_end_hooks(event, actor=actor, at=at)
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=event,
        area=event.area,
        changes={
            "status": "ended",
            "quarantines_closed": closed,
            "tasks_closed": tasks,
            **others,
        },
    )
    return event


def events_covering(area: Area) -> list[EmergencyEvent]:
    """Active events covering *area* or an ancestor (the area is in emergency mode)."""
    return list(EmergencyEvent.objects.active().covering(area))


# --- risk areas -----------------------------------------------------------------------------


def _clean_risk_area(
    name: str, region_code: str, level: str, from_date: dt.date, to_date: dt.date | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Name the risk area.")
    if level not in RiskLevel.values:
        errors["level"] = _("Choose a risk level.")
    code = region_code.strip()
    if code and (not code.isdigit() or len(code) > 12):
        errors["region_code"] = _("A region code has up to 12 digits.")
    if to_date is not None and to_date < from_date:
        errors["to_date"] = _("The end date is before the start date.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name.strip(),
        "region_code": code,
        "level": level,
        "from_date": from_date,
        "to_date": to_date,
    }


@transaction.atomic
def risk_area_add(
    *,
    actor: Any,
    event: EmergencyEvent,
    name: str,
    level: str,
    from_date: dt.date,
    to_date: dt.date | None = None,
    region_code: str = "",
) -> RiskArea:
    """Add a place to the event's risk-area list."""
    _require(actor, Perm.MANAGE_EMERGENCY, _covered(event))
    if event.status != EventStatus.ACTIVE:
        raise ValidationError(_("This event has ended; it cannot change."))
    fields = _clean_risk_area(name, region_code, level, from_date, to_date)
    risk = RiskArea.objects.create(event=event, **fields)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=risk, area=event.area, changes=fields)
    return risk


@transaction.atomic
def risk_area_change(
    *,
    actor: Any,
    risk_area: RiskArea,
    name: str,
    level: str,
    from_date: dt.date,
    to_date: dt.date | None,
    region_code: str = "",
) -> RiskArea:
    """Change a risk area (most often: set the day it stops being one)."""
    _require(actor, Perm.MANAGE_EMERGENCY, _covered(risk_area.event))
    risk_area = RiskArea.objects.select_for_update().get(pk=risk_area.pk)
    fields = _clean_risk_area(name, region_code, level, from_date, to_date)
    changes = {k: v for k, v in fields.items() if getattr(risk_area, k) != v}
    for k, v in fields.items():
        setattr(risk_area, k, v)
    risk_area.save()
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=risk_area,
        area=risk_area.event.area,
        changes=changes,
    )
    return risk_area


# --- arrivals -------------------------------------------------------------------------------


def _match_person(id_bidx: str, phone_bidx: str) -> Person | None:
    if id_bidx:
        found = Person.objects.filter(id_bidx=id_bidx).first()
        if found is not None:
            return found
    if phone_bidx:
        return (
            Person.objects.filter(phone_bidx=phone_bidx, status=PersonStatus.LIVING)
            .order_by("id")
            .first()
        )
    return None


@transaction.atomic
def arrival_register(
    *,
    actor: Any,
    event: EmergencyEvent,
    grid: Area,
    name: str,
    arrived_on: dt.date,
    travel_mode: str,
    national_id: str = "",
    phone: str = "",
    risk_area: RiskArea | None = None,
    from_text: str = "",
    dwelling: Dwelling | None = None,
    address: str = "",
    source: str = ArrivalSource.WORKER,
    now: dt.datetime | None = None,
) -> Arrival:
    """Register an arrival; match the register by national ID, else phone. An arrival from a
    risk area whose level the event gives a measure for starts that measure at once.

    The same person (ID or phone) arriving on the same day for the same event is registered
    once: a repeated submission returns the first registration.
    """
    at = _now(now)
    today = _local_day(at)
    if grid.kind != AreaKind.GRID:
        raise ValidationError({"grid": _("Choose the grid where the person is staying.")})
    if source == ArrivalSource.WORKER:
        if actor is None:
            raise PermissionDenied(_("You may not do this outside your jurisdiction."))
        _require(actor, Perm.ACT_EMERGENCY, [grid])
    if event.status != EventStatus.ACTIVE or Measure.ARRIVALS not in event.measures:
        raise ValidationError(_("This event does not register arrivals (any more)."))
    if not EmergencyEvent.objects.filter(pk=event.pk).covering(grid).exists():
        raise ValidationError({"grid": _("The event does not cover this grid.")})
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Enter the name.")
    nid = None
    if national_id.strip():
        try:
            nid = parse_national_id(national_id)
        except ValidationError as exc:
            errors["national_id"] = exc.messages[0]
    number = ""
    if phone.strip():
        try:
            number = normalise_phone(phone)
        except ValidationError:
            errors["phone"] = _(
                "Enter an 11-digit mobile number, or a landline with its area code."
            )
    elif source == ArrivalSource.SELF:
        errors["phone"] = _("Enter your mobile number.")
    if nid is None and not number and "phone" not in errors and "national_id" not in errors:
        errors["phone"] = _("Enter a phone number or a national ID, so the person can be reached.")
    if arrived_on > today:
        errors["arrived_on"] = _("The date cannot be in the future.")
    if travel_mode not in TravelMode.values:
        errors["travel_mode"] = _("Choose how the person travelled.")
    if risk_area is not None and risk_area.event_id != event.pk:
        errors["risk_area"] = _("Choose a risk area of this event.")
    if risk_area is None and not from_text.strip():
        errors["from_text"] = _("Say where the person came from.")
    if dwelling is not None and dwelling.grid_id != grid.pk:
        errors["dwelling"] = _("The dwelling is not in this grid.")
    if errors:
        raise ValidationError(errors)
    id_bidx = crypto.blind_index("national_id", nid.number) if nid else ""
    phone_bidx = crypto.blind_index("phone", number) if number else ""
    # One registration per person, event and day, whichever path it came through.
    same = Arrival.objects.select_for_update().filter(event=event, arrived_on=arrived_on)
    earlier = (same.filter(id_bidx=id_bidx) if id_bidx else same.none()) | (
        same.filter(phone_bidx=phone_bidx) if phone_bidx else same.none()
    )
    first = earlier.order_by("id").first()
    if first is not None:
        return first
    arrival = Arrival(
        event=event,
        person=_match_person(id_bidx, phone_bidx),
        name=name,
        id_sealed=crypto.seal(nid.number) if nid else None,
        id_bidx=id_bidx,
        id_masked=mask_national_id(nid.number) if nid else "",
        phone_sealed=crypto.seal(number) if number else None,
        phone_bidx=phone_bidx,
        phone_masked=mask_phone(number) if number else "",
        risk_area=risk_area,
        from_text=from_text.strip()[:100],
        arrived_on=arrived_on,
        travel_mode=travel_mode,
        dwelling=dwelling,
        address=(dwelling.address if dwelling else address.strip())[:200],
        grid=grid,
        source=source,
        registered_by=_user(actor),
    )
    arrival.save()
    audit_record(
        actor=actor if actor is not None else f"self ({arrival.phone_masked})",
        action=AuditAction.CREATE,
        obj=arrival,
        object_label=arrival.name,
        area=grid,
        changes={
            "from": arrival.coming_from,
            "arrived_on": arrived_on,
            "source": source,
            "matched_person": arrival.person_id,
        },
    )
    if (
        risk_area is not None
        and risk_area.applies_on(arrived_on)
        and Measure.QUARANTINE in (event.measures)
    ):
        kind = event.measure_for(risk_area.level)
        if kind:
            _start_from_arrival(
                actor=actor,
                arrival=arrival,
                kind=kind,
                reason=_("Arrived from %(place)s (%(level)s)")
                % {"place": risk_area.name, "level": risk_area.get_level_display()},
                at=at,
            )
    return arrival


def _start_from_arrival(
    *, actor: Any, arrival: Arrival, kind: str, reason: str, at: dt.datetime
) -> Quarantine:
    q = _quarantine_create(
        actor=actor,
        event=arrival.event,
        kind=kind,
        grid=arrival.grid,
        name=arrival.name,
        person=arrival.person,
        arrival=arrival,
        phone_sealed=bytes(arrival.phone_sealed) if arrival.phone_sealed else None,
        phone_bidx=arrival.phone_bidx,
        phone_masked=arrival.phone_masked,
        address=arrival.address,
        starts_on=max(arrival.arrived_on, _local_day(at) - dt.timedelta(days=60)),
        reason=reason,
        at=at,
    )
    Arrival.objects.filter(pk=arrival.pk).update(decision=ArrivalDecision.QUARANTINE)
    arrival.decision = ArrivalDecision.QUARANTINE
    return q


@transaction.atomic
def arrival_decide(
    *,
    actor: Any,
    arrival: Arrival,
    decision: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Arrival:
    """A worker verifies an arrival and decides: a measure (a quarantine kind) or none."""
    _require(actor, Perm.ACT_EMERGENCY, [arrival.grid])
    arrival = Arrival.objects.select_for_update().select_related("event").get(pk=arrival.pk)
    at = _now(now)
    if arrival.decision != ArrivalDecision.PENDING:
        raise ValidationError(_("This arrival has already been decided."))
    if decision not in (*QuarantineKind.values, ArrivalDecision.NO_MEASURE):
        raise ValidationError({"decision": _("Choose a measure or none.")})
    arrival.verified_at = arrival.verified_at or at
    arrival.verified_by = arrival.verified_by or _user(actor)
    if decision == ArrivalDecision.NO_MEASURE:
        arrival.decision = ArrivalDecision.NO_MEASURE
        arrival.save(update_fields=["decision", "verified_at", "verified_by", "updated_at"])
    else:
        if arrival.event.status != EventStatus.ACTIVE:
            raise ValidationError(_("This event has ended; it cannot change."))
        arrival.save(update_fields=["verified_at", "verified_by", "updated_at"])
        _start_from_arrival(
            actor=actor,
            arrival=arrival,
            kind=decision,
            reason=reason.strip() or _("Decided on verification"),
            at=at,
        )
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=arrival,
        object_label=arrival.name,
        area=arrival.grid,
        changes={"decision": decision, "reason": reason},
    )
    return arrival


@transaction.atomic
def arrival_verify(*, actor: Any, arrival: Arrival, now: dt.datetime | None = None) -> Arrival:
    """A worker confirms a registration's details (the "verified" stage of the closed loop)."""
    _require(actor, Perm.ACT_EMERGENCY, [arrival.grid])
    arrival = Arrival.objects.select_for_update().get(pk=arrival.pk)
    if arrival.verified_at is None:
        arrival.verified_at = _now(now)
        arrival.verified_by = _user(actor)
        arrival.save(update_fields=["verified_at", "verified_by", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=arrival,
            object_label=arrival.name,
            area=arrival.grid,
            changes={"verified": True},
        )
    return arrival


# --- quarantine -----------------------------------------------------------------------------


def _timeline(
    q: Quarantine,
    kind: str,
    *,
    actor: Any,
    at: dt.datetime,
    summary: str,
    data: dict[str, Any] | None = None,
) -> QuarantineEvent:
    return QuarantineEvent.objects.create(
        quarantine=q,
        kind=kind,
        at=at,
        summary=summary[:300],
        data=data or {},
        actor=_user(actor),
        grid_id=q.grid_id,
    )


_ACTION_EVENT = {
    "extend": QuarantineEventKind.EXTENDED,
    "release": QuarantineEventKind.RELEASED,
    "transfer": QuarantineEventKind.TRANSFERRED,
    "close": QuarantineEventKind.CLOSED,
}


def _transition(
    q: Quarantine,
    action: str,
    *,
    actor: Any,
    at: dt.datetime,
    summary: str,
    data: dict[str, Any] | None = None,
) -> Quarantine:
    """Move *q* along TRANSITIONS (the caller holds its row lock) and record the step."""
    target = TRANSITIONS.get((q.status, action))
    if target is None:
        raise IllegalTransition(
            _("A quarantine that is “%(status)s” cannot be %(action)s.")
            % {"status": q.get_status_display(), "action": _ACTION_WORDS.get(action, action)}
        )
    q.status = target
    if target != QuarantineStatus.ACTIVE:
        q.ended_at = at
    q.save()
    if action in _ACTION_EVENT:
        _timeline(q, _ACTION_EVENT[action], actor=actor, at=at, summary=summary, data=data)
    return q


_ACTION_WORDS = {
    "extend": gettext_lazy("extended"),
    "check_in": gettext_lazy("checked in"),
    "release": gettext_lazy("released"),
    "transfer": gettext_lazy("transferred"),
    "close": gettext_lazy("closed"),
}


def _responsible_for(grid: Area) -> User | None:
    binding = (
        RoleBinding.objects.filter(area=grid, role=Role.GRID_WORKER, is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return binding.user if binding else None


def _quarantine_create(
    *,
    actor: Any,
    event: EmergencyEvent,
    kind: str,
    grid: Area,
    name: str,
    starts_on: dt.date,
    reason: str,
    at: dt.datetime,
    person: Person | None = None,
    arrival: Arrival | None = None,
    phone_sealed: bytes | None = None,
    phone_bidx: str = "",
    phone_masked: str = "",
    address: str = "",
    responsible: User | None = None,
) -> Quarantine:
    if kind not in QuarantineKind.values:
        raise ValidationError({"kind": _("Choose a kind of quarantine.")})
    days = event.days_for(kind)
    q = Quarantine.objects.create(
        event=event,
        arrival=arrival,
        person=person,
        name=name,
        phone_sealed=phone_sealed,
        phone_bidx=phone_bidx,
        phone_masked=phone_masked,
        kind=kind,
        reason=reason[:200],
        starts_on=starts_on,
        planned_end=starts_on + dt.timedelta(days=days),
        responsible=responsible or _responsible_for(grid),
        grid=grid,
        address=address,
    )
    _timeline(
        q,
        QuarantineEventKind.STARTED,
        actor=actor,
        at=at,
        summary=_("%(kind)s for %(days)d days, until %(end)s: %(reason)s")
        % {"kind": q.get_kind_display(), "days": days, "end": q.planned_end, "reason": reason},
        data={"kind": kind, "days": days},
    )
    audit_record(
        actor=actor if actor is not None else "system",
        action=AuditAction.CREATE,
        obj=q,
        object_label=q.name,
        area=grid,
        changes={"kind": kind, "starts_on": starts_on, "planned_end": q.planned_end},
    )
    return q


@transaction.atomic
def quarantine_start(
    *,
    actor: Any,
    event: EmergencyEvent,
    person: Person,
    kind: str,
    reason: str,
    starts_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Quarantine:
    """Put a person of the register under a measure of an active event covering their grid."""
    _require(actor, Perm.ACT_EMERGENCY, [person.grid])
    at = _now(now)
    if event.status != EventStatus.ACTIVE or Measure.QUARANTINE not in event.measures:
        raise ValidationError(_("This event does not run quarantine (any more)."))
    if not EmergencyEvent.objects.filter(pk=event.pk).covering(person.grid).exists():
        raise ValidationError(_("The event does not cover this person's grid."))
    if Quarantine.objects.filter(person=person, status=QuarantineStatus.ACTIVE).exists():
        raise ValidationError(_("This person is already under a measure."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    return _quarantine_create(
        actor=actor,
        event=event,
        kind=kind,
        grid=person.grid,
        name=person.name,
        person=person,
        phone_sealed=bytes(person.phone_sealed) if person.phone_sealed else None,
        phone_bidx=person.phone_bidx,
        phone_masked=person.phone_masked,
        address=person.household.dwelling.address
        if person.household and person.household.dwelling
        else "",
        starts_on=starts_on or _local_day(at),
        reason=reason.strip(),
        at=at,
    )


def _locked(q: Quarantine) -> Quarantine:
    # The grid comes in the same query (every caller audits against it); only the measure's
    # row is locked, not its grid's.
    return Quarantine.objects.select_for_update(of=("self",)).select_related("grid").get(pk=q.pk)


@transaction.atomic
def quarantine_extend(
    *, actor: Any, quarantine: Quarantine, days: int, reason: str, now: dt.datetime | None = None
) -> Quarantine:
    """Extend the measure by *days* (1–30), with the reason."""
    _require(actor, Perm.ACT_EMERGENCY, [quarantine.grid])
    q = _locked(quarantine)
    errors = {}
    if not 1 <= int(days) <= 30:
        errors["days"] = _("Extend by 1 to 30 days.")
    if not reason.strip():
        errors["reason"] = _("Give the reason.")
    if errors:
        raise ValidationError(errors)
    old = q.planned_end
    q.planned_end = old + dt.timedelta(days=int(days))
    _transition(
        q,
        "extend",
        actor=actor,
        at=_now(now),
        summary=_("Extended by %(days)d days to %(end)s: %(reason)s")
        % {"days": int(days), "end": q.planned_end, "reason": reason.strip()},
        data={"from": str(old), "to": str(q.planned_end), "reason": reason.strip()},
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=q,
        object_label=q.name,
        area=q.grid,
        changes={"planned_end": [old, q.planned_end], "reason": reason.strip()},
    )
    return q


@transaction.atomic
def quarantine_transfer(
    *, actor: Any, quarantine: Quarantine, to: str, now: dt.datetime | None = None
) -> Quarantine:
    """The person leaves this measure for another place (a hospital, a centralised site)."""
    _require(actor, Perm.ACT_EMERGENCY, [quarantine.grid])
    q = _locked(quarantine)
    if not to.strip():
        raise ValidationError({"to": _("Say where the person was transferred to.")})
    _transition(
        q,
        "transfer",
        actor=actor,
        at=_now(now),
        summary=_("Transferred to %(to)s") % {"to": to.strip()},
        data={"to": to.strip()},
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=q,
        object_label=q.name,
        area=q.grid,
        changes={"status": "transferred", "to": to.strip()},
    )
    return q


def missing_days(q: Quarantine, today: dt.date) -> list[dt.date]:
    """Required days (up to *today*) without a check-in."""
    done = set(CheckIn.objects.filter(quarantine=q).values_list("day", flat=True))
    return [d for d in q.required_days(today) if d not in done]


def _mask_name(name: str) -> str:
    return mask_name(name)


@transaction.atomic
def quarantine_release(
    *, actor: Any, quarantine: Quarantine, now: dt.datetime | None = None
) -> ReleaseCertificate:
    """Release when the planned days are done and every day has a check-in; issue the signed
    release certificate."""
    _require(actor, Perm.ACT_EMERGENCY, [quarantine.grid])
    q = _locked(quarantine)
    at = _now(now)
    today = _local_day(at)
    if q.status == QuarantineStatus.ACTIVE:
        if today < q.planned_end:
            raise ValidationError(
                _("The planned days are not over: release is possible from %(day)s.")
                % {"day": q.planned_end}
            )
        missing = missing_days(q, today)
        if missing:
            raise ValidationError(
                _("Check-ins are missing for %(days)s. Record them first (on behalf if needed).")
                % {"days": ", ".join(str(d) for d in missing)}
            )
    _transition(q, "release", actor=actor, at=at, summary=_("Released; certificate issued."))
    community = q.grid.parent.name if q.grid.parent else q.grid.name
    number = secrets.token_hex(5).upper()
    body = certificates.CertificateBody(
        number=number,
        name_masked=_mask_name(q.name),
        kind=q.kind,
        starts_on=str(q.starts_on),
        released_on=str(today),
        community=community,
    )
    cert = ReleaseCertificate.objects.create(
        quarantine=q,
        number=number,
        payload=certificates.payload_sign(body),
        issued_at=at,
        grid_id=q.grid_id,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=q,
        object_label=q.name,
        area=q.grid,
        changes={"status": "released", "certificate": number},
    )
    return cert


@transaction.atomic
def certificate_revoke(*, actor: Any, certificate: ReleaseCertificate, reason: str) -> None:
    """Revoke a certificate (issued in error); /verify/<number>/ then answers "revoked"."""
    _require(actor, Perm.MANAGE_EMERGENCY, [certificate.quarantine.grid])
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    cert = ReleaseCertificate.objects.select_for_update().get(pk=certificate.pk)
    if cert.revoked_at is None:
        cert.revoked_at = timezone.now()
        cert.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=cert.quarantine,
            area=cert.quarantine.grid,
            reason=reason.strip(),
            changes={"certificate": cert.number, "revoked": True},
        )


# --- check-ins, reminders, tasks ------------------------------------------------------------


def _parse_temperature(value: Any) -> Decimal:
    try:
        t = Decimal(str(value).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"temperature": _("Enter the temperature, e.g. 36.5.")}) from None
    if not TEMPERATURE_MIN <= t <= TEMPERATURE_MAX:
        raise ValidationError({"temperature": _("A body temperature is between 34.0 and 43.0 °C.")})
    return t


def _checkin_summary(day: dt.date, t: Decimal, chosen: list[str], by_self: bool) -> str:
    who = _("by the person") if by_self else _("on their behalf")
    return _("Check-in for %(day)s: %(t)s °C%(symptoms)s (%(who)s)") % {
        "day": day,
        "t": t,
        "symptoms": (" · " + ", ".join(str(Symptom(s).label) for s in chosen)) if chosen else "",
        "who": who,
    }


def _alert_summary(t: Decimal, chosen: list[str]) -> str:
    reasons = []
    if float(t) >= FEVER_FROM:
        reasons.append(_("fever %(t)s °C") % {"t": t})
    reasons += [str(Symptom(s).label) for s in chosen]
    return _("Health alert: %(what)s") % {"what": ", ".join(reasons)}


def _checked_in_later() -> str:
    return _("Checked in later.")


def checkin_record(
    *,
    actor: Any,
    quarantine: Quarantine,
    temperature: Any,
    symptoms: Iterable[str] = (),
    note: str = "",
    day: dt.date | None = None,
    by_self: bool = False,
    now: dt.datetime | None = None,
) -> CheckIn:
    """Record a check-in for *day* (default today). A fever (≥ 37.3 °C) or any symptom raises
    an alert and a task for the grid worker at once; a late check-in for a missed day closes
    that day's missed-check-in task. Inside the API's idempotency block the transaction takes
    no savepoint (``service_atomic``: two round trips fewer per check-in, decision 0043)."""
    with service_atomic():
        return _checkin_record(
            actor=actor,
            quarantine=quarantine,
            temperature=temperature,
            symptoms=symptoms,
            note=note,
            day=day,
            by_self=by_self,
            now=now,
        )


def _checkin_record(
    *,
    actor: Any,
    quarantine: Quarantine,
    temperature: Any,
    symptoms: Iterable[str],
    note: str,
    day: dt.date | None,
    by_self: bool,
    now: dt.datetime | None,
) -> CheckIn:
    if not by_self:
        _require(actor, Perm.ACT_EMERGENCY, [quarantine.grid])
    q = _locked(quarantine)
    at = _now(now)
    today = _local_day(at)
    day = day or today
    t = _parse_temperature(temperature)
    chosen = [s for s in Symptom.values if s in set(symptoms)]
    if set(symptoms) - set(Symptom.values):
        raise ValidationError({"symptoms": _("Unknown symptom.")})
    if (q.status, "check_in") not in TRANSITIONS:
        raise IllegalTransition(_("This person is no longer under a measure."))
    if day > today:
        raise ValidationError({"day": _("The date cannot be in the future.")})
    if day < q.starts_on or day >= q.planned_end:
        raise ValidationError({"day": _("The day is outside the measure's days.")})
    if by_self and day != today:
        raise ValidationError({"day": _("You can check in for today only.")})
    check = CheckIn.objects.create(
        quarantine=q,
        day=day,
        at=at,
        temperature=t,
        symptoms=chosen,
        note=note.strip()[:200],
        by_self=by_self,
        recorded_by=_user(actor),
        grid_id=q.grid_id,
    )
    _timeline(
        q,
        QuarantineEventKind.CHECKED_IN,
        actor=actor,
        at=at,
        summary=_checkin_summary(day, t, chosen, by_self),
        data={"check_in": check.pk},
    )
    FollowUpTask.objects.filter(
        quarantine=q, day=day, kind=TaskKind.MISSED_CHECKIN, status=TaskStatus.OPEN
    ).update(status=TaskStatus.DONE, done_at=at, note=_checked_in_later())
    if check.is_alert:
        summary = _alert_summary(t, chosen)
        _timeline(q, QuarantineEventKind.ALERT, actor=actor, at=at, summary=summary)
        FollowUpTask.objects.create(
            quarantine=q,
            check_in=check,
            kind=TaskKind.HEALTH_ALERT,
            day=day,
            summary=summary[:200],
            assigned_to=q.responsible,
            grid_id=q.grid_id,
        )
        _timeline(
            q,
            QuarantineEventKind.TASK,
            actor=None,
            at=at,
            summary=_("Task for the grid worker: follow up the alert."),
        )
    audit_record(
        actor=actor if actor is not None else f"self ({q.phone_masked})",
        action=AuditAction.CREATE,
        obj=check,
        object_label=q.name,
        area=q.grid,
        changes={"day": day, "alert": check.is_alert, "by_self": by_self},
    )
    return check


def checkin_record_one_trip(
    *,
    actor: Any,
    quarantine_id: int,
    temperature: Any,
    symptoms: Iterable[str],
    note: str,
    day: dt.date | None,
    answer: Callable[[CheckIn], tuple[int, dict[str, Any]]],
    keyed: Any = None,
) -> tuple[int, dict[str, Any]] | None:
    """A worker's check-in for a measure in their scope, written in one round trip to
    PostgreSQL (decision 0048); None when this call is not that case, and then nothing was
    written and the caller goes the way of :func:`checkin_record`, which answers every other
    case (outside the scope, an ended measure, a day out of range, bad input, a key lost in a
    race) as it always has. A fever or symptom writes its alert, task and their timeline
    entries in the same statement, as the full path does.

    One pipeline (``core.onetrip``): the stored answer under *keyed* (an
    ``api.idempotency.Keyed``) if any, the measure's row under lock, then one statement that
    writes the check-in, its timeline entry (and an alert's entry, task and task entry), the
    missed-day task's closing, the audit entry (pending, chained by the sequencer as every
    PostgreSQL entry is) and the stored answer — only if the measure still qualifies and the
    key is still unused. *answer* builds the (status, body) from the new check-in; its ``id``
    is the database's (merged into the stored body by the statement)."""
    from linli.core import onetrip

    if actor is None or not onetrip.available():
        return None
    try:
        t = _parse_temperature(temperature)
    except ValidationError:
        return None
    given = set(symptoms)
    if given - set(Symptom.values):
        return None  # the full path names the unknown symptom
    chosen = [s for s in Symptom.values if s in given]
    at = timezone.now()
    today = _local_day(at)
    day = day or today
    if day > today:
        return None
    act, view = scope_for(actor, Perm.ACT_EMERGENCY), scope_for(actor, Perm.VIEW_EMERGENCY)
    if act.is_empty or view.is_empty:
        return None
    col = onetrip.column
    qualifies, lock_sql, task_sql, visible = _one_trip_sql(len(act.paths), len(view.paths))
    qualifies_params: list[Any] = [quarantine_id, *CHECK_IN_FROM, day, day, *act.paths, *view.paths]
    guard, guard_params = keyed.unused() if keyed is not None else ("TRUE", [])

    msg = onetrip.Message()
    looked = None
    if keyed is not None:
        # A stored answer is replayed when the measure is visible, as the full path does
        # (its 404 comes first); a replay takes no lock and writes nothing.
        stored, stored_params = keyed.lookup()
        looked = msg.add(
            f"{stored} AND EXISTS ({visible})", [*stored_params, quarantine_id, *view.paths]
        )
    msg.add(f"{lock_sql} AND {guard} FOR UPDATE OF q", [*qualifies_params, *guard_params])
    check = CheckIn(
        quarantine_id=quarantine_id,
        day=day,
        at=at,
        temperature=t,
        symptoms=chosen,
        note=note.strip()[:200],
        by_self=False,
        recorded_by=_user(actor),
    )
    status, body = answer(check)
    c_id, c_q, c_grid = (f"c.{col(CheckIn, n)}" for n in ("id", "quarantine_id", "grid_id"))
    parts = [
        onetrip.InsertSelect(
            check,
            source="q",
            exprs={"quarantine_id": "q.qid", "grid_id": "q.grid_id"},
            returning=f"{col(CheckIn, 'id')}, {col(CheckIn, 'quarantine_id')}, "
            f"{col(CheckIn, 'grid_id')}",
        ),
        onetrip.InsertSelect(
            QuarantineEvent(
                kind=QuarantineEventKind.CHECKED_IN,
                at=at,
                summary=_checkin_summary(day, t, chosen, False)[:300],
                actor=_user(actor),
            ),
            source="c",
            exprs={
                "quarantine_id": c_q,
                "grid_id": c_grid,
                "data": f"jsonb_build_object('check_in', {c_id})",
            },
            returning=col(QuarantineEvent, "id"),
        ),
    ]
    if check.is_alert:
        # The alert's timeline entry and task, then the task's entry: each reads the one
        # before it, so their ids (the timeline's order) follow the full path's.
        summary = _alert_summary(t, chosen)
        parts += [
            onetrip.InsertSelect(
                QuarantineEvent(
                    kind=QuarantineEventKind.ALERT, at=at, summary=summary[:300], actor=_user(actor)
                ),
                source="c CROSS JOIN w1",
                exprs={"quarantine_id": c_q, "grid_id": c_grid},
                returning=col(QuarantineEvent, "id"),
            ),
            onetrip.InsertSelect(
                FollowUpTask(kind=TaskKind.HEALTH_ALERT, day=day, summary=summary[:200]),
                source="c CROSS JOIN q CROSS JOIN w2",
                exprs={
                    "quarantine_id": c_q,
                    "grid_id": c_grid,
                    "check_in_id": c_id,
                    "assigned_to_id": "q.responsible_id",
                },
                returning=col(FollowUpTask, "id"),
            ),
            onetrip.InsertSelect(
                QuarantineEvent(
                    kind=QuarantineEventKind.TASK,
                    at=at,
                    summary=_("Task for the grid worker: follow up the alert.")[:300],
                    actor=None,
                ),
                source="c CROSS JOIN w3",
                exprs={"quarantine_id": c_q, "grid_id": c_grid},
            ),
        ]
    entry = audit_entry(
        actor=actor,
        action=AuditAction.CREATE,
        changes={"day": day, "alert": check.is_alert, "by_self": False},
    )
    entry.object_type = CheckIn._meta.model_name or ""
    parts.append(
        onetrip.InsertSelect(
            entry,
            source="c CROSS JOIN q",
            exprs={
                "object_id": f"CAST({c_id} AS varchar)",
                "object_label": "left(q.qname, 200)",
                "area_id": c_grid,
            },
        )
    )
    if keyed is not None:
        parts.append(
            keyed.record(
                status=status, body=body, source="c", merge=f"jsonb_build_object('id', {c_id})"
            )
        )
    ctes = [f"q AS (SELECT q.qid, q.grid_id, q.qname, q.responsible_id {qualifies} AND {guard})"]
    params: list[Any] = [*qualifies_params, *guard_params]
    for n, part in enumerate(parts):
        sql, more = part.sql()
        ctes.append(f"{'c' if n == 0 else f'w{n}'} AS ({sql})")
        params += more
    ctes.append(task_sql)
    params += [
        TaskStatus.DONE,
        at,
        _checked_in_later(),
        day,
        TaskKind.MISSED_CHECKIN,
        TaskStatus.OPEN,
    ]
    written = msg.add(f"WITH {', '.join(ctes)} SELECT {c_id} FROM c", params)  # noqa: S608
    try:
        results = msg.send()
    except IntegrityError:
        return None  # the key was stored by a copy racing this one: the full way replays it
    if not results[written]:
        if looked is not None and results[looked]:
            return keyed.replay(results[looked][0])
        return None
    check.pk = results[written][0][0]
    return status, {**body, "id": check.pk}


@functools.lru_cache(maxsize=64)
def _one_trip_sql(n_act: int, n_view: int) -> tuple[str, str, str, str]:
    """The fixed text of a one-trip check-in for scopes of *n_act* and *n_view* roots: the
    condition a measure must meet (``FROM … WHERE …``, its columns as qid, grid_id, qname),
    the lock statement, the CTE that closes the day's missed-check-in task, and the query
    true when the measure is in the viewing scope."""
    from linli.core import onetrip

    # Identifiers come from the models' metadata; every value is a parameter.
    table, col = onetrip.table, onetrip.column
    act_sql, _p = onetrip.starts_with_any('g."path"', ["?"] * n_act)
    view_sql, _p = onetrip.starts_with_any('g."path"', ["?"] * n_view)
    qualifies = (
        f"FROM (SELECT q.{col(Quarantine, 'id')} AS qid, "  # noqa: S608
        f"q.{col(Quarantine, 'grid_id')} AS grid_id, q.{col(Quarantine, 'name')} AS qname, "
        f"q.{col(Quarantine, 'responsible_id')} AS responsible_id, g.{col(Area, 'path')} AS path "
        f"FROM {table(Quarantine)} q JOIN {table(Area)} g ON g.{col(Area, 'id')} = "
        f"q.{col(Quarantine, 'grid_id')} WHERE q.{col(Quarantine, 'id')} = %s "
        f"AND q.{col(Quarantine, 'status')} IN ({', '.join(['%s'] * len(CHECK_IN_FROM))}) "
        f"AND q.{col(Quarantine, 'starts_on')} <= %s AND q.{col(Quarantine, 'planned_end')} > %s"
        f") q WHERE {act_sql.replace('g.', 'q.')} AND {view_sql.replace('g.', 'q.')}"
    )
    # Locked unless a stored answer exists (the caller appends that condition and the lock).
    lock = (
        f"SELECT q.{col(Quarantine, 'id')} FROM {table(Quarantine)} q "  # noqa: S608
        f"WHERE q.{col(Quarantine, 'id')} IN (SELECT q.qid {qualifies})"
    )
    visible = (
        f"SELECT 1 FROM {table(Quarantine)} q JOIN {table(Area)} g "  # noqa: S608
        f"ON g.{col(Area, 'id')} = q.{col(Quarantine, 'grid_id')} "
        f"WHERE q.{col(Quarantine, 'id')} = %s AND {view_sql}"
    )
    ft = FollowUpTask
    task = (
        f"u AS (UPDATE {table(ft)} f SET {col(ft, 'status')} = %s, "  # noqa: S608
        f"{col(ft, 'done_at')} = %s, {col(ft, 'note')} = %s FROM c "
        f"WHERE f.{col(ft, 'quarantine_id')} = c.{col(CheckIn, 'quarantine_id')} "
        f"AND f.{col(ft, 'day')} = %s AND f.{col(ft, 'kind')} = %s AND f.{col(ft, 'status')} = %s)"
    )
    return qualifies, lock, task, visible


@transaction.atomic
def task_done(
    *, actor: Any, task: FollowUpTask, note: str = "", now: dt.datetime | None = None
) -> FollowUpTask:
    """The grid worker has followed up: the task is done, with what they found."""
    _require(actor, Perm.ACT_EMERGENCY, [task.grid])
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if task.status == TaskStatus.DONE:
        raise ValidationError(_("This task is already done."))
    task.status = TaskStatus.DONE
    task.done_at = _now(now)
    task.done_by = _user(actor)
    task.note = note.strip()[:300]
    task.save()
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=task.quarantine,
        area=task.grid,
        changes={"task": task.pk, "done": True, "note": task.note},
    )
    return task


def reminders_run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """After each event's deadline hour, remind by SMS everyone under a measure without today's
    check-in (once a day); when the reminder is LINLI_EMERGENCY_ESCALATE_MINUTES old and still
    nothing came, give the grid worker a task (once a day). Safe to run as often as wanted."""
    with translation.override(settings.LANGUAGE_CODE):  # texts in the deployment's language
        return _reminders_run(_now(now))


def _reminders_run(at: dt.datetime) -> dict[str, int]:
    local = timezone.localtime(at)
    today = local.date()
    escalate = dt.timedelta(minutes=getattr(settings, "LINLI_EMERGENCY_ESCALATE_MINUTES", 120))
    sent = tasks = 0
    events = EmergencyEvent.objects.active().filter(checkin_deadline_hour__lte=local.hour)
    for event in events:
        if Measure.CHECKINS not in event.measures:
            continue
        due = (
            Quarantine.objects.filter(
                event=event,
                status=QuarantineStatus.ACTIVE,
                starts_on__lte=today,
                planned_end__gt=today,
            )
            .exclude(check_ins__day=today)
            .select_related("grid")
        )
        for q in due:
            s, t = _remind_one(
                q, today=today, at=at, escalate=escalate, hour=event.checkin_deadline_hour
            )
            sent += s
            tasks += t
    return {"reminded": sent, "tasks": tasks}


def _remind_one(
    q: Quarantine, *, today: dt.date, at: dt.datetime, escalate: dt.timedelta, hour: int
) -> tuple[int, int]:
    from linli.notify.models import Channel
    from linli.notify.services import notify

    sent = tasks = 0
    with transaction.atomic():
        q = Quarantine.objects.select_for_update().get(pk=q.pk)
        if q.status != QuarantineStatus.ACTIVE or q.check_ins.filter(day=today).exists():
            return 0, 0
        reminder = Reminder.objects.filter(quarantine=q, day=today).first()
        if reminder is None:
            try:
                with transaction.atomic():
                    reminder = Reminder.objects.create(
                        quarantine=q, day=today, sent_at=at, grid_id=q.grid_id
                    )
            except IntegrityError:
                return 0, 0  # another run reminded them just now
            if q.phone_sealed:
                text = _(
                    "Linli: please report today's temperature (check-in was due by %(hour)d:00)."
                ) % {"hour": hour}
                notify(
                    channel=Channel.SMS,
                    kind="emergency.checkin_reminder",
                    text=text,
                    person=q.person,
                    phone_sealed=bytes(q.phone_sealed),
                    name=q.name,
                    grid_id=q.grid_id,
                    source_app="emergency",
                    source_id=q.pk,
                    dedupe_key=f"emergency.checkin_reminder:{q.pk}:{today}",
                )
            _timeline(
                q,
                QuarantineEventKind.REMINDED,
                actor=None,
                at=at,
                summary=_("Reminder sent: no check-in for %(day)s yet.") % {"day": today},
            )
            sent = 1
        elif (
            at - reminder.sent_at >= escalate
            and not FollowUpTask.objects.filter(
                quarantine=q, day=today, kind=TaskKind.MISSED_CHECKIN
            ).exists()
        ):
            FollowUpTask.objects.create(
                quarantine=q,
                kind=TaskKind.MISSED_CHECKIN,
                day=today,
                summary=(_("No check-in for %(day)s after a reminder.") % {"day": today})[:200],
                assigned_to=q.responsible,
                grid_id=q.grid_id,
            )
            _timeline(
                q,
                QuarantineEventKind.TASK,
                actor=None,
                at=at,
                summary=_("Task for the grid worker: no check-in for %(day)s.") % {"day": today},
            )
            tasks = 1
    return sent, tasks
