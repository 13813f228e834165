"""Writes to the register. Pages, the API, the command line and the demo seed all call these.

Each service checks that the actor holds the permission on the grid it touches (``actor=None``
is the system itself: seed and migrations), records a timeline event and an audit entry, and
never overwrites history: moves and deaths end spans and add events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.register import pii
from linli.register.models import (
    Building,
    CorrectionProposal,
    CorrectionStatus,
    Dwelling,
    DwellingUse,
    Entrance,
    Estate,
    EventKind,
    Household,
    HouseholdStatus,
    Membership,
    Person,
    PersonStatus,
    PersonTag,
    RegisterEvent,
    Relation,
    Residency,
    Tag,
)
from linli.register.naming import pinyin_forms

PERSON_FIELDS = (
    "name",
    "national_id",
    "phone",
    "residency",
    "relation",
    "hukou_address",
    "current_address",
    "notes",
)
#: Free-text details a person may carry, changed as typed (trimmed, capped at the column).
_TEXT_FIELDS = ("hukou_address", "current_address")


def _require(actor: Any, perm: Perm, area: Area | None) -> None:
    if actor is None:
        return
    if area is None or not scope_for(actor, perm).covers(area):
        raise PermissionDenied(_("You may not change records outside your jurisdiction."))


def _today() -> dt.date:
    return timezone.localdate()


def _check_date(occurred_on: dt.date | None) -> dt.date:
    day = occurred_on or _today()
    if day > _today():
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})
    return day


def _event(
    *,
    kind: str,
    grid: Area,
    summary: str,
    actor: Any,
    occurred_on: dt.date,
    person: Person | None = None,
    household: Household | None = None,
    dwelling: Dwelling | None = None,
    data: dict[str, Any] | None = None,
) -> RegisterEvent:
    return RegisterEvent.objects.create(
        kind=kind,
        grid=grid,
        summary=summary[:300],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        occurred_on=occurred_on,
        person=person,
        household=household,
        dwelling=dwelling,
        data=data or {},
    )


def _stamp(person: Person, fields: Iterable[str], *, source: str, actor: Any) -> None:
    """Remember where each field came from and when it was last confirmed."""
    now = timezone.now().isoformat(timespec="seconds")
    by = getattr(actor, "pk", None)
    for f in fields:
        person.provenance[f] = {"source": source, "confirmed_at": now, "by": by}


# --- places ------------------------------------------------------------------------------


def estate_create(*, actor: Any, community: Area, name: str, address: str = "") -> Estate:
    """Add an estate (小区) to a community."""
    if community.kind != AreaKind.COMMUNITY:
        raise ValidationError({"community": _("An estate belongs to a community.")})
    _require(actor, Perm.CHANGE_REGISTER, community)
    estate = Estate.objects.create(community=community, name=name.strip(), address=address)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=estate, area=community)
    return estate


def building_create(
    *, actor: Any, estate: Estate, grid: Area, name: str, floors: int, sort_key: int = 0
) -> Building:
    """Add a building to an estate, in one grid of the estate's community."""
    if grid.kind != AreaKind.GRID or grid.parent_id != estate.community_id:
        raise ValidationError({"grid": _("Choose a grid of the estate's community.")})
    _require(actor, Perm.CHANGE_REGISTER, grid)
    building = Building.objects.create(
        estate=estate, grid=grid, name=name.strip(), floors=floors, sort_key=sort_key
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=building, area=grid)
    return building


def entrance_create(*, actor: Any, building: Building, name: str, sort_key: int = 0) -> Entrance:
    _require(actor, Perm.CHANGE_REGISTER, building.grid)
    entrance = Entrance.objects.create(building=building, name=name.strip(), sort_key=sort_key)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=entrance, area=building.grid)
    return entrance


def dwelling_address(building: Building, entrance: Entrance | None, number: str) -> str:
    parts = [building.estate.name, building.name]
    if entrance is not None:
        parts.append(entrance.name)
    parts.append(number)
    return "".join(parts)


def dwelling_create(
    *,
    actor: Any,
    building: Building,
    entrance: Entrance | None,
    floor: int,
    number: str,
    use: str = DwellingUse.OWNER_OCCUPIED,
    floor_area: Any = None,
) -> Dwelling:
    """Add a dwelling; it lies in its building's grid."""
    _require(actor, Perm.CHANGE_REGISTER, building.grid)
    if floor < -5 or floor > max(building.floors, 1):
        raise ValidationError({"floor": _("The floor is outside the building's floors.")})
    if Dwelling.objects.filter(building=building, entrance=entrance, number=number).exists():
        raise ValidationError({"number": _("This dwelling number already exists here.")})
    dwelling = Dwelling.objects.create(
        building=building,
        entrance=entrance,
        grid=building.grid,
        floor=floor,
        number=number,
        use=use,
        floor_area=floor_area,
        address=dwelling_address(building, entrance, number),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=dwelling, area=building.grid)
    return dwelling


# --- households and persons ---------------------------------------------------------------


@transaction.atomic
def household_create(
    *, actor: Any, dwelling: Dwelling, occurred_on: dt.date | None = None, notes: str = ""
) -> Household:
    """Open a household in a dwelling (members are added with person_create / person_move_house)."""
    _require(actor, Perm.CHANGE_REGISTER, dwelling.grid)
    day = _check_date(occurred_on)
    household = Household.objects.create(dwelling=dwelling, grid=dwelling.grid, notes=notes)
    _event(
        kind=EventKind.MOVE_IN,
        grid=dwelling.grid,
        summary=_("Household registered at %(address)s") % {"address": dwelling.address},
        actor=actor,
        occurred_on=day,
        household=household,
        dwelling=dwelling,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=household)
    return household


def _locked_household(household: Household) -> Household:
    return (
        Household.objects.select_for_update(of=("self",))
        .select_related("grid", "dwelling")
        .get(pk=household.pk)
    )


def _locked_person(person: Person) -> Person:
    return Person.objects.select_for_update(of=("self",)).select_related("grid").get(pk=person.pk)


def _precheck_national_id(actor: Any, value: str, *, exclude_pk: int | None) -> None:
    """The duplicate check of a typed national ID, outside any transaction of the service."""
    bidx = pii.national_id_index(value) if value else None
    if bidx is None:
        return  # empty or invalid: the service reports it with the other field errors
    probe = Person(id_bidx=bidx)
    probe.pk = exclude_pk
    _check_unique_national_id(actor, probe)


def _check_unique_national_id(actor: Any, person: Person) -> None:
    """Refuse a national ID that is already in the register.

    Inside the actor's jurisdiction the answer says so plainly. Outside it the answer is the
    same words without any detail of where, and the refusal is audited under the grid that
    holds the person, so its workers see who tried: the register has one entry per person,
    so the refusal itself cannot be avoided, but probing it leaves a trace.
    """
    other = (
        Person.objects.filter(id_bidx=person.id_bidx).exclude(pk=person.pk).select_related("grid")
    ).first()
    if other is None:
        return
    if actor is not None and not scope_for(actor, Perm.VIEW_REGISTER).covers(other.grid):
        audit_record(
            actor=actor,
            action=AuditAction.REFUSED,
            obj=other,
            area=other.grid,
            object_label=other.id_masked,
            reason="national ID already registered in another jurisdiction",
        )
        raise ValidationError(
            {
                "national_id": [
                    _(
                        "This national ID is already registered in another jurisdiction; "
                        "ask the community office to transfer the person."
                    )
                ]
            }
        )
    raise ValidationError(
        {"national_id": [_("A person with this national ID is already registered.")]}
    )


def _join(*, person: Person, household: Household, relation: str, day: dt.date) -> None:
    if relation == Relation.SELF:
        if household.householder_id and household.householder_id != person.pk:
            raise ValidationError({"relation": _("This household already has a householder.")})
        household.householder = person
        household.save(update_fields=["householder", "updated_at"])
    Membership.objects.create(person=person, household=household, relation=relation, started_on=day)


def person_create(*, actor: Any, national_id: str = "", **kwargs: Any) -> Person:
    """Register a person, in a household (moving in) or directly in a grid.

    See ``_person_create`` for the arguments. A national ID already in the register is refused
    before the transaction starts, so the audit entry of a refusal outside the actor's
    jurisdiction is kept.
    """
    _precheck_national_id(actor, national_id, exclude_pk=None)
    return _person_create(actor=actor, national_id=national_id, **kwargs)


@transaction.atomic
def _person_create(
    *,
    actor: Any,
    name: str,
    national_id: str = "",
    phone: str = "",
    residency: str = Residency.REGISTERED,
    household: Household | None = None,
    grid: Area | None = None,
    relation: str = "",
    notes: str = "",
    hukou_address: str = "",
    current_address: str = "",
    tags: Iterable[Tag] = (),
    source: str = "worker",
    occurred_on: dt.date | None = None,
) -> Person:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter the person's name.")})
    if household is not None:
        # Re-read and lock: the caller's copy may be stale (the household may have moved).
        household = _locked_household(household)
    target_grid = household.grid if household is not None else grid
    if target_grid is None or target_grid.kind != AreaKind.GRID:
        raise ValidationError({"household": _("Choose the household or grid the person lives in.")})
    _require(actor, Perm.CHANGE_REGISTER, target_grid)
    day = _check_date(occurred_on)
    person = Person(
        name=name,
        residency=residency,
        household=household,
        relation=relation if household else "",
        grid=target_grid,
        notes=notes,
        hukou_address=hukou_address.strip()[:200],
        current_address=current_address.strip()[:200],
    )
    person.name_pinyin, person.name_initials = pinyin_forms(name)
    errors: dict[str, list[str]] = {}
    for field, setter, value in (
        ("national_id", pii.set_national_id, national_id),
        ("phone", pii.set_phone, phone),
    ):
        try:
            setter(person, value)
        except ValidationError as exc:
            errors[field] = exc.messages
    if person.id_bidx:
        _check_unique_national_id(actor, person)
    if household is not None and not relation:
        errors["relation"] = [_("Choose the relation to the householder.")]
    if errors:
        raise ValidationError(errors)
    given = {
        "national_id": national_id,
        "phone": phone,
        "notes": notes,
        "relation": relation,
        "hukou_address": person.hukou_address,
        "current_address": person.current_address,
    }
    _stamp(
        person,
        ["name", "residency", *(f for f, v in given.items() if v)],
        source=source,
        actor=actor,
    )
    person.save()
    if household is not None:
        _join(person=person, household=household, relation=relation, day=day)
    for tag in tags:
        PersonTag.objects.create(person=person, tag=tag, source=source)
    _event(
        kind=EventKind.MOVE_IN if household else EventKind.CREATED,
        grid=target_grid,
        summary=(
            _("Moved into %(address)s") % {"address": household.dwelling}
            if household
            else _("Registered")
        ),
        actor=actor,
        occurred_on=day,
        person=person,
        household=household,
        dwelling=household.dwelling if household else None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=person,
        changes={"national_id": person.id_masked, "phone": person.phone_masked},
    )
    return person


def person_update(
    *, actor: Any, person: Person, data: dict[str, Any], source: str = "worker"
) -> list[str]:
    """Change a person's details; returns the fields that changed. History keeps old values
    (masked for national ID and phone)."""
    _require(actor, Perm.CHANGE_REGISTER, person.grid)
    if data.get("national_id"):
        _precheck_national_id(actor, data["national_id"], exclude_pk=person.pk)
    return _person_update(actor=actor, person=person, data=data, source=source)


@transaction.atomic
def _person_update(*, actor: Any, person: Person, data: dict[str, Any], source: str) -> list[str]:
    person = _locked_person(person)
    _require(actor, Perm.CHANGE_REGISTER, person.grid)
    changed: dict[str, tuple[str, str]] = {}
    errors: dict[str, list[str]] = {}
    if "name" in data and data["name"].strip() != person.name:
        if not data["name"].strip():
            errors["name"] = [_("Enter the person's name.")]
        else:
            old = person.name
            person.name = data["name"].strip()
            person.name_pinyin, person.name_initials = pinyin_forms(person.name)
            changed["name"] = (old, person.name)
    if "national_id" in data:
        new_idx = pii.national_id_index(data["national_id"]) if data["national_id"] else None
        # A typed value that is not a valid ID is an error, never "no change".
        invalid = bool(data["national_id"]) and new_idx is None
        if invalid or new_idx != person.id_bidx or (not data["national_id"] and person.id_bidx):
            old = person.id_masked
            try:
                pii.set_national_id(person, data["national_id"])
                if person.id_bidx:
                    _check_unique_national_id(actor, person)
                changed["national_id"] = (old, person.id_masked)
            except ValidationError as exc:
                errors["national_id"] = exc.messages
    if "phone" in data:
        new_idx = pii.phone_index(data["phone"]) if data["phone"] else ""
        if new_idx != person.phone_bidx:
            old = person.phone_masked
            try:
                pii.set_phone(person, data["phone"])
                changed["phone"] = (old, person.phone_masked)
            except ValidationError as exc:
                errors["phone"] = exc.messages
    for field in _TEXT_FIELDS:
        if field in data:
            data = {**data, field: (data[field] or "").strip()[:200]}
    for field in ("residency", "notes", *_TEXT_FIELDS):
        if field in data and data[field] != getattr(person, field):
            changed[field] = (getattr(person, field), data[field])
            setattr(person, field, data[field])
    if "relation" in data and data["relation"] != person.relation and person.household_id:
        if data["relation"] == Relation.SELF:
            hh = person.household
            assert hh is not None
            if hh.householder_id and hh.householder_id != person.pk:
                errors["relation"] = [_("This household already has a householder.")]
        if "relation" not in errors:
            changed["relation"] = (person.relation, data["relation"])
            person.relation = data["relation"]
    if errors:
        raise ValidationError(errors)
    if not changed:
        return []
    _stamp(person, changed.keys(), source=source, actor=actor)
    person.save()
    if "relation" in changed and person.household_id:
        hh = person.household
        assert hh is not None
        if person.relation == Relation.SELF:
            hh.householder = person
            hh.save(update_fields=["householder", "updated_at"])
        elif hh.householder_id == person.pk:
            hh.householder = None
            hh.save(update_fields=["householder", "updated_at"])
        # The span under the old relation ends today and a new one starts: history is kept.
        today = _today()
        open_spans = Membership.objects.filter(person=person, household=hh, ended_on__isnull=True)
        if open_spans.filter(started_on=today).exists():
            open_spans.filter(started_on=today).update(relation=person.relation)  # same-day fix
        else:
            open_spans.update(ended_on=today, end_reason="relation_change")
            Membership.objects.create(
                person=person, household=hh, relation=person.relation, started_on=today
            )
    shown = {k: {"from": v[0], "to": v[1]} for k, v in changed.items() if k != "notes"}
    if "notes" in changed:
        shown["notes"] = {"from": "…", "to": "…"}
    _event(
        kind=EventKind.CHANGE,
        grid=person.grid,
        summary=_change_summary(list(changed), source),
        actor=actor,
        occurred_on=_today(),
        person=person,
        household=person.household,
        data={"changes": shown, "source": source},
    )
    audit_record(actor=actor, action=AuditAction.CHANGE, obj=person, changes=shown)
    return list(changed)


def _change_summary(fields: list[str], source: str) -> str:
    """ "Changed: name, phone" in the deployment's language, whoever made the change: the
    timeline is a shared record, not a message to one user."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        labels = {
            "name": pgettext("person", "name"),
            "national_id": _("national ID"),
            "phone": _("phone"),
        }
        names = [
            str(labels.get(f) or getattr(Person._meta.get_field(f), "verbose_name", f))
            for f in fields
        ]
        # Translators: the separator between field names in a list.
        text = _("Changed: %(fields)s") % {"fields": _(", ").join(names)}
        if source == "resident":
            text += _(" (correction from the resident)")
        return text


def person_reveal(*, actor: Any, person: Person, field: str, reason: str) -> str:
    """Return the full national ID or phone of a person, with a stated reason, audited."""
    if field not in ("national_id", "phone"):
        raise ValidationError({"field": _("Only the national ID or phone can be revealed.")})
    if actor is None or not scope_for(actor, Perm.REVEAL_PII).covers(person.grid):
        raise PermissionDenied(_("You may not reveal personal data of this person."))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": _("State why you need the full value.")})
    value = person.reveal_national_id() if field == "national_id" else person.reveal_phone()
    audit_record(
        actor=actor,
        action=AuditAction.REVEAL,
        obj=person,
        field=field,
        reason=reason[:500],
    )
    return value


def _end_membership(person: Person, day: dt.date, reason: str) -> Household | None:
    hh = person.household
    if hh is None:
        return None
    current = Membership.objects.filter(person=person, household=hh, ended_on__isnull=True)
    span = current.first()
    if span is not None and day < span.started_on:
        raise ValidationError(
            {"occurred_on": _("The date is before the person joined this household.")}
        )
    current.update(ended_on=day, end_reason=reason)
    if hh.householder_id == person.pk:
        hh.householder = None
    if not Membership.objects.filter(household=hh, ended_on__isnull=True).exists():
        hh.status = HouseholdStatus.DISSOLVED
    hh.save(update_fields=["householder", "status", "updated_at"])
    return hh


@transaction.atomic
def person_move_out(
    *, actor: Any, person: Person, occurred_on: dt.date | None = None, destination: str = ""
) -> Person:
    """The person left the community; their record stays, with the move in its timeline."""
    person = _locked_person(person)
    _require(actor, Perm.CHANGE_REGISTER, person.grid)
    if person.status != PersonStatus.LIVING:
        raise ValidationError(_("This person no longer lives here."))
    day = _check_date(occurred_on)
    hh = _end_membership(person, day, "move_out")
    person.status = PersonStatus.MOVED_OUT
    person.household = None
    person.relation = ""
    person.save(update_fields=["status", "household", "relation", "updated_at"])
    _event(
        kind=EventKind.MOVE_OUT,
        grid=person.grid,
        summary=_("Moved out") + (f" → {destination}" if destination else ""),
        actor=actor,
        occurred_on=day,
        person=person,
        household=hh,
        dwelling=hh.dwelling if hh else None,
        data={"destination": destination},
    )
    audit_record(actor=actor, action=AuditAction.EVENT, obj=person, changes={"event": "move_out"})
    return person


@transaction.atomic
def person_record_death(*, actor: Any, person: Person, occurred_on: dt.date) -> Person:
    """Record a death; the person stays in the register with status deceased."""
    person = _locked_person(person)
    _require(actor, Perm.CHANGE_REGISTER, person.grid)
    if person.status == PersonStatus.DECEASED:
        raise ValidationError(_("A death is already recorded for this person."))
    day = _check_date(occurred_on)
    hh = _end_membership(person, day, "death")
    person.status = PersonStatus.DECEASED
    person.household = None
    person.save(update_fields=["status", "household", "updated_at"])
    _event(
        kind=EventKind.DEATH,
        grid=person.grid,
        summary=_("Died"),
        actor=actor,
        occurred_on=day,
        person=person,
        household=hh,
    )
    audit_record(actor=actor, action=AuditAction.EVENT, obj=person, changes={"event": "death"})
    return person


@transaction.atomic
def person_move_house(
    *,
    actor: Any,
    person: Person,
    to_household: Household,
    relation: str,
    occurred_on: dt.date | None = None,
) -> Person:
    """The person moves into another household (in this or another grid within scope).

    A person who moved out may move back in this way; a deceased person may not move."""
    person = _locked_person(person)
    to_household = _locked_household(to_household)
    _require(actor, Perm.CHANGE_REGISTER, person.grid)
    _require(actor, Perm.CHANGE_REGISTER, to_household.grid)
    if person.status == PersonStatus.DECEASED:
        raise ValidationError(_("A death is recorded for this person."))
    if to_household.pk == person.household_id:
        raise ValidationError({"to_household": _("The person already lives in this household.")})
    if to_household.status != HouseholdStatus.ACTIVE:
        raise ValidationError({"to_household": _("That household is dissolved.")})
    day = _check_date(occurred_on)
    old_grid = person.grid
    old = _end_membership(person, day, "move_house")
    _join(person=person, household=to_household, relation=relation, day=day)
    person.household = to_household
    person.relation = relation
    person.grid = to_household.grid
    person.status = PersonStatus.LIVING
    person.save(update_fields=["household", "relation", "grid", "status", "updated_at"])
    _event(
        kind=EventKind.MOVE_HOUSE,
        grid=to_household.grid,
        summary=_("Moved from %(old)s to %(new)s")
        % {"old": old.dwelling if old else "—", "new": to_household.dwelling},
        actor=actor,
        occurred_on=day,
        person=person,
        household=to_household,
        dwelling=to_household.dwelling,
        data={"from_household": old.pk if old else None},
    )
    audit_record(actor=actor, action=AuditAction.EVENT, obj=person, changes={"event": "move_house"})
    if old_grid.pk != to_household.grid_id:
        # The grid the person left sees the departure in its own audit log too.
        audit_record(
            actor=actor,
            action=AuditAction.EVENT,
            obj=person,
            area=old_grid,
            changes={"event": "move_house", "left_grid": old_grid.code},
        )
    return person


@transaction.atomic
def person_tag_set(
    *, actor: Any, person: Person, tags: Iterable[Tag], source: str = "worker"
) -> None:
    """Make the person's tags exactly *tags*, recording what was added and removed."""
    _require(actor, Perm.CHANGE_REGISTER, person.grid)
    wanted = {t.pk: t for t in tags}
    current = {pt.tag_id: pt for pt in person.person_tags.select_related("tag")}
    added = [wanted[i] for i in wanted.keys() - current.keys()]
    removed = [current[i].tag for i in current.keys() - wanted.keys()]
    PersonTag.objects.filter(person=person, tag__in=removed).delete()
    for tag in added:
        PersonTag.objects.create(person=person, tag=tag, source=source)
    for kind, items in ((EventKind.TAGGED, added), (EventKind.UNTAGGED, removed)):
        if items:
            _event(
                kind=kind,
                grid=person.grid,
                summary=", ".join(t.name for t in items),
                actor=actor,
                occurred_on=_today(),
                person=person,
            )
    if added or removed:
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=person,
            changes={
                "tags_added": [t.code for t in added],
                "tags_removed": [t.code for t in removed],
            },
        )


@transaction.atomic
def person_confirm(*, actor: Any, person: Person) -> None:
    """A worker saw the person and confirmed every field as it stands."""
    person = _locked_person(person)
    _require(actor, Perm.CHANGE_REGISTER, person.grid)
    now = timezone.now().isoformat(timespec="seconds")
    for entry in person.provenance.values():
        entry["confirmed_at"] = now
        entry["by"] = getattr(actor, "pk", None)
    person.save(update_fields=["provenance", "updated_at"])
    _event(
        kind=EventKind.CONFIRMED,
        grid=person.grid,
        summary=_("Details confirmed"),
        actor=actor,
        occurred_on=_today(),
        person=person,
    )
    audit_record(
        actor=actor, action=AuditAction.CHANGE, obj=person, changes={"confirmed": "all fields"}
    )


# --- corrections proposed by residents ----------------------------------------------------


@transaction.atomic
def correction_propose(
    *, actor: Any, person: Person, changes: dict[str, str], note: str = ""
) -> CorrectionProposal:
    """A resident proposes a change to a member of their own household; a worker reviews it."""
    own = getattr(actor, "person", None)
    if own is None or own.household_id is None or own.household_id != person.household_id:
        raise PermissionDenied(_("You can only propose corrections for your own household."))
    allowed = {k: v.strip() for k, v in changes.items() if k in ("name", "phone", "notes") and v}
    if not allowed and not note.strip():
        raise ValidationError(_("Say what should be corrected."))
    phone_sealed = None
    if "phone" in allowed:
        from linli.core import crypto
        from linli.core.identity import mask_phone, normalise_phone

        try:
            number = normalise_phone(allowed["phone"])
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
        # Like every phone at rest: sealed, with only the masked form readable.
        phone_sealed = crypto.seal(number)
        allowed["phone"] = mask_phone(number)
    household = person.household
    assert household is not None
    proposal = CorrectionProposal.objects.create(
        household=household,
        person=person,
        proposed_by=actor,
        changes=allowed,
        phone_sealed=phone_sealed,
        note=note.strip(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.PROPOSE,
        obj=proposal,
        area=household.grid,
        object_label=person.name,
        changes=allowed,
    )
    return proposal


@transaction.atomic
def correction_review(
    *, actor: Any, proposal: CorrectionProposal, accept: bool, note: str = ""
) -> CorrectionProposal:
    """Accept (apply through person_update, source "resident") or reject a proposal."""
    # Locked so that a double submit cannot apply the same correction twice.
    proposal = (
        CorrectionProposal.objects.select_for_update(of=("self",))
        .select_related("household__grid", "person")
        .get(pk=proposal.pk)
    )
    _require(actor, Perm.REVIEW_CORRECTIONS, proposal.household.grid)
    if proposal.status != CorrectionStatus.PENDING:
        raise ValidationError(_("This correction has already been reviewed."))
    if accept and proposal.person is not None and proposal.changes:
        data = dict(proposal.changes)
        if "phone" in data and proposal.phone_sealed:
            from linli.core import crypto

            data["phone"] = crypto.unseal(proposal.phone_sealed)
        person_update(actor=actor, person=proposal.person, data=data, source="resident")
    proposal.status = CorrectionStatus.ACCEPTED if accept else CorrectionStatus.REJECTED
    proposal.reviewed_by = actor
    proposal.reviewed_at = timezone.now()
    proposal.review_note = note
    proposal.save()
    audit_record(
        actor=actor,
        action=AuditAction.REVIEW,
        obj=proposal,
        area=proposal.household.grid,
        changes={"status": proposal.status},
    )
    return proposal


# --- the configurable tag set (appended for the workbench) ---------------------------------

_TAG_FIELDS = ("name", "name_en", "color", "description", "is_active", "sort_key")


def _require_manage_tags(actor: Any) -> None:
    # Tags are one set for the whole deployment, so any MANAGE_TAGS grant allows editing it.
    if actor is not None and scope_for(actor, Perm.MANAGE_TAGS).is_empty:
        raise PermissionDenied(_("You may not manage tags."))


def _check_tag_values(values: dict[str, Any]) -> None:
    import re

    errors: dict[str, list[str]] = {}
    if "name" in values and not str(values["name"]).strip():
        errors["name"] = [_("Enter the tag's name.")]
    if "color" in values and not re.match(r"^#[0-9a-fA-F]{6}$", str(values["color"])):
        errors["color"] = [_("Use a colour like #1a2b3c.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def tag_create(
    *,
    actor: Any,
    code: str,
    name: str,
    name_en: str = "",
    color: str = "#6c757d",
    description: str = "",
    sort_key: int = 0,
    is_active: bool = True,
) -> Tag:
    """Add a tag to the configurable set (audited)."""
    import re

    _require_manage_tags(actor)
    code = code.strip().lower()
    if not re.match(r"^[a-z0-9_-]{1,32}$", code):
        raise ValidationError({"code": _("Use lower-case letters, digits, - and _ only.")})
    if Tag.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A tag with this code already exists.")})
    values = {
        "name": name.strip(),
        "name_en": name_en.strip(),
        "color": color,
        "description": description.strip(),
        "sort_key": sort_key,
        "is_active": is_active,
    }
    _check_tag_values(values)
    tag = Tag.objects.create(code=code, **values)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=tag, changes={"code": code, **values})
    return tag


@transaction.atomic
def tag_update(*, actor: Any, tag: Tag, data: dict[str, Any]) -> list[str]:
    """Rename, recolour, reorder, activate or deactivate a tag; returns the changed fields.
    The code stays: reports and other systems refer to it."""
    _require_manage_tags(actor)
    values = {
        k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in _TAG_FIELDS
    }
    _check_tag_values(values)
    changed = {
        k: {"from": getattr(tag, k), "to": v} for k, v in values.items() if getattr(tag, k) != v
    }
    if not changed:
        return []
    for k in changed:
        setattr(tag, k, values[k])
    tag.save()
    audit_record(actor=actor, action=AuditAction.CHANGE, obj=tag, changes=changed)
    return list(changed)


# --- moving a whole household (appended for the workbench and the API) ---------------------


def _latest_move_in(household: Household) -> dt.date | None:
    """The last day anyone came into this household where it lives now.

    The household's own move-in and moves (household_create, household_move) and each member's
    joining (person_create, person_move_house, the demo seed) all leave a MOVE_IN or MOVE_HOUSE
    event on the household, so one query over the events answers it; membership spans alone
    would miss an earlier move of the whole household, which ends no span.
    """
    return (
        RegisterEvent.objects.filter(
            household=household, kind__in=(EventKind.MOVE_IN, EventKind.MOVE_HOUSE)
        )
        .order_by("-occurred_on")
        .values_list("occurred_on", flat=True)
        .first()
    )


@transaction.atomic
def household_move(
    *,
    actor: Any,
    household: Household,
    to_dwelling: Dwelling,
    occurred_on: dt.date | None = None,
    allow_shared: bool = False,
) -> Household:
    """The whole household moves to another dwelling (整户搬迁), in this or another grid.

    The household stays the same household (its membership spans go on); its dwelling and grid
    change and every living member's grid follows. The old dwelling is not forgotten: the
    household and each member get a MOVE_HOUSE event naming where they came from. A dwelling
    where another household already lives is refused unless ``allow_shared`` (a shared flat is
    real, but far more often the wrong dwelling was picked).
    """
    from django.conf import settings
    from django.utils import translation

    # Lock the row so two moves of the same household cannot interleave.
    household = (
        Household.objects.select_for_update(of=("self",))
        .select_related("dwelling")
        .get(pk=household.pk)
    )
    _require(actor, Perm.CHANGE_REGISTER, household.grid)
    _require(actor, Perm.CHANGE_REGISTER, to_dwelling.grid)
    if household.status != HouseholdStatus.ACTIVE:
        raise ValidationError(_("This household is dissolved; it cannot move."))
    if to_dwelling.pk == household.dwelling_id:
        raise ValidationError({"dwelling": _("The household already lives in this dwelling.")})
    day = _check_date(occurred_on)
    latest = _latest_move_in(household)
    if latest is not None and day < latest:
        raise ValidationError(
            {
                "occurred_on": _(
                    "The date cannot be before %(date)s, when the household last moved in."
                )
                % {"date": latest.isoformat()}
            }
        )
    if (
        not allow_shared
        and Household.objects.filter(dwelling=to_dwelling, status=HouseholdStatus.ACTIVE)
        .exclude(pk=household.pk)
        .exists()
    ):
        raise ValidationError(
            {
                "dwelling": _(
                    "Another household lives in this dwelling. Confirm the dwelling is shared."
                )
            }
        )
    old = household.dwelling
    old_address = old.address if old is not None else "—"
    data = {
        "from_dwelling": old.pk if old is not None else None,
        "to_dwelling": to_dwelling.pk,
        "from_address": old_address,
        "to_address": to_dwelling.address,
    }
    household.dwelling = to_dwelling
    household.grid = to_dwelling.grid
    household.save(update_fields=["dwelling", "grid", "updated_at"])
    members = Person.objects.filter(household=household, status=PersonStatus.LIVING)
    member_list = list(members.order_by("id"))
    # One UPDATE for all members; update() skips auto_now, so the stamp is set by hand.
    members.update(grid=to_dwelling.grid, updated_at=timezone.now())
    places = {"old": old_address, "new": to_dwelling.address}
    # The timeline is a shared record: written in the deployment's language, like
    # _change_summary, whatever language the actor reads.
    with translation.override(settings.LANGUAGE_CODE):
        household_summary = _("Household moved from %(old)s to %(new)s") % places
        member_summary = _("Moved with the household from %(old)s to %(new)s") % places
    _event(
        kind=EventKind.MOVE_HOUSE,
        grid=to_dwelling.grid,
        summary=household_summary,
        actor=actor,
        occurred_on=day,
        household=household,
        dwelling=to_dwelling,
        data=data,
    )
    if old is not None:
        # The dwelling left behind keeps the departure in its own timeline (no household
        # link, so the household's timeline shows the move once).
        _event(
            kind=EventKind.MOVE_OUT,
            grid=old.grid,
            summary=household_summary,
            actor=actor,
            occurred_on=day,
            dwelling=old,
            data=data,
        )
    for person in member_list:
        # Each person's timeline shows the move too, not only the household's.
        _event(
            kind=EventKind.MOVE_HOUSE,
            grid=to_dwelling.grid,
            summary=member_summary,
            actor=actor,
            occurred_on=day,
            person=person,
            household=household,
            dwelling=to_dwelling,
            data=data,
        )
    audit_record(
        actor=actor,
        action=AuditAction.EVENT,
        obj=household,
        changes={
            "event": "household_move",
            "address": {"from": old_address, "to": to_dwelling.address},
            "members": len(member_list),
        },
    )
    if old is not None and old.grid_id != to_dwelling.grid_id:
        # The grid left behind sees the departure in its own audit log too.
        audit_record(
            actor=actor,
            action=AuditAction.EVENT,
            obj=household,
            area=old.grid,
            changes={"event": "household_move", "left_grid": old.grid.code},
        )
    return household
