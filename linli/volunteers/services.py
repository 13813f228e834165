"""Writes for volunteers, activities, points and the rewards store.

Every service is keyword-only; it checks the actor's permission on the area it touches, locks
the rows it changes and re-reads them, moves a workflow only along its table in ``models``,
writes an audit entry and a step of the volunteer's timeline. ``actor=None`` is the system
(seed, tests' setup). Errors meant for people are ``ValidationError`` with a Chinese message
(through the catalogue); acts outside the actor's jurisdiction raise ``PermissionDenied``
before anything changes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts import services as acc
from linli.accounts.models import RoleBinding, User
from linli.accounts.roles import Perm, Role
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core import crypto
from linli.core.identity import mask_phone, normalise_phone
from linli.core.scoping import scope_for
from linli.volunteers.models import (
    CLAIM_TRANSITIONS,
    REDEMPTION_TRANSITIONS,
    SIGNUP_TRANSITIONS,
    VOLUNTEER_TRANSITIONS,
    Activity,
    ClaimStatus,
    EntryKind,
    NameShown,
    PointsClaim,
    PointsEntry,
    PointsRule,
    Redemption,
    RedemptionStatus,
    Reward,
    RuleKind,
    Signup,
    SignupStatus,
    SourceType,
    Volunteer,
    VolunteerEvent,
    VolunteerEventKind,
    VolunteerKind,
    VolunteerStatus,
    check_transition,
)
from linli.volunteers.photos import photo_clean

# A volunteer may check themselves in from this long before the start until this long after
# the end (people arrive early; the organiser may show the code at the end).
CHECK_IN_EARLY = dt.timedelta(hours=1)
CHECK_IN_LATE = dt.timedelta(hours=2)
MAX_NOTE = 1000


# --- helpers -----------------------------------------------------------------------------------


def _require(actor: Any, perm: Perm, *areas: Area | None) -> None:
    """PermissionDenied unless *actor* holds *perm* on one of *areas* (the system may all)."""
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if not any(scope.covers(a) for a in areas if a is not None):
        raise PermissionDenied(_("You may not act outside your jurisdiction."))


def _user(actor: Any) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _event(volunteer: Volunteer, kind: str, summary: str, actor: Any) -> VolunteerEvent:
    return VolunteerEvent.objects.create(
        volunteer=volunteer, kind=kind, summary=summary[:300], actor=_user(actor)
    )


def _move(table: dict[str, set[str]], current: str, target: str, message: str) -> None:
    """Check a workflow move; an illegal one is a clear error for the person who asked."""
    try:
        check_transition(table, current, target)
    except Exception as exc:
        raise ValidationError(message) from exc


def _locked_volunteer(volunteer: Volunteer) -> Volunteer:
    return (
        Volunteer.objects.select_for_update(of=("self",))
        .select_related("area", "user")
        .get(pk=volunteer.pk)
    )


def acting_volunteer(actor: Any) -> Volunteer:
    """The approved volunteer record of *actor*, who must hold the volunteer role on its area."""
    user_id = getattr(actor, "pk", None)
    volunteer = (
        Volunteer.objects.select_related("area")
        .filter(user_id=user_id, status=VolunteerStatus.APPROVED)
        .first()
        if user_id is not None
        else None
    )
    if volunteer is None or not scope_for(actor, Perm.SERVE_AS_VOLUNTEER).covers(volunteer.area):
        raise PermissionDenied(_("Only approved volunteers can do this."))
    return volunteer


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("Describe what you did: a photo alone is not evidence of work.")}
        )
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _("Keep the note under 1000 characters.")})
    return note


def _clean_skills(skills: list[str] | str) -> list[str]:
    if isinstance(skills, str):
        parts = skills.replace("，", ",").replace("、", ",").split(",")
    else:
        parts = list(skills)
    seen: list[str] = []
    for p in parts:
        p = p.strip()[:20]
        if p and p not in seen:
            seen.append(p)
    return seen[:12]


def _community_of(area: Area) -> Area | None:
    if area.kind == AreaKind.COMMUNITY:
        return area
    return next((a for a in area.ancestors() if a.kind == AreaKind.COMMUNITY), None)


def _check_party_fields(kind: str, employer: str, paired: Area | None) -> None:
    if kind not in VolunteerKind.values:
        raise ValidationError({"kind": _("Choose volunteer or reporting party member.")})
    if kind == VolunteerKind.PARTY_MEMBER:
        errors = {}
        if not employer.strip():
            errors["employer"] = _("A reporting party member names their employer.")
        if paired is None:
            errors["paired_community"] = _("Choose the community paired with the employer.")
        if errors:
            raise ValidationError(errors)
    if paired is not None and paired.kind != AreaKind.COMMUNITY:
        raise ValidationError({"paired_community": _("Choose a community.")})


# --- registration and approval -------------------------------------------------------------


@transaction.atomic
def volunteer_apply(
    *,
    actor: Any,
    kind: str,
    skills: list[str] | str = "",
    availability: str = "",
    name_shown: str = NameShown.SURNAME,
    employer: str = "",
    paired_community: Area | None = None,
) -> Volunteer:
    """A resident signed in on the portal applies to serve in their own grid.

    Applying again after a rejection reopens the same record; applying twice while an
    application is open changes nothing and returns it.
    """
    person = getattr(actor, "person", None)
    if person is None or person.household_id is None or person.status != "living":
        raise PermissionDenied(_("Only residents living here can apply on the portal."))
    _check_party_fields(kind, employer, paired_community)
    if name_shown not in NameShown.values:
        raise ValidationError({"name_shown": _("Choose how your name is shown.")})
    grid = person.household.grid
    existing = Volunteer.objects.select_for_update().filter(user=actor).first()
    fields = {
        "kind": kind,
        "skills": _clean_skills(skills),
        "availability": availability.strip()[:200],
        "name_shown": name_shown,
        "employer": employer.strip()[:100],
        "paired_community": paired_community if kind == VolunteerKind.PARTY_MEMBER else None,
    }
    if existing is not None:
        if existing.status != VolunteerStatus.REJECTED:
            return existing
        _move(
            VOLUNTEER_TRANSITIONS,
            existing.status,
            VolunteerStatus.APPLIED,
            _("Only an open application can be approved."),
        )
        for k, v in fields.items():
            setattr(existing, k, v)
        existing.status = VolunteerStatus.APPLIED
        existing.save()
        volunteer = existing
    else:
        volunteer = Volunteer.objects.create(
            user=actor,
            person=person,
            name=person.name,
            phone_masked=person.phone_masked or "",
            area=grid,
            residence_community=_community_of(grid),
            registered_by=actor,
            **fields,
        )
    _event(volunteer, VolunteerEventKind.APPLIED, _("Applied on the portal"), actor)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=volunteer, area=volunteer.area)
    return volunteer


@transaction.atomic
def volunteer_register(
    *,
    actor: Any,
    name: str,
    phone: str,
    area: Area,
    kind: str = VolunteerKind.VOLUNTEER,
    skills: list[str] | str = "",
    availability: str = "",
    name_shown: str = NameShown.SURNAME,
    employer: str = "",
    residence_community: Area | None = None,
    paired_community: Area | None = None,
) -> Volunteer:
    """A worker registers a volunteer (a walk-in, a party member sent by their employer).

    The record starts as an application; the community approves it like any other.
    """
    _require(actor, Perm.MANAGE_VOLUNTEERS, area)
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Enter the volunteer's name.")
    try:
        number = normalise_phone(phone)
    except ValidationError:
        errors["phone"] = _("Enter a valid mobile phone number.")
    if area.kind not in (AreaKind.GRID, AreaKind.COMMUNITY):
        errors["area"] = _("Choose a grid or a community.")
    if errors:
        raise ValidationError(errors)
    _check_party_fields(kind, employer, paired_community)
    if residence_community is not None and residence_community.kind != AreaKind.COMMUNITY:
        raise ValidationError({"residence_community": _("Choose a community.")})
    volunteer = Volunteer.objects.create(
        name=name[:64],
        phone_sealed=crypto.seal(number),
        phone_masked=mask_phone(number),
        area=area,
        kind=kind,
        skills=_clean_skills(skills),
        availability=availability.strip()[:200],
        name_shown=name_shown if name_shown in NameShown.values else NameShown.SURNAME,
        employer=employer.strip()[:100],
        residence_community=residence_community or _community_of(area),
        paired_community=paired_community if kind == VolunteerKind.PARTY_MEMBER else None,
        registered_by=_user(actor),
    )
    _event(volunteer, VolunteerEventKind.APPLIED, _("Registered by a worker"), actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=volunteer,
        area=area,
        changes={"phone": volunteer.phone_masked, "kind": kind},
    )
    return volunteer


def _reviewable(actor: Any, volunteer: Volunteer) -> None:
    _require(
        actor,
        Perm.APPROVE_VOLUNTEERS,
        volunteer.area,
        volunteer.residence_community,
        volunteer.paired_community,
    )


@transaction.atomic
def volunteer_approve(*, actor: Any, volunteer: Volunteer) -> tuple[Volunteer, str | None]:
    """Approve a registration: the volunteer gets the volunteer role on the area they serve.

    A resident who applied on the portal keeps signing in there with their phone; a volunteer
    registered by a worker gets a new account (``volunteer-<id>``) whose generated password is
    returned once, for the approver to hand over. Returns (volunteer, password or None).
    """
    volunteer = _locked_volunteer(volunteer)
    _reviewable(actor, volunteer)
    _move(
        VOLUNTEER_TRANSITIONS,
        volunteer.status,
        VolunteerStatus.APPROVED,
        _("Only an open application can be approved."),
    )
    if volunteer.status != VolunteerStatus.APPLIED:
        raise ValidationError(_("Only an open application can be approved."))
    generated = None
    if volunteer.user is None:
        user = User.objects.filter(person=volunteer.person).first() if volunteer.person else None
        if user is None or hasattr(user, "volunteer"):
            generated = secrets.token_urlsafe(9)
            user = User(username=f"volunteer-{volunteer.pk}", display_name=volunteer.name)
            user.set_password(generated)
            user.save()
            audit_record(actor=actor, action=AuditAction.CREATE, obj=user, area=volunteer.area)
        volunteer.user = user
    assert volunteer.user is not None
    # The permission to approve was checked above; the grant itself is the system's act (a
    # community worker approves volunteers without holding the right to manage staff users).
    acc.binding_grant(actor=None, user=volunteer.user, role=Role.VOLUNTEER, area=volunteer.area)
    volunteer.status = VolunteerStatus.APPROVED
    volunteer.approved_by = _user(actor)
    volunteer.approved_at = timezone.now()
    volunteer.save()
    _event(volunteer, VolunteerEventKind.APPROVED, _("Registration approved"), actor)
    audit_record(
        actor=actor,
        action=AuditAction.REVIEW,
        obj=volunteer,
        area=volunteer.area,
        changes={"status": volunteer.status},
    )
    return volunteer, generated


@transaction.atomic
def volunteer_reject(*, actor: Any, volunteer: Volunteer, reason: str) -> Volunteer:
    """Reject an application, with the reason the applicant will see."""
    volunteer = _locked_volunteer(volunteer)
    _reviewable(actor, volunteer)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the application is rejected.")})
    _move(
        VOLUNTEER_TRANSITIONS,
        volunteer.status,
        VolunteerStatus.REJECTED,
        _("Only an open application can be rejected."),
    )
    volunteer.status = VolunteerStatus.REJECTED
    volunteer.save()
    _event(volunteer, VolunteerEventKind.REJECTED, reason, actor)
    audit_record(
        actor=actor,
        action=AuditAction.REVIEW,
        obj=volunteer,
        area=volunteer.area,
        reason=reason,
        changes={"status": volunteer.status},
    )
    return volunteer


@transaction.atomic
def volunteer_suspend(*, actor: Any, volunteer: Volunteer, reason: str) -> Volunteer:
    """Suspend an approved volunteer: their volunteer role stops at once; points stay."""
    volunteer = _locked_volunteer(volunteer)
    _reviewable(actor, volunteer)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the volunteer is suspended.")})
    _move(
        VOLUNTEER_TRANSITIONS,
        volunteer.status,
        VolunteerStatus.SUSPENDED,
        _("Only an approved volunteer can be suspended."),
    )
    for binding in RoleBinding.objects.filter(
        user=volunteer.user, role=Role.VOLUNTEER, area=volunteer.area, is_active=True
    ):
        acc.binding_revoke(actor=None, binding=binding)
    volunteer.status = VolunteerStatus.SUSPENDED
    volunteer.save()
    _event(volunteer, VolunteerEventKind.SUSPENDED, reason, actor)
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=volunteer,
        area=volunteer.area,
        reason=reason,
        changes={"status": volunteer.status},
    )
    return volunteer


@transaction.atomic
def volunteer_reinstate(*, actor: Any, volunteer: Volunteer) -> Volunteer:
    """Lift a suspension: the volunteer role is granted again."""
    volunteer = _locked_volunteer(volunteer)
    _reviewable(actor, volunteer)
    _move(
        VOLUNTEER_TRANSITIONS,
        volunteer.status,
        VolunteerStatus.APPROVED,
        _("Only a suspended volunteer can be reinstated."),
    )
    if volunteer.status != VolunteerStatus.SUSPENDED or volunteer.user is None:
        raise ValidationError(_("Only a suspended volunteer can be reinstated."))
    acc.binding_grant(actor=None, user=volunteer.user, role=Role.VOLUNTEER, area=volunteer.area)
    volunteer.status = VolunteerStatus.APPROVED
    volunteer.save()
    _event(volunteer, VolunteerEventKind.REINSTATED, _("Suspension lifted"), actor)
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=volunteer,
        area=volunteer.area,
        changes={"status": volunteer.status},
    )
    return volunteer


# --- points rules --------------------------------------------------------------------------


@transaction.atomic
def rule_create(
    *, actor: Any, area: Area, kind: str, points: int, min_stars: int = 4
) -> PointsRule:
    """Configure a points rule for an area and below; it replaces the area's earlier rule of
    the same kind (which is kept, inactive, for the entries that name it)."""
    _require(actor, Perm.APPROVE_VOLUNTEERS, area)
    errors = {}
    if kind not in RuleKind.values:
        errors["kind"] = _("Choose what the rule rewards.")
    if not 0 < points <= 10000:
        errors["points"] = _("Points must be between 1 and 10000.")
    if not 1 <= min_stars <= 5:
        errors["min_stars"] = _("Stars must be between 1 and 5.")
    if errors:
        raise ValidationError(errors)
    PointsRule.objects.filter(area=area, kind=kind, is_active=True).update(is_active=False)
    rule = PointsRule.objects.create(
        area=area, kind=kind, points=points, min_stars=min_stars, created_by=_user(actor)
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=rule,
        area=area,
        changes={"kind": kind, "points": points, "min_stars": min_stars},
    )
    return rule


def rule_for(kind: str, area: Area) -> PointsRule | None:
    """The active rule of *kind* on the nearest node at or above *area*."""
    paths = [a.path for a in [*area.ancestors(), area]]
    return (
        PointsRule.objects.filter(kind=kind, is_active=True, area__path__in=paths)
        .order_by("-area__depth", "-id")
        .first()
    )


# --- activities ----------------------------------------------------------------------------


@transaction.atomic
def activity_create(
    *,
    actor: Any,
    area: Area,
    title: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    description: str = "",
) -> Activity:
    """Announce a volunteer service activity in an area; its hours earn points by the area's
    activity-hour rule."""
    _require(actor, Perm.MANAGE_VOLUNTEERS, area)
    errors = {}
    if not title.strip():
        errors["title"] = _("Enter a title.")
    if not place.strip():
        errors["place"] = _("Enter the place.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    elif ends_at - starts_at > dt.timedelta(hours=24):
        errors["ends_at"] = _("An activity lasts at most 24 hours.")
    if not 1 <= capacity <= 10000:
        errors["capacity"] = _("Places must be between 1 and 10000.")
    if errors:
        raise ValidationError(errors)
    activity = Activity.objects.create(
        area=area,
        title=title.strip()[:100],
        place=place.strip()[:200],
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        description=description.strip(),
        rule=rule_for(RuleKind.ACTIVITY_HOUR, area),
        check_in_code=f"{secrets.randbelow(1_000_000):06d}",
        organiser=_user(actor),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=activity, area=area)
    return activity


def _locked_activity(activity: Activity) -> Activity:
    return (
        Activity.objects.select_for_update(of=("self",)).select_related("area").get(pk=activity.pk)
    )


@transaction.atomic
def signup_create(*, actor: Any, activity: Activity) -> Signup:
    """A volunteer signs up for an activity in or above the area they serve, while places
    last; signing up twice returns the same place."""
    volunteer = acting_volunteer(actor)
    activity = _locked_activity(activity)
    if not (
        volunteer.area.path.startswith(activity.area.path)
        or activity.area.path.startswith(volunteer.area.path)
    ):
        raise PermissionDenied(_("This activity is not in your area."))
    if activity.ends_at <= timezone.now():
        raise ValidationError(_("This activity is over."))
    signup = Signup.objects.select_for_update().filter(activity=activity, volunteer=volunteer)
    existing = signup.first()
    if existing is not None and existing.status != SignupStatus.CANCELLED:
        return existing
    taken = Signup.objects.filter(
        activity=activity, status__in=[SignupStatus.SIGNED_UP, SignupStatus.ATTENDED]
    ).count()
    if taken >= activity.capacity:
        raise ValidationError(_("All places are taken."))
    if existing is not None:
        existing.status = SignupStatus.SIGNED_UP
        existing.save()
        result = existing
    else:
        result = Signup.objects.create(activity=activity, volunteer=volunteer)
    _event(volunteer, VolunteerEventKind.SIGNED_UP, activity.title, actor)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=result, area=activity.area)
    return result


def _check_in(actor: Any, signup: Signup, hours: Decimal | None, how: str) -> Signup:
    _move(
        SIGNUP_TRANSITIONS,
        signup.status,
        SignupStatus.ATTENDED,
        _("Only a signed-up volunteer can be checked in."),
    )
    if hours is None:
        hours = Decimal(str(signup.activity.hours))
    if not Decimal("0") < hours <= Decimal("24"):
        raise ValidationError({"hours": _("Hours must be between 0 and 24.")})
    signup.status = SignupStatus.ATTENDED
    signup.checked_in_at = timezone.now()
    signup.checked_in_by = _user(actor)
    signup.hours = hours
    signup.save()
    shown = _("%(hours)s hours") % {"hours": f"{hours.normalize():f}"}
    _event(
        signup.volunteer,
        VolunteerEventKind.CHECKED_IN,
        f"{signup.activity.title} · {shown} · {how}",
        actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=signup,
        area=signup.activity.area,
        changes={"status": signup.status, "hours": str(hours)},
    )
    return signup


@transaction.atomic
def signup_check_in(*, actor: Any, signup: Signup, hours: Decimal | None = None) -> Signup:
    """The organiser (a worker of the activity's area) checks a volunteer in and records the
    hours served (the activity's length unless given)."""
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("activity__area", "volunteer")
        .get(pk=signup.pk)
    )
    _require(actor, Perm.MANAGE_VOLUNTEERS, signup.activity.area)
    if signup.status == SignupStatus.ATTENDED:
        return signup
    return _check_in(actor, signup, hours, _("checked in by the organiser"))


@transaction.atomic
def signup_self_check_in(*, actor: Any, activity: Activity, code: str) -> Signup:
    """A volunteer checks themselves in with the code shown on the organiser's page, during
    the activity (from an hour before until two hours after)."""
    volunteer = acting_volunteer(actor)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("activity__area", "volunteer")
        .filter(activity_id=activity.pk, volunteer=volunteer)
        .first()
    )
    if signup is None or signup.status == SignupStatus.CANCELLED:
        raise ValidationError(_("Sign up for the activity first."))
    if signup.status == SignupStatus.ATTENDED:
        return signup
    now = timezone.now()
    act = signup.activity
    if not act.starts_at - CHECK_IN_EARLY <= now <= act.ends_at + CHECK_IN_LATE:
        raise ValidationError(_("Check-in is open from an hour before the activity to its end."))
    if not secrets.compare_digest(code.strip(), act.check_in_code):
        raise ValidationError({"code": _("The check-in code is wrong.")})
    return _check_in(actor, signup, None, _("checked in with the code"))


@transaction.atomic
def signup_cancel(*, actor: Any, signup: Signup) -> Signup:
    """A volunteer gives up their place before they are checked in."""
    volunteer = acting_volunteer(actor)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("activity__area")
        .get(pk=signup.pk)
    )
    if signup.volunteer_id != volunteer.pk:
        raise PermissionDenied(_("This is not your sign-up."))
    _move(
        SIGNUP_TRANSITIONS,
        signup.status,
        SignupStatus.CANCELLED,
        _("A checked-in sign-up cannot be cancelled."),
    )
    signup.status = SignupStatus.CANCELLED
    signup.save()
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=signup,
        area=signup.activity.area,
        changes={"status": "cancelled"},
    )
    return signup


# --- points claims -------------------------------------------------------------------------


def _claim_create(
    *,
    actor: Any,
    volunteer: Volunteer,
    source_type: str,
    source_id: int,
    source_label: str,
    rule: PointsRule,
    points: int,
    hours: Decimal | None,
    note: str,
    photo: bytes | None = None,
) -> PointsClaim:
    existing = PointsClaim.objects.filter(
        volunteer=volunteer, source_type=source_type, source_id=source_id
    ).exclude(status=ClaimStatus.REJECTED)
    found = existing.first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            claim = PointsClaim.objects.create(
                volunteer=volunteer,
                area=volunteer.area,
                source_type=source_type,
                source_id=source_id,
                source_label=source_label[:200],
                rule=rule,
                points=points,
                hours=hours,
                note=note,
                photo=photo,
                claimed_by=_user(actor),
            )
    except IntegrityError:
        # The same claim sent twice at once: the other request made it.
        return existing.get()
    _event(volunteer, VolunteerEventKind.CLAIMED, f"{source_label} · {points}", actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=claim,
        area=volunteer.area,
        changes={"points": points, "source": f"{source_type}:{source_id}"},
    )
    return claim


@transaction.atomic
def claim_for_signup(
    *, actor: Any, signup: Signup, note: str, photo: bytes | None = None
) -> PointsClaim:
    """A volunteer claims points for hours at an activity they were checked in at.

    The note says what was done (required: a photo alone is not evidence); an optional photo
    is checked and re-encoded. Points are the activity-hour rule times the hours. A retried
    claim returns the claim already made.
    """
    volunteer = acting_volunteer(actor)
    signup = Signup.objects.select_related("activity__area", "activity__rule").get(pk=signup.pk)
    if signup.volunteer_id != volunteer.pk:
        raise PermissionDenied(_("This is not your sign-up."))
    note = _clean_note(note)
    if signup.status != SignupStatus.ATTENDED or signup.hours is None:
        raise ValidationError(_("Points can be claimed only after you were checked in."))
    rule = signup.activity.rule or rule_for(RuleKind.ACTIVITY_HOUR, signup.activity.area)
    if rule is None:
        raise ValidationError(_("No points rule is set for activity hours here yet."))
    cleaned_photo = photo_clean(photo) if photo else None
    points = int((Decimal(rule.points) * signup.hours).to_integral_value())
    return _claim_create(
        actor=actor,
        volunteer=volunteer,
        source_type=SourceType.ACTIVITY,
        source_id=signup.pk,
        source_label=signup.activity.title,
        rule=rule,
        points=max(points, 1),
        hours=signup.hours,
        note=note,
        photo=cleaned_photo,
    )


ORDER_EARNING_STATUSES = frozenset({"rated", "closed"})


@transaction.atomic
def points_claim_for_order(*, order: Any, volunteer_user: User) -> PointsClaim:
    """Open a points claim for a work order the volunteer did and the requester rated.

    Called by the work-order workflow when an order is rated (``linli.orders`` wires it at
    merge time). *order* is duck-typed: ``pk``, ``number`` (str), ``grid`` (Area),
    ``rating_stars`` (int or None) and ``status`` (str). The order's rule is the order-rated
    rule on the nearest node above the order's grid; the claim awaits a grid worker's review
    like any other (the order's trace is the evidence the note points to). Calling it again for
    the same order returns the same claim.

    Raises ValidationError when the order does not earn points (not rated yet, fewer stars than
    the rule asks, no rule configured) and PermissionDenied when the user is not an approved
    volunteer; the caller decides whether that should stop its own transition (it should not).
    """
    volunteer = acting_volunteer(volunteer_user)
    if str(order.status) not in ORDER_EARNING_STATUSES or order.rating_stars is None:
        raise ValidationError(_("The work order has not been rated yet."))
    rule = rule_for(RuleKind.ORDER_RATED, order.grid)
    if rule is None:
        raise ValidationError(_("No points rule is set for work orders here yet."))
    if int(order.rating_stars) < rule.min_stars:
        raise ValidationError(
            _("The work order was rated %(stars)s stars; points need at least %(min)s.")
            % {"stars": order.rating_stars, "min": rule.min_stars}
        )
    label = _("Work order %(number)s") % {"number": order.number}
    note = _("Work order %(number)s done and rated %(stars)s stars.") % {
        "number": order.number,
        "stars": order.rating_stars,
    }
    return _claim_create(
        actor=volunteer_user,
        volunteer=volunteer,
        source_type=SourceType.ORDER,
        source_id=int(order.pk),
        source_label=label,
        rule=rule,
        points=rule.points,
        hours=None,
        note=note,
    )


@transaction.atomic
def points_claim_for_shift(*, shift: Any, volunteer_user: User) -> PointsClaim:
    """Open a points claim for a checkpoint shift the volunteer served.

    For the emergency capability's duty roster (not in this branch; wired at merge time).
    *shift* is duck-typed: ``pk``, ``label`` (str, e.g. "3号门 5月2日 8:00–12:00"), ``grid``
    (Area), ``ended_at`` (datetime or None) and ``note`` (str: what the shift recorded). The
    checkpoint-shift rule of the nearest node applies; a shift not yet ended earns nothing.
    Calling it again for the same shift returns the same claim.
    """
    volunteer = acting_volunteer(volunteer_user)
    if shift.ended_at is None or shift.ended_at > timezone.now():
        raise ValidationError(_("The shift has not ended yet."))
    rule = rule_for(RuleKind.CHECKPOINT_SHIFT, shift.grid)
    if rule is None:
        raise ValidationError(_("No points rule is set for checkpoint shifts here yet."))
    label = _("Checkpoint shift %(label)s") % {"label": shift.label}
    return _claim_create(
        actor=volunteer_user,
        volunteer=volunteer,
        source_type=SourceType.CHECKPOINT_SHIFT,
        source_id=int(shift.pk),
        source_label=label,
        rule=rule,
        points=rule.points,
        hours=None,
        note=_clean_note(str(shift.note or label)),
    )


def _post(
    *,
    volunteer: Volunteer,
    delta: int,
    kind: str,
    source_type: str,
    source_id: int,
    actor: Any,
    rule: PointsRule | None = None,
    note: str = "",
    reversal_of: PointsEntry | None = None,
) -> PointsEntry:
    return PointsEntry.objects.create(
        volunteer=volunteer,
        area=volunteer.area,
        delta=delta,
        kind=kind,
        rule=rule,
        source_type=source_type,
        source_id=source_id,
        reversal_of=reversal_of,
        note=note[:300],
        reviewed_by=_user(actor),
    )


@transaction.atomic
def claim_review(*, actor: Any, claim: PointsClaim, approve: bool, reason: str = "") -> PointsClaim:
    """A worker of the volunteer's grid reviews a claim: approval posts the points as one
    ledger entry, rejection keeps the claim with its reason. Nobody reviews their own claim."""
    claim = (
        PointsClaim.objects.select_for_update(of=("self",))
        .select_related("volunteer", "area", "rule")
        .get(pk=claim.pk)
    )
    _require(actor, Perm.MANAGE_VOLUNTEERS, claim.area)
    if actor is not None and claim.volunteer.user_id == actor.pk:
        raise PermissionDenied(_("You cannot review your own claim."))
    reason = reason.strip()
    target = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    _move(CLAIM_TRANSITIONS, claim.status, target, _("This claim has already been reviewed."))
    if not approve and not reason:
        raise ValidationError({"reason": _("Say why the claim is rejected.")})
    volunteer = _locked_volunteer(claim.volunteer)
    if approve:
        claim.entry = _post(
            volunteer=volunteer,
            delta=claim.points,
            kind=EntryKind.EARN,
            source_type=claim.source_type,
            source_id=claim.source_id,
            actor=actor,
            rule=claim.rule,
            note=claim.source_label,
        )
    claim.status = target
    claim.reviewed_by = _user(actor)
    claim.reviewed_at = timezone.now()
    claim.review_reason = reason[:300]
    claim.save()
    if approve:
        _event(
            volunteer,
            VolunteerEventKind.CLAIM_APPROVED,
            f"{claim.source_label} · +{claim.points}",
            actor,
        )
    else:
        _event(
            volunteer, VolunteerEventKind.CLAIM_REJECTED, f"{claim.source_label} · {reason}", actor
        )
    audit_record(
        actor=actor,
        action=AuditAction.REVIEW,
        obj=claim,
        area=claim.area,
        reason=reason,
        changes={"status": claim.status, "points": claim.points if approve else 0},
    )
    return claim


def balance(volunteer: Volunteer) -> int:
    """The volunteer's points: the sum of their ledger."""
    total = PointsEntry.objects.filter(volunteer=volunteer).aggregate(n=Sum("delta"))["n"]
    return int(total or 0)


@transaction.atomic
def points_reverse(*, actor: Any, entry: PointsEntry, reason: str) -> PointsEntry:
    """Undo an earned entry posted in error with a new, opposite entry (never an edit)."""
    entry = PointsEntry.objects.select_related("volunteer", "area").get(pk=entry.pk)
    _require(actor, Perm.MANAGE_VOLUNTEERS, entry.area)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the points are reversed.")})
    if entry.kind != EntryKind.EARN:
        raise ValidationError(_("Only earned points can be reversed here."))
    volunteer = _locked_volunteer(entry.volunteer)
    if PointsEntry.objects.filter(reversal_of=entry).exists():
        raise ValidationError(_("These points have already been reversed."))
    reversal = _post(
        volunteer=volunteer,
        delta=-entry.delta,
        kind=EntryKind.REVERSAL,
        source_type=SourceType.ENTRY,
        source_id=entry.pk,
        actor=actor,
        note=reason,
        reversal_of=entry,
    )
    _event(volunteer, VolunteerEventKind.REVERSED, f"{-entry.delta:+d} · {reason}", actor)
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=reversal,
        area=entry.area,
        reason=reason,
        changes={"reversal_of": entry.pk, "delta": -entry.delta},
    )
    return reversal


# --- the rewards store ---------------------------------------------------------------------


@transaction.atomic
def reward_create(
    *, actor: Any, area: Area, name: str, price: int, stock: int, description: str = ""
) -> Reward:
    """Put an item in an area's store."""
    _require(actor, Perm.MANAGE_VOLUNTEERS, area)
    errors = {}
    if not name.strip():
        errors["name"] = _("Enter a name.")
    if not 1 <= price <= 1_000_000:
        errors["price"] = _("The price must be between 1 and 1000000 points.")
    if not 0 <= stock <= 100_000:
        errors["stock"] = _("Stock must be between 0 and 100000.")
    if errors:
        raise ValidationError(errors)
    reward = Reward.objects.create(
        area=area,
        name=name.strip()[:100],
        price=price,
        stock=stock,
        description=description.strip()[:300],
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=reward,
        area=area,
        changes={"price": price, "stock": stock},
    )
    return reward


@transaction.atomic
def reward_restock(*, actor: Any, reward: Reward, add: int) -> Reward:
    """Add stock (or take it away with a negative number, not below zero)."""
    reward = Reward.objects.select_for_update(of=("self",)).select_related("area").get(pk=reward.pk)
    _require(actor, Perm.MANAGE_VOLUNTEERS, reward.area)
    if reward.stock + add < 0:
        raise ValidationError({"add": _("Stock cannot go below zero.")})
    before = reward.stock
    reward.stock += add
    reward.save()
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=reward,
        area=reward.area,
        changes={"stock": [before, reward.stock]},
    )
    return reward


def reward_visible_to(volunteer: Volunteer, reward: Reward) -> bool:
    """A volunteer shops in the stores at or above the area they serve."""
    return volunteer.area.path.startswith(reward.area.path)


@transaction.atomic
def redemption_create(*, actor: Any, reward: Reward, request_key: str) -> Redemption:
    """A volunteer redeems a reward: one unit of stock is reserved and the price is spent in
    one transaction. The same *request_key* (the form's one-time key) redeems once, however
    often it is sent. Too few points or no stock left changes nothing."""
    volunteer = acting_volunteer(actor)
    request_key = (request_key or "").strip()[:64]
    if not request_key:
        raise ValidationError(_("The form has expired; please open the store again."))
    # The volunteer's row is the lock that serialises their spending.
    volunteer = _locked_volunteer(volunteer)
    done = Redemption.objects.filter(volunteer=volunteer, request_key=request_key).first()
    if done is not None:
        return done
    reward = Reward.objects.select_for_update(of=("self",)).select_related("area").get(pk=reward.pk)
    if not reward_visible_to(volunteer, reward) or not reward.is_active:
        raise PermissionDenied(_("This reward is not offered in your area."))
    if reward.stock < 1:
        raise ValidationError(_("Sorry, this reward is out of stock."))
    have = balance(volunteer)
    if have < reward.price:
        raise ValidationError(
            _("Not enough points: this reward costs %(price)s, you have %(have)s.")
            % {"price": reward.price, "have": have}
        )
    reward.stock -= 1
    reward.save(update_fields=["stock", "updated_at"])
    redemption = Redemption.objects.create(
        reward=reward,
        volunteer=volunteer,
        area=volunteer.area,
        points=reward.price,
        request_key=request_key,
    )
    redemption.spend_entry = _post(
        volunteer=volunteer,
        delta=-reward.price,
        kind=EntryKind.SPEND,
        source_type=SourceType.REDEMPTION,
        source_id=redemption.pk,
        actor=None,
        note=reward.name,
    )
    redemption.save(update_fields=["spend_entry", "updated_at"])
    _event(volunteer, VolunteerEventKind.REDEEMED, f"{reward.name} · -{reward.price}", actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=redemption,
        area=volunteer.area,
        changes={"reward": reward.name, "points": reward.price},
    )
    return redemption


def _locked_redemption(redemption: Redemption) -> Redemption:
    return (
        Redemption.objects.select_for_update(of=("self",))
        .select_related("reward", "volunteer", "area")
        .get(pk=redemption.pk)
    )


@transaction.atomic
def redemption_hand_over(*, actor: Any, redemption: Redemption) -> Redemption:
    """A worker confirms the volunteer picked the reward up."""
    redemption = _locked_redemption(redemption)
    _require(actor, Perm.MANAGE_VOLUNTEERS, redemption.area)
    _move(
        REDEMPTION_TRANSITIONS,
        redemption.status,
        RedemptionStatus.PICKED_UP,
        _("Only a reserved reward can be handed over."),
    )
    redemption.status = RedemptionStatus.PICKED_UP
    redemption.handled_by = _user(actor)
    redemption.handled_at = timezone.now()
    redemption.save()
    _event(redemption.volunteer, VolunteerEventKind.PICKED_UP, redemption.reward.name, actor)
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=redemption,
        area=redemption.area,
        changes={"status": redemption.status},
    )
    return redemption


@transaction.atomic
def redemption_cancel(*, actor: Any, redemption: Redemption, reason: str = "") -> Redemption:
    """Cancel a reserved reward (by the volunteer or a worker): the stock returns and the points
    come back as a reversal entry of the spend."""
    redemption = _locked_redemption(redemption)
    own = redemption.volunteer.user_id is not None and redemption.volunteer.user_id == getattr(
        actor, "pk", None
    )
    if not own:
        _require(actor, Perm.MANAGE_VOLUNTEERS, redemption.area)
    _move(
        REDEMPTION_TRANSITIONS,
        redemption.status,
        RedemptionStatus.CANCELLED,
        _("Only a reserved reward can be cancelled."),
    )
    volunteer = _locked_volunteer(redemption.volunteer)
    reward = Reward.objects.select_for_update(of=("self",)).get(pk=redemption.reward_id)
    reward.stock += 1
    reward.save(update_fields=["stock", "updated_at"])
    assert redemption.spend_entry is not None
    redemption.refund_entry = _post(
        volunteer=volunteer,
        delta=redemption.points,
        kind=EntryKind.REVERSAL,
        source_type=SourceType.ENTRY,
        source_id=redemption.spend_entry.pk,
        actor=actor,
        note=reason or reward.name,
        reversal_of=redemption.spend_entry,
    )
    redemption.status = RedemptionStatus.CANCELLED
    redemption.handled_by = _user(actor)
    redemption.handled_at = timezone.now()
    redemption.reason = reason.strip()[:300]
    redemption.save()
    _event(
        volunteer,
        VolunteerEventKind.REDEMPTION_CANCELLED,
        f"{reward.name} · +{redemption.points}",
        actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=redemption,
        area=redemption.area,
        reason=reason,
        changes={"status": redemption.status, "refund": redemption.points},
    )
    return redemption
