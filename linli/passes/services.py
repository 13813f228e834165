"""Writes of passes and checkpoints. Each service checks the actor's permission on the grid it
touches (``actor=None`` is the system: the periodic expiry), locks and re-reads the rows it
changes and writes an audit entry; a pass's steps also go to its timeline (``PassEvent``).

An access pass is a state machine: ``TRANSITIONS`` is the one table of what may follow what.
Gate scans are idempotent twice over: the API's ``Idempotency-Key`` and, underneath, the
checkpoint phone's ``client_id`` per scan (unique per checkpoint), so a queue replayed after a
lost answer stores each scan once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core import crypto, signing
from linli.core.identity import mask_name, mask_phone, normalise_phone
from linli.core.scoping import scope_for
from linli.emergency.models import EmergencyEvent, EventStatus, Measure
from linli.passes.models import (
    AccessPass,
    Checkpoint,
    Direction,
    DutyShift,
    GateScan,
    HealthCode,
    HealthColour,
    PassEvent,
    PassEventKind,
    PassKind,
    PassStatus,
    ScanResult,
    ShiftSwap,
    SwapStatus,
)
from linli.passes.signing import PassBody, Reason, token_sign, verify_token
from linli.register.models import Estate, Household, Person, PersonStatus

# (status, action) -> new status. Nothing else is allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    (PassStatus.APPLIED, "approve"): PassStatus.APPROVED,
    (PassStatus.APPLIED, "refuse"): PassStatus.REFUSED,
    (PassStatus.APPROVED, "revoke"): PassStatus.REVOKED,
    (PassStatus.APPROVED, "expire"): PassStatus.EXPIRED,
    (PassStatus.APPLIED, "expire"): PassStatus.EXPIRED,
    # The event the pass was issued under has ended (and no other one took it over).
    (PassStatus.APPROVED, "close"): PassStatus.CLOSED,
    (PassStatus.APPLIED, "close"): PassStatus.CLOSED,
}
_EVENT_OF = {
    "approve": PassEventKind.APPROVED,
    "refuse": PassEventKind.REFUSED,
    "revoke": PassEventKind.REVOKED,
    "expire": PassEventKind.EXPIRED,
    "close": PassEventKind.CLOSED,
}
# A visitor pass is short: a day by default, a week at most.
VISITOR_MAX_DAYS = 7
RESIDENT_DEFAULT_DAYS = 30
# Refusal reasons the server adds to the token's own (passes.signing.Reason).
UNKNOWN_PASS = "unknown_pass"  # noqa: S105 (a reason code, not a secret)
WRONG_ESTATE = "wrong_estate"
REVOKED = "revoked"
NOT_APPROVED = "not_approved"
CLOSED = "closed"
# A phone's clock may run ahead; a scan claiming to be from further ahead than this is refused.
CLOCK_SKEW = dt.timedelta(minutes=10)


def _require(actor: Any, perm: Perm, areas: Iterable[Area | None]) -> None:
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if not all(scope.covers(a) for a in areas):
        raise PermissionDenied(_("You may not do this outside your jurisdiction."))


def _user(actor: Any) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def measure_on(area: Area, measure: str) -> bool:
    """True while an active event covering *area* (or an ancestor) runs *measure*."""
    return any(e.has(measure) for e in EmergencyEvent.objects.active().covering(area))


def passes_event_for(area: Area, *, besides: int | None = None) -> EmergencyEvent | None:
    """The active event running passes over *area* (the earliest declared when several do;
    not the event *besides*): the one a pass issued there now belongs to."""
    for event in EmergencyEvent.objects.active().covering(area).order_by("starts_at", "pk"):
        if event.pk != besides and event.has(Measure.PASSES):
            return event
    return None


def estate_of_household(household: Household) -> Estate:
    """The estate a household lives in (its dwelling's building's)."""
    if household.dwelling is None:
        raise ValidationError(_("This household has no dwelling on record."))
    return household.dwelling.building.estate


# --- checkpoints ----------------------------------------------------------------------------


@transaction.atomic
def checkpoint_create(*, actor: Any, estate: Estate, grid: Area, name: str) -> Checkpoint:
    """Add a gate to an estate, kept by *grid* (which must hold a building of the estate)."""
    _require(actor, Perm.MANAGE_PASSES, [grid])
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the gate a name, e.g. 东门.")})
    if not estate.buildings.filter(grid__path__startswith=grid.path).exists():
        raise ValidationError({"grid": _("This grid holds no building of the estate.")})
    if Checkpoint.objects.filter(estate=estate, name=name).exists():
        raise ValidationError({"name": _("This estate already has a gate of that name.")})
    cp = Checkpoint.objects.create(estate=estate, grid=grid, name=name)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=cp, changes={"name": name})
    return cp


# --- passes ---------------------------------------------------------------------------------


def _event(p: AccessPass, kind: str, *, actor: Any, at: dt.datetime, note: str = "") -> None:
    PassEvent.objects.create(
        access_pass=p, kind=kind, at=at, note=note[:300], actor=_user(actor), grid_id=p.grid_id
    )


@transaction.atomic
def resident_pass_issue(
    *,
    actor: Any,
    person: Person | None = None,
    household: Household | None = None,
    valid_until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> AccessPass:
    """Issue a resident pass for one person or a whole household, for the estate they live in,
    valid at once (until *valid_until*, 30 days by default). One valid pass per person or
    household and estate: an earlier valid one is revoked."""
    if (person is None) == (household is None):
        raise ValidationError(_("A resident pass is for one person or one household."))
    at = _now(now)
    if person is not None:
        if person.status != PersonStatus.LIVING or person.household_id is None:
            raise ValidationError(_("Only a resident living in a household gets a pass."))
        home = Household.objects.select_related("dwelling__building").get(pk=person.household_id)
        grid_id, name, kind = person.grid_id, person.name, PassKind.PERSON
    else:
        assert household is not None
        home = Household.objects.select_related("dwelling__building").get(pk=household.pk)
        head = home.members.filter(status=PersonStatus.LIVING).order_by("pk").first()
        grid_id, kind = home.grid_id, PassKind.HOUSEHOLD
        # Already masked: a household pass names the household by its first member.
        name = _("Household of %(name)s") % {"name": mask_name(head.name) if head else home.pk}
    grid = Area.objects.get(pk=grid_id)
    _require(actor, Perm.MANAGE_PASSES, [grid])
    until = valid_until or at + dt.timedelta(days=RESIDENT_DEFAULT_DAYS)
    if until <= at:
        raise ValidationError({"valid_until": _("The end must be later than now.")})
    estate = estate_of_household(home)
    event = passes_event_for(grid)
    same = AccessPass.objects.select_for_update().filter(
        estate=estate, kind=kind, status=PassStatus.APPROVED
    )
    same = same.filter(person=person) if person is not None else same.filter(household=home)
    for old in same:
        _transition(old, "revoke", actor=actor, at=at, note=_("Replaced by a new pass."))
    p = AccessPass.objects.create(
        kind=kind,
        estate=estate,
        grid=grid,
        person=person,
        household=home if person is None else None,
        holder_name=name,
        holder_masked=mask_name(name) if person is not None else name,
        valid_from=at,
        valid_until=until,
        status=PassStatus.APPROVED,
        key_version=signing.key_version(),
        event=event,
        applied_by=_user(actor),
        decided_by=_user(actor),
        decided_at=at,
    )
    _event(p, PassEventKind.ISSUED, actor=actor, at=at)
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=p, changes={"kind": kind, "estate": estate.pk}
    )
    return p


@transaction.atomic
def visitor_pass_apply(
    *,
    actor: Any,
    host: Person,
    visitor_name: str,
    visitor_phone: str,
    reason: str,
    valid_from: dt.datetime,
    valid_until: dt.datetime,
    now: dt.datetime | None = None,
) -> AccessPass:
    """A resident (the host) applies for a visitor pass to their estate; a worker decides.

    Only while an event covering the host's grid runs the ``passes`` measure (otherwise the
    gates are open and no pass is needed)."""
    at = _now(now)
    errors: dict[str, str] = {}
    if getattr(actor, "person_id", None) is not None and actor.person_id != host.pk:
        raise PermissionDenied(_("You may apply only as yourself."))
    if host.household_id is None or host.status != PersonStatus.LIVING:
        raise ValidationError(_("Only a resident living in a household can invite a visitor."))
    name = (visitor_name or "").strip()
    if not name:
        errors["visitor_name"] = _("Enter the visitor's name.")
    phone = ""
    try:
        phone = normalise_phone(visitor_phone or "")
    except ValidationError as exc:
        errors["visitor_phone"] = exc.messages[0]
    if not (reason or "").strip():
        errors["reason"] = _("Say why the visitor comes.")
    if valid_until <= valid_from:
        errors["valid_until"] = _("The end must be later than the start.")
    elif valid_until - valid_from > dt.timedelta(days=VISITOR_MAX_DAYS):
        errors["valid_until"] = _("A visitor pass lasts %(days)s days at most.") % {
            "days": VISITOR_MAX_DAYS
        }
    elif valid_until <= at:
        errors["valid_until"] = _("The end must be later than now.")
    if errors:
        raise ValidationError(errors)
    grid = Area.objects.get(pk=host.grid_id)
    event = passes_event_for(grid)
    if event is None:
        raise ValidationError(_("No pass is needed here now: no event runs passes and gates."))
    home = Household.objects.select_related("dwelling__building").get(pk=host.household_id)
    p = AccessPass.objects.create(
        kind=PassKind.VISITOR,
        estate=estate_of_household(home),
        grid=grid,
        host=host,
        holder_name=name,
        holder_masked=mask_name(name),
        phone_sealed=crypto.seal(phone),
        phone_bidx=crypto.blind_index("phone", phone),
        phone_masked=mask_phone(phone),
        reason=reason.strip()[:200],
        valid_from=valid_from,
        valid_until=valid_until,
        status=PassStatus.APPLIED,
        event=event,
        applied_by=_user(actor),
    )
    _event(p, PassEventKind.APPLIED, actor=actor, at=at, note=p.reason)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=p,
        changes={"kind": "visitor", "phone": p.phone_masked},
    )
    return p


def _transition(
    p: AccessPass, action: str, *, actor: Any, at: dt.datetime, note: str = ""
) -> AccessPass:
    target = TRANSITIONS.get((p.status, action))
    if target is None:
        raise ValidationError(
            _("A pass that is %(status)s cannot be changed this way.")
            % {"status": p.get_status_display()}
        )
    before = p.status
    p.status = target
    fields = ["status", "updated_at"]
    if action in ("approve", "refuse"):
        p.decided_by, p.decided_at = _user(actor), at
        fields += ["decided_by", "decided_at"]
    if action == "approve":
        p.key_version = signing.key_version()
        fields.append("key_version")
    p.save(update_fields=fields)
    _event(p, _EVENT_OF[action], actor=actor, at=at, note=note)
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=p,
        reason=note[:200],
        changes={"status": [before, target]},
    )
    return p


@transaction.atomic
def pass_decide(
    *, actor: Any, access_pass: AccessPass, approve: bool, note: str = "", now: Any = None
) -> AccessPass:
    """A worker of the host's grid approves or refuses a visitor pass."""
    _require(actor, Perm.MANAGE_PASSES, [access_pass.grid])
    p = AccessPass.objects.select_for_update().get(pk=access_pass.pk)
    at = _now(now)
    if approve and p.valid_until <= at:
        raise ValidationError(_("This pass's time is already over; refuse it instead."))
    if not approve and not (note or "").strip():
        raise ValidationError({"note": _("Say why the pass is refused.")})
    return _transition(p, "approve" if approve else "refuse", actor=actor, at=at, note=note)


@transaction.atomic
def pass_revoke(*, actor: Any, access_pass: AccessPass, reason: str, now: Any = None) -> AccessPass:
    """Withdraw a valid pass; gates refuse it once their revocation list is refreshed, and the
    server refuses it on every scan from now on."""
    _require(actor, Perm.MANAGE_PASSES, [access_pass.grid])
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the pass is revoked.")})
    p = AccessPass.objects.select_for_update().get(pk=access_pass.pk)
    return _transition(p, "revoke", actor=actor, at=_now(now), note=reason.strip())


def passes_expire_due(*, now: dt.datetime | None = None) -> int:
    """Mark passes whose time is over as expired (the periodic task); returns how many."""
    at = _now(now)
    n = 0
    due = AccessPass.objects.filter(
        status__in=[PassStatus.APPROVED, PassStatus.APPLIED], valid_until__lte=at
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            p = AccessPass.objects.select_for_update().get(pk=pk)
            if (p.status, "expire") in TRANSITIONS and p.valid_until <= at:
                _transition(p, "expire", actor=None, at=at, note=_("The pass's time is over."))
                n += 1
    return n


def _close_or_carry(
    p: AccessPass,
    *,
    actor: Any,
    at: dt.datetime,
    heirs: dict[int, EmergencyEvent | None],
    note: str = "",
) -> bool:
    """Close *p* (locked, valid or applied for, its event ended), or hand it to another active
    event running passes over its grid; *heirs* caches grid id -> that event. True if closed."""
    if p.grid_id not in heirs:
        heirs[p.grid_id] = passes_event_for(Area.objects.get(pk=p.grid_id), besides=p.event_id)
    heir = heirs[p.grid_id]
    if heir is None:
        _transition(p, "close", actor=actor, at=at, note=note or _("Closed: the event has ended."))
        return True
    before, p.event = p.event_id, heir
    p.save(update_fields=["event", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.CHANGE, obj=p, changes={"event": [before, heir.pk]}
    )
    return False


def passes_close_for_event(
    *, event: EmergencyEvent, actor: Any, at: dt.datetime, note: str = ""
) -> tuple[int, int]:
    """The passes issued under *event*, which has just ended, stop: each valid or applied-for
    one closes (its timeline and the audit log say so; the gates' revocation list names it
    until its signed window ends) unless another active event running passes still covers its
    grid and takes it over. Inside the caller's transaction. Returns (closed, carried over)."""
    closed = carried = 0
    heirs: dict[int, EmergencyEvent | None] = {}
    for p in AccessPass.objects.select_for_update().filter(
        event=event, status__in=[PassStatus.APPROVED, PassStatus.APPLIED]
    ):
        if _close_or_carry(p, actor=actor, at=at, heirs=heirs, note=note):
            closed += 1
        else:
            carried += 1
    return closed, carried


def passes_close_ended(*, now: dt.datetime | None = None) -> int:
    """Close passes still valid under an event that has ended (the periodic task: one issued
    while the event was being ended, or before passes were tied to their event); returns how
    many closed."""
    at = _now(now)
    n = 0
    due = AccessPass.objects.filter(
        status__in=[PassStatus.APPROVED, PassStatus.APPLIED], event__status=EventStatus.ENDED
    ).values_list("pk", flat=True)
    heirs: dict[int, EmergencyEvent | None] = {}
    for pk in list(due):
        with transaction.atomic():
            p = AccessPass.objects.select_for_update().get(pk=pk)
            if p.status in (PassStatus.APPROVED, PassStatus.APPLIED):
                n += _close_or_carry(p, actor=None, at=at, heirs=heirs)
    return n


def pass_token(p: AccessPass) -> str:
    """The signed token of a valid pass (Ed25519 is deterministic: the same pass always gives
    the same code, so nothing needs storing)."""
    if p.status != PassStatus.APPROVED:
        raise ValidationError(_("Only a valid pass has a code."))
    body = PassBody(
        pass_id=p.pk,
        kind=p.kind,
        estate_id=p.estate_id,
        valid_from=int(p.valid_from.timestamp()),
        valid_until=int(p.valid_until.timestamp()),
        key_version=p.key_version,
        holder_masked=p.holder_masked,
    )
    return token_sign(body)


def revoked_pass_ids(estate_id: int, *, now: dt.datetime | None = None) -> list[int]:
    """Revoked passes of an estate, and those closed when their event ended, whose signed
    window has not ended (older ones are refused by their own expiry): the revocation list a
    gate page caches, so a gate checking offline refuses them too."""
    return sorted(refused_passes(estate_id, now=now))


def refused_passes(estate_id: int, *, now: dt.datetime | None = None) -> dict[int, str]:
    """The revocation list with each pass's status (revoked or closed), so a gate checking
    offline can say why it refuses one."""
    return dict(
        AccessPass.objects.filter(
            estate_id=estate_id,
            status__in=[PassStatus.REVOKED, PassStatus.CLOSED],
            valid_until__gt=_now(now),
        ).values_list("pk", "status")
    )


# --- health codes ---------------------------------------------------------------------------

_COLOUR_RANK = {HealthColour.GREEN: 0, HealthColour.YELLOW: 1, HealthColour.RED: 2}


@transaction.atomic
def health_code_set(
    *, actor: Any, person: Person, colour: str, source: str = "", now: Any = None
) -> HealthCode:
    """Set a person's health code colour (by a worker, or a department's system via the API)."""
    grid = Area.objects.get(pk=person.grid_id)
    _require(actor, Perm.SET_HEALTH_CODES, [grid])
    if colour not in HealthColour.values:
        raise ValidationError({"colour": _("Choose green, yellow or red.")})
    at = _now(now)
    code, created = HealthCode.objects.select_for_update().get_or_create(
        person=person,
        defaults={
            "colour": colour,
            "source": source[:50],
            "set_at": at,
            "set_by": _user(actor),
            "grid": grid,
        },
    )
    before = None if created else code.colour
    if not created:
        code.colour, code.source, code.set_at = colour, source[:50], at
        code.set_by, code.grid = _user(actor), grid
        code.save()
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=person,
        field="health_code",
        changes={"health_code": [before, colour], "source": source[:50]},
    )
    return code


def health_colour_of(p: AccessPass) -> str:
    """The colour the gate shows for a pass: the person's; for a household the worst of its
    members'; "" when none is on record (visitors, or nobody set one)."""
    if p.kind == PassKind.PERSON and p.person_id:
        return str(
            HealthCode.objects.filter(person_id=p.person_id)
            .values_list("colour", flat=True)
            .first()
            or ""
        )
    if p.kind == PassKind.HOUSEHOLD and p.household_id:
        colours = HealthCode.objects.filter(
            person__household_id=p.household_id, person__status=PersonStatus.LIVING
        ).values_list("colour", flat=True)
        return max(colours, key=lambda c: _COLOUR_RANK[HealthColour(c)], default="")
    return ""


def health_colours_for_estate(estate_id: int, *, now: dt.datetime | None = None) -> dict[int, str]:
    """Pass id -> colour for every valid pass of an estate (two queries, whatever the count):
    what a gate page carries while health-code checks run. Ids and colours only, no names."""
    at = _now(now)
    live = AccessPass.objects.filter(
        estate_id=estate_id, status=PassStatus.APPROVED, valid_until__gt=at
    )
    out: dict[int, str] = {}
    for pk, colour in live.filter(
        kind=PassKind.PERSON, person__health_code__isnull=False
    ).values_list("pk", "person__health_code__colour"):
        out[pk] = colour
    rows = live.filter(kind=PassKind.HOUSEHOLD).values_list("pk", "household_id")
    by_household: dict[int, list[int]] = {}
    for pk, household_id in rows:
        by_household.setdefault(household_id, []).append(pk)
    codes = HealthCode.objects.filter(
        person__household_id__in=list(by_household), person__status=PersonStatus.LIVING
    ).values_list("person__household_id", "colour")
    worst: dict[int, str] = {}
    for household_id, colour in codes:
        known = worst.get(household_id)
        if known is None or _COLOUR_RANK[HealthColour(colour)] > _COLOUR_RANK[HealthColour(known)]:
            worst[household_id] = colour
    for household_id, colour in worst.items():
        for pk in by_household[household_id]:
            out[pk] = colour
    return out


# --- gate scans -----------------------------------------------------------------------------


def scan_verdict(
    checkpoint: Checkpoint, token: str, *, at: dt.datetime
) -> tuple[str, str, AccessPass | None, str]:
    """(result, reason, pass, masked holder) for *token* shown at *checkpoint* at *at*: the
    signature and window (passes.signing), then the database (revoked, other estate)."""
    verdict = verify_token(token, now=at)
    body = verdict.body
    if body is None:
        return ScanResult.REFUSED, verdict.reason, None, ""
    p = AccessPass.objects.filter(pk=body.pass_id).first()
    if p is None:
        return ScanResult.REFUSED, UNKNOWN_PASS, None, body.holder_masked
    if not verdict.ok:
        return ScanResult.REFUSED, verdict.reason, p, body.holder_masked
    if body.estate_id != checkpoint.estate_id or p.estate_id != checkpoint.estate_id:
        return ScanResult.REFUSED, WRONG_ESTATE, p, body.holder_masked
    if p.status == PassStatus.REVOKED:
        return ScanResult.REFUSED, REVOKED, p, body.holder_masked
    if p.status == PassStatus.EXPIRED:
        return ScanResult.REFUSED, Reason.EXPIRED, p, body.holder_masked
    if p.status == PassStatus.CLOSED:
        return ScanResult.REFUSED, CLOSED, p, body.holder_masked
    if p.status != PassStatus.APPROVED:
        return ScanResult.REFUSED, NOT_APPROVED, p, body.holder_masked
    return ScanResult.OK, "", p, body.holder_masked


def gate_scan_record(
    *,
    actor: Any,
    checkpoint: Checkpoint,
    token: str,
    direction: str,
    client_id: str,
    scanned_at: dt.datetime | None = None,
    offline: bool = False,
    now: dt.datetime | None = None,
) -> tuple[GateScan, bool]:
    """Store one scan at a gate with the server's verdict; returns (scan, created).

    The same *client_id* at the same checkpoint answers the scan stored the first time."""
    _require(actor, Perm.SCAN_PASSES, [checkpoint.grid])
    client_id = (client_id or "").strip()[:64]
    if not client_id:
        raise ValidationError({"client_id": _("Each scan needs the phone's id for it.")})
    if direction not in Direction.values:
        raise ValidationError({"direction": _("Choose in or out.")})
    found = GateScan.objects.filter(checkpoint=checkpoint, client_id=client_id).first()
    if found is not None:
        return found, False
    received = _now(now)
    at = scanned_at or received
    if at > received + CLOCK_SKEW:
        raise ValidationError({"scanned_at": _("The scan's time lies in the future.")})
    result, reason, p, holder = scan_verdict(checkpoint, token, at=at)
    try:
        with transaction.atomic():
            scan = GateScan.objects.create(
                checkpoint=checkpoint,
                access_pass=p,
                direction=direction,
                scanned_by=_user(actor),
                scanned_at=at,
                result=result,
                reason=reason,
                offline=offline,
                client_id=client_id,
                holder_masked=holder,
                grid_id=checkpoint.grid_id,
            )
    except IntegrityError:
        # The same scan posted twice at once: the other copy stored it.
        return GateScan.objects.get(checkpoint=checkpoint, client_id=client_id), False
    return scan, True


# --- duty rosters ---------------------------------------------------------------------------


def _may_stand(user: User, checkpoint: Checkpoint) -> bool:
    return scope_for(user, Perm.SCAN_PASSES).covers(checkpoint.grid)


@transaction.atomic
def shift_create(
    *,
    actor: Any,
    checkpoint: Checkpoint,
    user: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    note: str = "",
) -> DutyShift:
    """Put someone (a worker or volunteer of the gate's grid) on duty at a gate."""
    _require(actor, Perm.MANAGE_PASSES, [checkpoint.grid])
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must be later than the start.")})
    if ends_at - starts_at > dt.timedelta(hours=24):
        raise ValidationError({"ends_at": _("A shift lasts 24 hours at most.")})
    if not _may_stand(user, checkpoint):
        raise ValidationError({"user": _("This person may not stand at this gate.")})
    clash = DutyShift.objects.filter(
        user=user, starts_at__lt=ends_at, ends_at__gt=starts_at, cancelled_at__isnull=True
    )
    if clash.exists():
        raise ValidationError({"user": _("This person is already on duty at that time.")})
    shift = DutyShift.objects.create(
        checkpoint=checkpoint,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        note=(note or "")[:300],
        grid_id=checkpoint.grid_id,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=shift, changes={"user": user.username})
    return shift


@transaction.atomic
def swap_request(*, actor: User, shift: DutyShift, to_user: User) -> ShiftSwap:
    """The one on duty asks another to take their shift."""
    shift = (
        DutyShift.objects.select_for_update().select_related("checkpoint__grid").get(pk=shift.pk)
    )
    if shift.user_id != actor.pk:
        raise PermissionDenied(_("Only the one on duty can ask for a swap."))
    if shift.cancelled_at is not None:
        raise ValidationError(_("This shift was cancelled."))
    if shift.ended_at is not None or shift.starts_at <= timezone.now():
        raise ValidationError(_("A shift that has begun cannot be swapped."))
    if to_user.pk == actor.pk or not _may_stand(to_user, shift.checkpoint):
        raise ValidationError({"to_user": _("This person may not stand at this gate.")})
    if shift.swaps.filter(status__in=[SwapStatus.REQUESTED, SwapStatus.ACCEPTED]).exists():
        raise ValidationError(_("A swap of this shift is already under way."))
    swap = ShiftSwap.objects.create(
        shift=shift, from_user=actor, to_user=to_user, grid_id=shift.grid_id
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=swap, changes={"to": to_user.username})
    return swap


def _swap_step(swap: ShiftSwap, expected: str, target: str, *, actor: Any) -> ShiftSwap:
    swap = ShiftSwap.objects.select_for_update().get(pk=swap.pk)
    if swap.status != expected:
        raise ValidationError(
            _("This swap is %(status)s already.") % {"status": swap.get_status_display()}
        )
    before = swap.status
    swap.status = target
    if target in (SwapStatus.APPROVED, SwapStatus.REFUSED):
        swap.decided_by = _user(actor)
    swap.save(update_fields=["status", "decided_by", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.CHANGE, obj=swap, changes={"status": [before, target]}
    )
    return swap


@transaction.atomic
def swap_answer(*, actor: User, swap: ShiftSwap, accept: bool) -> ShiftSwap:
    """The one asked accepts (then a worker approves) or declines."""
    if swap.to_user_id != actor.pk:
        raise PermissionDenied(_("Only the one asked can answer."))
    target = SwapStatus.ACCEPTED if accept else SwapStatus.DECLINED
    return _swap_step(swap, SwapStatus.REQUESTED, target, actor=actor)


@transaction.atomic
def swap_decide(*, actor: Any, swap: ShiftSwap, approve: bool) -> ShiftSwap:
    """A worker of the gate's grid approves an accepted swap (the shift changes hands) or
    refuses it."""
    _require(actor, Perm.MANAGE_PASSES, [swap.grid])
    target = SwapStatus.APPROVED if approve else SwapStatus.REFUSED
    swap = _swap_step(swap, SwapStatus.ACCEPTED, target, actor=actor)
    if approve:
        shift = DutyShift.objects.select_for_update().get(pk=swap.shift_id)
        if shift.cancelled_at is not None:
            raise ValidationError(_("This shift was cancelled."))
        clash = DutyShift.objects.filter(
            user_id=swap.to_user_id,
            starts_at__lt=shift.ends_at,
            ends_at__gt=shift.starts_at,
            cancelled_at__isnull=True,
        ).exclude(pk=shift.pk)
        if clash.exists():
            raise ValidationError(_("The new person is on duty elsewhere at that time."))
        shift.user_id = swap.to_user_id
        shift.save(update_fields=["user", "updated_at"])
    return swap


@transaction.atomic
def shift_finish(
    *, actor: Any, shift: DutyShift, note: str = "", now: dt.datetime | None = None
) -> tuple[DutyShift, Any, str]:
    """Mark a shift served (by the one on duty or a worker), once its time is over. For a
    volunteer it opens the points claim (volunteers.services.points_claim_for_shift); returns
    (shift, claim or None, why no claim was opened — "" when one was or none was due). The
    shift is recorded even when the claim cannot be opened (no points rule set here yet)."""
    from linli.volunteers.models import Volunteer, VolunteerStatus
    from linli.volunteers.services import points_claim_for_shift

    shift = DutyShift.objects.select_for_update().get(pk=shift.pk)
    if getattr(actor, "pk", None) != shift.user_id:
        _require(actor, Perm.MANAGE_PASSES, [shift.grid])
    at = _now(now)
    if shift.cancelled_at is not None:
        raise ValidationError(_("This shift was cancelled."))
    if shift.ends_at > at:
        raise ValidationError(_("The shift has not ended yet."))
    if shift.ended_at is None:
        shift.ended_at = shift.ends_at
        if note:
            shift.note = note[:300]
        shift.save(update_fields=["ended_at", "note", "updated_at"])
        audit_record(actor=actor, action=AuditAction.CHANGE, obj=shift, changes={"ended": True})
    is_volunteer = Volunteer.objects.filter(
        user_id=shift.user_id, status=VolunteerStatus.APPROVED
    ).exists()
    if not is_volunteer:
        return shift, None, ""
    try:
        # Its own savepoint: a refusal leaves the finished shift in place.
        return shift, points_claim_for_shift(shift=shift, volunteer_user=shift.user), ""
    except (ValidationError, PermissionDenied) as exc:
        return shift, None, " ".join(getattr(exc, "messages", [str(exc)]))


def shifts_finish_due(*, now: dt.datetime | None = None) -> int:
    """Finish every shift whose time is over and that nobody marked (the periodic task), so a
    volunteer's points claim opens when the shift ends; returns how many were finished."""
    at = _now(now)
    due = list(
        DutyShift.objects.filter(
            ended_at__isnull=True, cancelled_at__isnull=True, ends_at__lte=at
        ).values_list("pk", flat=True)
    )
    for pk in due:
        shift_finish(actor=None, shift=DutyShift(pk=pk), now=at)
    return len(due)


def shifts_cancel_for_event(
    *, event: EmergencyEvent, actor: Any, at: dt.datetime, why: str = ""
) -> int:
    """Cancel the shifts not yet begun at the gates *event* covered, now that it has ended (it
    ran passes), unless another active event running passes still covers the gate's grid.
    Shifts under way finish as usual; a swap still asked or accepted for a cancelled shift is
    refused. Each row stays, with an audit entry. Inside the caller's transaction."""
    if Measure.PASSES not in (event.measures or []):
        return 0
    covered = Q(pk__in=[])
    for area in event.areas.all():
        covered |= Q(grid__path__startswith=area.path)
    due = DutyShift.objects.select_for_update(of=("self",)).filter(
        covered, starts_at__gte=at, ended_at__isnull=True, cancelled_at__isnull=True
    )
    still: dict[int, bool] = {}
    n = 0
    for shift in due.select_related("grid"):
        if shift.grid_id not in still:
            still[shift.grid_id] = passes_event_for(shift.grid, besides=event.pk) is not None
        if still[shift.grid_id]:
            continue
        shift.cancelled_at = at
        shift.save(update_fields=["cancelled_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=shift,
            reason=why or _("The event has ended."),
            changes={"cancelled": True},
        )
        for swap in ShiftSwap.objects.select_for_update().filter(
            shift=shift, status__in=[SwapStatus.REQUESTED, SwapStatus.ACCEPTED]
        ):
            before, swap.status, swap.decided_by = swap.status, SwapStatus.REFUSED, _user(actor)
            swap.save(update_fields=["status", "decided_by", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditAction.CHANGE,
                obj=swap,
                changes={"status": [before, SwapStatus.REFUSED]},
            )
        n += 1
    return n


def event_ended(event: Any, actor: Any, at: dt.datetime) -> dict[str, int]:
    """The passes capability's end hook (``linli.emergency.measures.register_end_hook``): the
    event has ended, or runs on without passes; its passes close and its gates' later shifts
    are cancelled (unless another event running passes covers them); the counts go into the
    event's audit entry."""
    if event.status == EventStatus.ACTIVE:
        why, note = (
            _("The event no longer runs passes."),
            _("Closed: the event no longer runs passes."),
        )
    else:
        why, note = _("The event has ended."), _("Closed: the event has ended.")
    closed, carried = passes_close_for_event(event=event, actor=actor, at=at, note=note)
    return {
        "passes_closed": closed,
        "passes_carried_over": carried,
        "shifts_cancelled": shifts_cancel_for_event(event=event, actor=actor, at=at, why=why),
    }
