"""Writes of tests and vaccinations. Each service checks the actor's permission on the grid of
the person it touches (``actor=None`` is the system: seed, imports run by the system), locks
what it changes, and writes an audit entry. A positive result raises a ``PositiveAlert`` (the
grid worker's task); starting a measure from it goes through the emergency services.

Retries never duplicate: a person has one test record per round and one vaccination per dose
number; recording the same thing again answers the stored row unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core import crypto
from linli.core.identity import parse_national_id
from linli.core.scoping import scope_for
from linli.health.models import (
    AlertStatus,
    HealthSource,
    PositiveAlert,
    RoundStatus,
    TestRecord,
    TestResult,
    TestRound,
    TestSite,
    Vaccination,
)
from linli.register.models import Person, PersonStatus

MAX_DOSE = 6


def _require(actor: Any, perm: Perm, areas: Iterable[Area | None]) -> None:
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if not all(scope.covers(a) for a in areas):
        raise PermissionDenied(_("You may not do this outside your jurisdiction."))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _actor(actor: Any) -> Any:
    return actor if actor is not None else "system"


# --- rounds ---------------------------------------------------------------------------------


@transaction.atomic
def round_open(
    *,
    actor: Any,
    name: str,
    area: Area,
    date: dt.date,
    sites: Iterable[str] = (),
    event: Any = None,
) -> TestRound:
    """Open a test round over *area* on *date*, with its sampling sites (one name a line)."""
    _require(actor, Perm.MANAGE_TEST_ROUNDS, [area])
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Give the round a name.")
    if event is not None:
        from linli.emergency.models import EmergencyEvent

        if not EmergencyEvent.objects.filter(pk=event.pk).covering(area).exists():
            errors["event"] = _("The event does not cover this area.")
    site_names = [s.strip()[:100] for s in sites if s.strip()]
    if not site_names:
        errors["sites"] = _("Give at least one sampling site.")
    if errors:
        raise ValidationError(errors)
    rnd = TestRound.objects.create(
        name=name.strip()[:100],
        area=area,
        date=date,
        event=event,
        created_by=_user(actor),
    )
    for site in dict.fromkeys(site_names):
        TestSite.objects.create(round=rnd, name=site)
    audit_record(
        actor=_actor(actor),
        action=AuditAction.CREATE,
        obj=rnd,
        object_label=rnd.name,
        area=area,
        changes={"date": date, "sites": site_names, "event": event.pk if event else None},
    )
    return rnd


@transaction.atomic
def round_close(*, actor: Any, round: TestRound) -> TestRound:
    """Close a round: no more sampling; results may still arrive."""
    _require(actor, Perm.MANAGE_TEST_ROUNDS, [round.area])
    rnd = TestRound.objects.select_for_update().get(pk=round.pk)
    if rnd.status == RoundStatus.CLOSED:
        raise ValidationError(_("This round is already closed."))
    rnd.status = RoundStatus.CLOSED
    rnd.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=_actor(actor),
        action=AuditAction.CHANGE,
        obj=rnd,
        object_label=rnd.name,
        area=rnd.area,
        changes={"status": RoundStatus.CLOSED},
    )
    return rnd


def _in_round(rnd: TestRound, person: Person) -> None:
    if not person.grid.path.startswith(rnd.area.path):
        raise ValidationError(_("This person does not live in the area of this round."))
    if person.status != PersonStatus.LIVING:
        raise ValidationError(_("Only people living here can be tested."))


# --- test records ---------------------------------------------------------------------------


@transaction.atomic
def test_sample(
    *,
    actor: Any,
    round: TestRound,
    person: Person,
    site: TestSite | None = None,
    source: str = HealthSource.SITE,
    now: dt.datetime | None = None,
) -> tuple[TestRecord, bool]:
    """Record that *person* was sampled in *round* (at a sampling site). Answers (record,
    created); sampling someone already sampled in this round changes nothing."""
    _require(actor, Perm.RECORD_HEALTH, [person.grid])
    _in_round(round, person)
    # Read the status afresh: the caller's copy may predate a close.
    if not TestRound.objects.filter(pk=round.pk, status=RoundStatus.OPEN).exists():
        raise ValidationError(_("This round is closed: no more sampling."))
    if site is not None and site.round_id != round.pk:
        raise ValidationError({"site": _("This site belongs to another round.")})
    # Lock the person so two phones at two sites cannot both create the record.
    Person.objects.select_for_update().filter(pk=person.pk).first()
    found = TestRecord.objects.filter(round=round, person=person).first()
    if found is not None:
        return found, False
    rec = TestRecord.objects.create(
        round=round,
        person=person,
        site=site,
        sampled_at=now or timezone.now(),
        source=source,
        recorded_by=_user(actor),
        grid_id=person.grid_id,
    )
    audit_record(
        actor=_actor(actor),
        action=AuditAction.CREATE,
        obj=rec,
        object_label=person.name,
        area=person.grid,
        changes={"round": round.pk, "sampled": True, "site": site.name if site else ""},
    )
    return rec, True


def _raise_alert(rec: TestRecord, actor: Any) -> PositiveAlert:
    from linli.emergency.services import _responsible_for

    alert, _created = PositiveAlert.objects.get_or_create(
        record=rec,
        defaults={
            "person": rec.person,
            "grid_id": rec.grid_id,
            "assigned_to": _responsible_for(rec.grid),
        },
    )
    if alert.status == AlertStatus.DONE:
        alert.status = AlertStatus.OPEN
        alert.done_at = None
        alert.save(update_fields=["status", "done_at", "updated_at"])
    return alert


@transaction.atomic
def test_result_record(
    *,
    actor: Any,
    round: TestRound,
    person: Person,
    result: str,
    source: str = HealthSource.ENTRY,
    external_id: str = "",
    sampled_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> tuple[TestRecord, bool]:
    """Record *person*'s result in *round* (the sampling too, when nobody recorded it).

    Answers (record, changed). The same result again changes nothing; a different final
    result is a correction, audited with the old value. A positive result raises an alert
    for the grid worker. A sample number already used for another person is refused.
    """
    _require(actor, Perm.RECORD_HEALTH, [person.grid])
    if result not in TestResult.values:
        raise ValidationError({"result": _("The result must be negative, positive or pending.")})
    _in_round(round, person)
    at = now or timezone.now()
    external_id = external_id.strip()[:64]
    Person.objects.select_for_update().filter(pk=person.pk).first()
    if external_id:
        other = (
            TestRecord.objects.filter(external_id=external_id).exclude(round=round, person=person)
        ).first()
        if other is not None:
            raise ValidationError({"external_id": _("This sample number belongs to another test.")})
    rec = TestRecord.objects.filter(round=round, person=person).first()
    old = rec.result if rec else None
    if rec is None:
        rec = TestRecord.objects.create(
            round=round,
            person=person,
            sampled_at=sampled_at or at,
            source=source,
            external_id=external_id,
            recorded_by=_user(actor),
            grid_id=person.grid_id,
            result=result,
            result_at=at if result != TestResult.PENDING else None,
        )
    elif old == result and (not external_id or rec.external_id in ("", external_id)):
        if external_id and not rec.external_id:
            rec.external_id = external_id
            rec.save(update_fields=["external_id", "updated_at"])
        return rec, False
    else:
        if old != TestResult.PENDING and result == TestResult.PENDING:
            raise ValidationError({"result": _("A result cannot go back to pending.")})
        rec.result = result
        rec.result_at = at if result != TestResult.PENDING else None
        if external_id:
            rec.external_id = external_id
        rec.save(update_fields=["result", "result_at", "external_id", "updated_at"])
    if result == TestResult.POSITIVE:
        _raise_alert(rec, actor)
    audit_record(
        actor=_actor(actor),
        action=AuditAction.CHANGE if old is not None else AuditAction.CREATE,
        obj=rec,
        object_label=person.name,
        area=person.grid,
        changes={"round": round.pk, "result": [old, result], "source": source},
    )
    return rec, True


@dataclass(frozen=True)
class ResultRow:
    """One row of a batch of results: who (a register person), what, and the sample number."""

    person: Person
    result: str
    external_id: str = ""
    sampled_at: dt.datetime | None = None


@transaction.atomic
def test_results_record(
    *, actor: Any, round: TestRound, rows: list[ResultRow], source: str
) -> dict[str, int]:
    """Record a batch of results all or nothing (one refused row rolls back every row).
    Answers how many were new or changed and how many were already there."""
    changed = same = 0
    for row in rows:
        _rec, did = test_result_record(
            actor=actor,
            round=round,
            person=row.person,
            result=row.result,
            source=source,
            external_id=row.external_id,
            sampled_at=row.sampled_at,
        )
        changed += did
        same += not did
    return {"changed": changed, "unchanged": same}


# --- vaccinations ---------------------------------------------------------------------------


@transaction.atomic
def vaccination_record(
    *,
    actor: Any,
    person: Person,
    dose: int,
    product: str,
    vaccinated_on: dt.date,
    site: str = "",
    source: str = HealthSource.ENTRY,
    external_id: str = "",
    today: dt.date | None = None,
) -> tuple[Vaccination, bool]:
    """Record dose *dose* of *person*. Answers (vaccination, created); the same dose with the
    same product and date again is a retry and changes nothing; a different one is refused
    (a wrong entry is corrected by the person's health centre, not overwritten here)."""
    _require(actor, Perm.RECORD_HEALTH, [person.grid])
    errors: dict[str, str] = {}
    if not isinstance(dose, int) or not 1 <= dose <= MAX_DOSE:
        errors["dose"] = _("The dose number is 1 to %(max)d.") % {"max": MAX_DOSE}
    if not product.strip():
        errors["product"] = _("Name the vaccine.")
    if vaccinated_on > (today or timezone.localdate()):
        errors["vaccinated_on"] = _("The date is in the future.")
    if person.birth_date and vaccinated_on < person.birth_date:
        errors["vaccinated_on"] = _("The date is before the person's birth date.")
    if errors:
        raise ValidationError(errors)
    Person.objects.select_for_update().filter(pk=person.pk).first()
    found = Vaccination.objects.filter(person=person, dose=dose).first()
    if found is not None:
        if found.product == product.strip()[:64] and found.vaccinated_on == vaccinated_on:
            return found, False
        raise ValidationError(
            {
                "dose": _("Dose %(dose)d is already recorded (%(product)s, %(date)s).")
                % {"dose": dose, "product": found.product, "date": found.vaccinated_on}
            }
        )
    earlier = Vaccination.objects.filter(
        person=person, dose__lt=dose, vaccinated_on__gt=vaccinated_on
    )
    if earlier.exists():
        raise ValidationError({"vaccinated_on": _("An earlier dose has a later date.")})
    vac = Vaccination.objects.create(
        person=person,
        dose=dose,
        product=product.strip()[:64],
        vaccinated_on=vaccinated_on,
        site=site.strip()[:100],
        source=source,
        external_id=external_id.strip()[:64],
        recorded_by=_user(actor),
        grid_id=person.grid_id,
    )
    audit_record(
        actor=_actor(actor),
        action=AuditAction.CREATE,
        obj=vac,
        object_label=person.name,
        area=person.grid,
        changes={"dose": dose, "product": vac.product, "vaccinated_on": vaccinated_on},
    )
    return vac, True


# --- alerts ---------------------------------------------------------------------------------


@transaction.atomic
def alert_start_measure(
    *, actor: Any, alert: PositiveAlert, event: Any, kind: str, now: dt.datetime | None = None
) -> PositiveAlert:
    """Start a measure (quarantine) for the person of a positive result through the emergency
    services, and close the alert with it."""
    from linli.emergency.services import quarantine_start

    _require(actor, Perm.RECORD_HEALTH, [alert.grid])
    alert = (
        PositiveAlert.objects.select_for_update().select_related("person__grid").get(pk=alert.pk)
    )
    if alert.quarantine_id:
        raise ValidationError(_("A measure was already started for this alert."))
    q = quarantine_start(
        actor=actor,
        event=event,
        person=alert.person,
        kind=kind,
        reason=_("Positive test result"),
        now=now,
    )
    alert.quarantine = q
    alert.status = AlertStatus.DONE
    alert.done_at = now or timezone.now()
    alert.note = _("Measure started.")
    alert.save()
    return alert


@transaction.atomic
def alert_done(*, actor: Any, alert: PositiveAlert, note: str) -> PositiveAlert:
    """The grid worker followed the alert up without starting a measure here (e.g. the person
    was taken to hospital): what they did is the note."""
    _require(actor, Perm.RECORD_HEALTH, [alert.grid])
    alert = PositiveAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status == AlertStatus.DONE:
        raise ValidationError(_("This alert is already done."))
    if not note.strip():
        raise ValidationError({"note": _("Say what was done.")})
    alert.status = AlertStatus.DONE
    alert.done_at = timezone.now()
    alert.note = note.strip()[:300]
    alert.save()
    audit_record(
        actor=_actor(actor),
        action=AuditAction.CHANGE,
        obj=alert,
        area=alert.grid,
        changes={"done": True, "note": alert.note},
    )
    return alert


# --- identifying people in files and API calls ----------------------------------------------


def person_by_national_id(number: str) -> Person:
    """The register person with this national ID (any scope: callers check scope after)."""
    parsed = parse_national_id(number)
    found = (
        Person.objects.select_related("grid")
        .filter(id_bidx=crypto.blind_index("national_id", parsed.number))
        .first()
    )
    if found is None:
        raise ValidationError(unknown_id_message())
    return found


def unknown_id_message() -> str:
    """One answer for an unknown national ID and one outside the caller's scope."""
    return _("Nobody in the register has this national ID number.")
