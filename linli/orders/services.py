"""Writes to work orders. The portal, the workbench, the API, Open311 and the tasks call these.

Each transition service locks and re-reads the order, checks the action against the state
machine (``workflow.TRANSITIONS``) and the actor's right on the rung the order is on, writes
one ``OrderEvent`` (the timeline) and one audit entry. ``actor=None`` is the system itself
(the escalation task, the seed). ``now`` may be passed so tests and the escalation task work
on a frozen clock; it defaults to the current time.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core import crypto
from linli.core.identity import mask_phone, normalise_phone
from linli.core.images import CleanImage
from linli.core.scoping import scope_for
from linli.orders.models import (
    LEVEL_ORDER,
    Channel,
    Department,
    FollowUp,
    Level,
    OrderAttachment,
    OrderCategory,
    OrderEvent,
    Source,
    Status,
    WorkOrder,
)
from linli.orders.workflow import ESCALATABLE, OPEN_STATES, WHISTLEABLE, transition_check
from linli.register.models import Person
from linli.volunteers.services import points_claim_for_order


def files_dir() -> Path:
    """Where attachments are written (LINLI_VAR_DIR/order-files unless configured)."""
    return Path(getattr(settings, "LINLI_ORDER_FILES_DIR", settings.VAR_DIR / "order-files"))


def followup_days() -> int:
    """Days after a rating when the resident is asked whether it is still fixed."""
    return int(getattr(settings, "LINLI_ORDER_FOLLOWUP_DAYS", 7))


# --- who may do what ----------------------------------------------------------------------


def level_area(order: WorkOrder, level: str | None = None) -> Area:
    """The node whose workers handle *order* at *level* (its current level by default).

    At the department rung the community (or subdistrict) that whistled keeps the right to
    follow the order up and close it once answered.
    """
    level = level or order.level
    if level == Level.DEPARTMENT:
        level = order.whistled_from or Level.COMMUNITY
    if level == Level.GRID:
        return order.grid
    kind = AreaKind.COMMUNITY if level == Level.COMMUNITY else AreaKind.SUBDISTRICT
    for area in reversed(order.grid.ancestors()):
        if area.kind == kind:
            return area
    return order.grid


def may_handle(actor: Any, order: WorkOrder) -> bool:
    """True when *actor* may accept, dispatch, escalate or close *order* where it is now."""
    return scope_for(actor, Perm.HANDLE_ORDERS).covers(level_area(order))


def is_requester(actor: Any, order: WorkOrder) -> bool:
    """True when *actor* is the resident who asked (their account or their register entry)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if order.requester_user_id is not None and order.requester_user_id == actor.pk:
        return True
    person_id = getattr(actor, "person_id", None)
    return person_id is not None and person_id == order.requester_id


def may_take(actor: Any, order: WorkOrder) -> bool:
    """True when *actor* may take the order: the person it was dispatched to, or anyone who
    takes orders in its grid when it is open for volunteers."""
    if order.status == Status.DISPATCHED:
        return order.assignee_id is not None and order.assignee_id == getattr(actor, "pk", None)
    return scope_for(actor, Perm.TAKE_ORDERS).covers(order.grid)


def is_department_member(actor: Any, order: WorkOrder) -> bool:
    return (
        order.department_id is not None
        and scope_for(actor, Perm.ANSWER_ORDERS).covers(order.grid)
        and order.department is not None
        and order.department.members.filter(pk=actor.pk).exists()
    )


def _deny() -> PermissionDenied:
    return PermissionDenied(_("You may not do this with this work order."))


def _require_handler(actor: Any, order: WorkOrder) -> None:
    if actor is not None and not may_handle(actor, order):
        raise _deny()


def _require_requester_or_handler(actor: Any, order: WorkOrder) -> None:
    if actor is not None and not (is_requester(actor, order) or may_handle(actor, order)):
        raise _deny()


def _require_assignee_or_handler(actor: Any, order: WorkOrder) -> None:
    if actor is None:
        return
    if order.assignee_id == actor.pk:
        return
    if not may_handle(actor, order):
        raise _deny()


# --- the machinery of one transition ------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _locked(order: WorkOrder) -> WorkOrder:
    """Re-read and lock the order: the caller's copy may be stale."""
    return (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("grid", "category", "department")
        .get(pk=order.pk)
    )


def _due(category: OrderCategory, level: str, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(hours=category.hours_at(level))


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _step(
    order: WorkOrder,
    *,
    action: str,
    actor: Any,
    now: dt.datetime,
    note: str = "",
    to_level: str | None = None,
    minutes_spent: int | None = None,
    data: dict[str, Any] | None = None,
    fields: Sequence[str] = (),
) -> OrderEvent:
    """Move a locked order along the machine, save it and write its event and audit entry."""
    from_status, from_level = order.status, order.level
    order.status = transition_check(action, order.status)
    if to_level is not None:
        order.level = to_level
    order.save(update_fields=["status", "level", "updated_at", *fields])
    event = OrderEvent.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=order.status,
        from_level=from_level,
        to_level=order.level,
        actor=_user_or_none(actor),
        note=note,
        minutes_spent=minutes_spent,
        data=data or {},
        at=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if action == "submit" else AuditAction.CHANGE,
        obj=order,
        area=order.grid,
        object_label=order.number,
        reason=note[:200],
        changes={"action": action, "status": [from_status, order.status]}
        | ({"level": [from_level, order.level]} if from_level != order.level else {}),
    )
    return event


def _store_photos(
    order: WorkOrder, event: OrderEvent | None, photos: Sequence[CleanImage], actor: Any
) -> list[OrderAttachment]:
    """Write re-encoded photos under the files directory and record them."""
    saved = []
    folder = files_dir() / str(order.pk)
    for photo in photos:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{order.pk}/{uuid.uuid4().hex}.jpg"
        (files_dir() / name).write_bytes(photo.data)
        saved.append(
            OrderAttachment.objects.create(
                order=order,
                event=event,
                uploaded_by=_user_or_none(actor),
                path=name,
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                size=len(photo.data),
                sha256=photo.sha256,
            )
        )
    return saved


def _check_note(note: str, field: str, message: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({field: [message]})
    return note


# --- departments --------------------------------------------------------------------------


@transaction.atomic
def department_save(
    *,
    actor: Any,
    code: str,
    name: str,
    area: Area,
    members: Sequence[Any] = (),
    categories: Sequence[OrderCategory] = (),
) -> Department:
    """Create a department serving *area*, or update the one with *code*; add members (users
    holding the department role on a node that covers the area) and categories."""
    if actor is not None and not scope_for(actor, Perm.MANAGE_USERS).covers(area):
        raise PermissionDenied(_("You may not set up departments for this area."))
    errors: dict[str, list[str]] = {}
    if not code.strip() or not name.strip():
        errors["name"] = [_("A department needs a code and a name.")]
    for user in members:
        if scope_for(user, Perm.ANSWER_ORDERS).is_empty:
            errors.setdefault("members", []).append(
                _("%(user)s holds no department role.") % {"user": user}
            )
    if errors:
        raise ValidationError(errors)
    dept, created = Department.objects.update_or_create(
        code=code.strip(), defaults={"name": name.strip(), "area": area}
    )
    dept.members.add(*members)
    dept.categories.add(*categories)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.CHANGE,
        obj=dept,
        area=area,
        changes={
            "members": [u.username for u in members],
            "categories": [c.code for c in categories],
        },
    )
    return dept


# --- categories -----------------------------------------------------------------------------

#: The fields of a category a manager may set; the code is set once, at creation.
CATEGORY_FIELDS = (
    "name",
    "name_en",
    "default_level",
    "grid_hours",
    "community_hours",
    "subdistrict_hours",
    "department_hours",
    "is_active",
    "sort_key",
)
CATEGORY_MAX_HOURS = 24 * 365


def _require_manage_categories(actor: Any) -> None:
    # One set for the deployment (like tags): any grant of the right allows editing it.
    if actor is not None and scope_for(actor, Perm.MANAGE_ORDER_CATEGORIES).is_empty:
        raise PermissionDenied(_("You may not manage work-order categories."))


def _category_apply(category: OrderCategory, data: dict[str, Any]) -> dict[str, list[str]]:
    """Set the given fields on *category* (not saved); return the errors per field."""
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(CATEGORY_FIELDS)
    if unknown:
        raise TypeError(f"unknown category fields: {sorted(unknown)}")
    for field, value in data.items():
        if field in ("name", "name_en"):
            value = (value or "").strip()
        setattr(category, field, value)
    if not category.name:
        errors["name"] = [_("Enter the category's name.")]
    if category.default_level not in Level.values:
        errors["default_level"] = [_("Choose the level where orders of this kind start.")]
    for level in LEVEL_ORDER:
        hours = getattr(category, f"{level}_hours")
        if not isinstance(hours, int) or not 1 <= hours <= CATEGORY_MAX_HOURS:
            errors[f"{level}_hours"] = [
                _("Enter a time limit between 1 and %(max)s hours.") % {"max": CATEGORY_MAX_HOURS}
            ]
    return errors


@transaction.atomic
def category_create(
    *,
    actor: Any,
    code: str,
    name: str,
    name_en: str = "",
    default_level: str = Level.GRID,
    grid_hours: int = 24,
    community_hours: int = 48,
    subdistrict_hours: int = 72,
    department_hours: int = 120,
    is_active: bool = True,
    sort_key: int = 0,
) -> OrderCategory:
    """Create a work-order category: its code (fixed once made: orders, Open311 clients and
    departments refer to it), names, default level and time limit per level (audited)."""
    _require_manage_categories(actor)
    data: dict[str, Any] = {
        "name": name,
        "name_en": name_en,
        "default_level": default_level,
        "grid_hours": grid_hours,
        "community_hours": community_hours,
        "subdistrict_hours": subdistrict_hours,
        "department_hours": department_hours,
        "is_active": is_active,
        "sort_key": sort_key,
    }
    code = (code or "").strip().lower()
    category = OrderCategory(code=code)
    errors = _category_apply(category, data)
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", code):
        errors["code"] = [_("Use 1 to 32 lower-case letters, digits, - and _ for the code.")]
    elif OrderCategory.objects.filter(code=code).exists():
        errors["code"] = [_("A work-order category with this code already exists.")]
    if errors:
        raise ValidationError(errors)
    category.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=category,
        object_label=category.name,
        changes={"code": code} | {f: getattr(category, f) for f in CATEGORY_FIELDS},
    )
    return category


@transaction.atomic
def category_update(*, actor: Any, category: OrderCategory, data: dict[str, Any]) -> OrderCategory:
    """Change a category's fields named in *data* (any of ``CATEGORY_FIELDS``: names, default
    level, time limits, order, active flag), audited with before → after. New limits apply to
    the next step of an order; an inactive category keeps its orders but takes no new ones."""
    _require_manage_categories(actor)
    category = OrderCategory.objects.select_for_update().get(pk=category.pk)
    before = {f: getattr(category, f) for f in CATEGORY_FIELDS}
    errors = _category_apply(category, data)
    if errors:
        raise ValidationError(errors)
    changes = {
        f: [before[f], getattr(category, f)]
        for f in CATEGORY_FIELDS
        if before[f] != getattr(category, f)
    }
    if changes:
        category.save()
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=category,
            object_label=category.name,
            changes=changes,
        )
    return category


# --- submitting ---------------------------------------------------------------------------


def category_get(code: str) -> OrderCategory:
    """The active category with *code*; ValidationError naming the field otherwise."""
    category = OrderCategory.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise ValidationError({"category": [_("Unknown category.")]})
    return category


@transaction.atomic
def order_submit(
    *,
    actor: Any,
    category: OrderCategory,
    title: str,
    grid: Area,
    description: str = "",
    requester: Person | None = None,
    contact_name: str = "",
    phone: str = "",
    source: str = Source.PORTAL,
    channel: str = "",
    location: str = "",
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    photos: Sequence[CleanImage] = (),
    client_key: str = "",
    now: dt.datetime | None = None,
) -> WorkOrder:
    """File a work order in *grid*.

    A resident files for themselves (their own register entry, their own grid); staff file on
    a resident's behalf in a grid they handle orders in. The same ``client_key`` from the same
    actor returns the order already filed (a retried form or API call does not duplicate).
    """
    now = _now(now)
    user = _user_or_none(actor)
    if user is not None and client_key:
        existing = WorkOrder.objects.filter(created_by=user, client_key=client_key).first()
        if existing is not None:
            return existing
    is_self = (
        user is not None
        and requester is not None
        and getattr(user, "person_id", None) == requester.pk
        and requester.grid_id == grid.pk
    )
    if actor is not None and not is_self and not scope_for(actor, Perm.HANDLE_ORDERS).covers(grid):
        raise PermissionDenied(_("You may not file work orders in this grid."))
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Say in a few words what is needed.")]
    if grid.kind != AreaKind.GRID:
        errors["grid"] = [_("A work order belongs to a grid.")]
    if not category.is_active:
        errors["category"] = [_("This category is no longer in use.")]
    if requester is not None and requester.grid_id != grid.pk:
        errors["requester"] = [_("The requester does not live in this grid.")]
    if source == Source.WORKER and channel and channel not in Channel.values:
        errors["channel"] = [_("Choose how the request came in.")]
    number = ""
    if phone:
        try:
            number = normalise_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    level = category.default_level
    if level == Level.DEPARTMENT:
        # A department is reached by whistling; the community starts the order off.
        level = Level.COMMUNITY
    order = WorkOrder(
        number="",
        category=category,
        title=title[:100],
        description=description.strip(),
        requester=requester,
        requester_user=user if is_self else None,
        contact_name=contact_name.strip()[:64] or (requester.name if requester else ""),
        grid=grid,
        level=level,
        status="",
        due_at=_due(category, level, now),
        source=source,
        channel=channel if source == Source.WORKER else "",
        location=location.strip()[:200],
        latitude=Decimal(str(latitude)) if latitude is not None else None,
        longitude=Decimal(str(longitude)) if longitude is not None else None,
        submitted_at=now,
        created_by=user,
        client_key=client_key[:64],
    )
    if number:
        order.phone_sealed = crypto.seal(number)
        order.phone_bidx = crypto.blind_index("phone", number)
        order.phone_masked = mask_phone(number)
    elif requester is not None and requester.phone_sealed:
        # The register already holds the requester's phone: copy it sealed, never in clear.
        order.phone_sealed = requester.phone_sealed
        order.phone_bidx = requester.phone_bidx
        order.phone_masked = requester.phone_masked
    order.save()
    order.number = f"GD{now:%Y%m%d}{order.pk:06d}"
    order.save(update_fields=["number"])
    event = _step(
        order,
        action="submit",
        actor=actor,
        now=now,
        note=order.title,
        data={"source": source, "channel": order.channel},
    )
    _store_photos(order, event, photos, actor)
    return order


# --- the grid (or the rung the order is on) -----------------------------------------------


@transaction.atomic
def order_accept(
    *, actor: Any, order: WorkOrder, note: str = "", now: dt.datetime | None = None
) -> WorkOrder:
    """The grid (or the rung the order is on) takes the request on (受理)."""
    now = _now(now)
    order = _locked(order)
    _require_handler(actor, order)
    order.accepted_at = order.accepted_at or now
    _step(order, action="accept", actor=actor, now=now, note=note, fields=["accepted_at"])
    return order


@transaction.atomic
def order_return(
    *, actor: Any, order: WorkOrder, reason: str, now: dt.datetime | None = None
) -> WorkOrder:
    """Send the request back to the requester with the reason (not ours, not a request …)."""
    now = _now(now)
    order = _locked(order)
    _require_handler(actor, order)
    reason = _check_note(reason, "reason", _("Say why the request is returned."))
    order.due_at = None
    order.closed_at = now
    _step(order, action="return", actor=actor, now=now, note=reason, fields=["due_at", "closed_at"])
    return order


def assignee_may_take(user: Any, order: WorkOrder) -> bool:
    """A person an order can be dispatched to: one who takes or handles orders in its grid."""
    return bool(
        getattr(user, "is_active", False)
        and (
            scope_for(user, Perm.TAKE_ORDERS).covers(order.grid)
            or scope_for(user, Perm.HANDLE_ORDERS).covers(order.grid)
        )
    )


@transaction.atomic
def order_dispatch(
    *, actor: Any, order: WorkOrder, assignee: Any, note: str = "", now: dt.datetime | None = None
) -> WorkOrder:
    """Dispatch the order to one person (a volunteer, a party member, a worker) (派单)."""
    now = _now(now)
    order = _locked(order)
    _require_handler(actor, order)
    if assignee is None or not assignee_may_take(assignee, order):
        raise ValidationError(
            {"assignee": [_("Choose a person who takes work orders in this grid.")]}
        )
    order.assignee = assignee
    _step(
        order,
        action="dispatch",
        actor=actor,
        now=now,
        note=note,
        data={"assignee": assignee.pk, "assignee_label": assignee.label},
        fields=["assignee"],
    )
    return order


@transaction.atomic
def order_open(
    *, actor: Any, order: WorkOrder, note: str = "", now: dt.datetime | None = None
) -> WorkOrder:
    """Open the order for the volunteers of its grid: the first who takes it has it."""
    now = _now(now)
    order = _locked(order)
    _require_handler(actor, order)
    order.assignee = None
    _step(order, action="open", actor=actor, now=now, note=note, fields=["assignee"])
    return order


# --- the person who does the work ---------------------------------------------------------


@transaction.atomic
def order_take(*, actor: Any, order: WorkOrder, now: dt.datetime | None = None) -> WorkOrder:
    """Take the order (接单): the person it was dispatched to, or a volunteer of the grid
    when it is open. The lock makes two volunteers taking at once end with one owner."""
    now = _now(now)
    order = _locked(order)
    transition_check("take", order.status)
    if actor is None or not may_take(actor, order):
        raise _deny()
    order.assignee = actor
    order.taken_at = now
    _step(order, action="take", actor=actor, now=now, fields=["assignee", "taken_at"])
    return order


@transaction.atomic
def order_start(
    *, actor: Any, order: WorkOrder, note: str = "", now: dt.datetime | None = None
) -> WorkOrder:
    """The one who took the order starts on it."""
    now = _now(now)
    order = _locked(order)
    _require_assignee_or_handler(actor, order)
    _step(order, action="start", actor=actor, now=now, note=note)
    return order


@transaction.atomic
def order_finish(
    *,
    actor: Any,
    order: WorkOrder,
    note: str,
    minutes_spent: int | None = None,
    photos: Sequence[CleanImage] = (),
    now: dt.datetime | None = None,
) -> WorkOrder:
    """Record the work done (留痕): what was done (required: a photo alone is no record),
    the minutes it took, photos. The order then waits for the requester's rating."""
    now = _now(now)
    order = _locked(order)
    _require_assignee_or_handler(actor, order)
    transition_check("finish", order.status)
    errors: dict[str, list[str]] = {}
    if not (note or "").strip():
        errors["note"] = [_("Write what was done; a photo alone is not a record of the work.")]
    if minutes_spent is not None and not 0 < minutes_spent <= 24 * 60 * 7:
        errors["minutes_spent"] = [_("Enter the minutes spent, between 1 and 10080.")]
    if errors:
        raise ValidationError(errors)
    order.done_at = now
    order.due_at = None
    event = _step(
        order,
        action="finish",
        actor=actor,
        now=now,
        note=note.strip(),
        minutes_spent=minutes_spent,
        fields=["done_at", "due_at"],
    )
    _store_photos(order, event, photos, actor)
    return order


# --- the requester ------------------------------------------------------------------------


def _after_rated(order: WorkOrder) -> None:
    """When a requester rates an order as fixed, the volunteer who did it claims its points.

    The claim awaits a grid worker's review like any other (points never post on a rating
    alone). An order that earns nothing (no rule here, too few stars, done by staff rather than
    a volunteer) is simply not claimed: the rating itself must not fail because of points.
    """
    if order.assignee is None:
        return
    try:
        with transaction.atomic():
            points_claim_for_order(order=order, volunteer_user=order.assignee)
    except (ValidationError, PermissionDenied):
        return


@transaction.atomic
def order_rate(
    *,
    actor: Any,
    order: WorkOrder,
    stars: int,
    words: str = "",
    fixed: bool = True,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """The requester rates the work (群众评单): stars 1–5, words, and whether it is fixed.

    Not fixed reopens the order at once. Fixed schedules the follow-up question. A worker may
    record a rating the requester gave by phone, but never the one who did the work.
    """
    now = _now(now)
    order = _locked(order)
    if (
        actor is not None
        and not is_requester(actor, order)
        and (not may_handle(actor, order) or order.assignee_id == actor.pk)
    ):
        raise _deny()
    transition_check("rate", order.status)
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationError({"stars": [_("Give one to five stars.")]})
    order.rating_stars = stars
    order.rating_words = (words or "").strip()[:300]
    order.rating_fixed = fixed
    order.rated_at = now
    fields = ["rating_stars", "rating_words", "rating_fixed", "rated_at"]
    if fixed:
        order.followup = FollowUp.SCHEDULED
        order.followup_at = now + dt.timedelta(days=followup_days())
        fields += ["followup", "followup_at"]
    _step(
        order,
        action="rate",
        actor=actor,
        now=now,
        note=order.rating_words,
        data={"stars": stars, "fixed": fixed},
        fields=fields,
    )
    if fixed:
        _after_rated(order)
    else:
        _reopen(order, actor=actor, now=now, reason=_("The requester says it is not fixed."))
    return order


def _reopen(order: WorkOrder, *, actor: Any, now: dt.datetime, reason: str) -> None:
    order.closed_at = None
    order.due_at = _due(order.category, order.level, now)
    if order.followup in (FollowUp.SCHEDULED, FollowUp.DUE):
        order.followup = FollowUp.NONE
        order.followup_at = None
    _step(
        order,
        action="reopen",
        actor=actor,
        now=now,
        note=reason,
        fields=["closed_at", "due_at", "followup", "followup_at"],
    )


@transaction.atomic
def order_reopen(
    *, actor: Any, order: WorkOrder, reason: str, now: dt.datetime | None = None
) -> WorkOrder:
    """Reopen a rated or closed order (it is not fixed after all); it goes back to be accepted."""
    now = _now(now)
    order = _locked(order)
    _require_requester_or_handler(actor, order)
    transition_check("reopen", order.status)
    reason = _check_note(reason, "reason", _("Say why the order is reopened."))
    _reopen(order, actor=actor, now=now, reason=reason)
    return order


@transaction.atomic
def order_followup_answer(
    *, actor: Any, order: WorkOrder, still_fixed: bool, now: dt.datetime | None = None
) -> WorkOrder:
    """The requester answers the follow-up question ("是否仍已解决？"): yes closes the order,
    no reopens it."""
    now = _now(now)
    order = _locked(order)
    if actor is not None and not is_requester(actor, order):
        raise _deny()
    transition_check("followup", order.status)
    if order.followup != FollowUp.DUE:
        raise ValidationError(_("There is no follow-up question waiting for an answer."))
    order.followup = FollowUp.YES if still_fixed else FollowUp.NO
    order.save(update_fields=["followup", "updated_at"])
    if still_fixed:
        if order.status == Status.RATED:
            order.closed_at = now
            _step(
                order,
                action="close",
                actor=actor,
                now=now,
                note=_("The requester confirms it is still fixed."),
                fields=["closed_at"],
            )
    else:
        _reopen(order, actor=actor, now=now, reason=_("The requester says it is no longer fixed."))
    return order


@transaction.atomic
def order_cancel(
    *, actor: Any, order: WorkOrder, reason: str = "", now: dt.datetime | None = None
) -> WorkOrder:
    """The requester withdraws the request before anybody has taken it."""
    now = _now(now)
    order = _locked(order)
    _require_requester_or_handler(actor, order)
    order.due_at = None
    order.closed_at = now
    _step(
        order,
        action="cancel",
        actor=actor,
        now=now,
        note=(reason or "").strip(),
        fields=["due_at", "closed_at"],
    )
    return order


@transaction.atomic
def order_close(
    *, actor: Any, order: WorkOrder, note: str = "", now: dt.datetime | None = None
) -> WorkOrder:
    """Close a rated order, or one a department has answered (back at the community)."""
    now = _now(now)
    order = _locked(order)
    _require_handler(actor, order)
    order.closed_at = now
    order.due_at = None
    _step(order, action="close", actor=actor, now=now, note=note, fields=["closed_at", "due_at"])
    return order


# --- the escalation ladder ----------------------------------------------------------------


def _next_level(level: str) -> str | None:
    i = LEVEL_ORDER.index(level)
    nxt = LEVEL_ORDER[i + 1] if i + 1 < len(LEVEL_ORDER) else None
    return None if nxt == Level.DEPARTMENT else nxt


@transaction.atomic
def order_escalate(
    *, actor: Any, order: WorkOrder, note: str = "", now: dt.datetime | None = None
) -> WorkOrder:
    """Move the order one rung up (grid → community → subdistrict); it keeps its state and
    gets the new rung's time limit. Past the subdistrict an order is whistled to a department.
    ``actor=None``: the escalation task, for an order past its time limit."""
    now = _now(now)
    order = _locked(order)
    _require_handler(actor, order)
    transition_check("escalate", order.status)
    to_level = _next_level(order.level)
    if to_level is None:
        raise ValidationError(
            _("An order at the subdistrict goes further by whistling a department.")
        )
    order.due_at = _due(order.category, to_level, now)
    _step(
        order,
        action="escalate",
        actor=actor,
        now=now,
        note=note or (_("Past its time limit.") if actor is None else ""),
        to_level=to_level,
        fields=["due_at"],
    )
    return order


def departments_serving(order: WorkOrder) -> list[Department]:
    """Departments whose area covers the order's grid, nearest first."""
    ids = [int(x) for x in order.grid.path.strip("/").split("/")]
    return list(
        Department.objects.filter(area_id__in=ids).select_related("area").order_by("-area__depth")
    )


@transaction.atomic
def order_whistle(
    *,
    actor: Any,
    order: WorkOrder,
    department: Department,
    note: str,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """The community (or the subdistrict) whistles a department (吹哨): the order goes to the
    department's queue with the department's time limit; it answers (报到) there."""
    now = _now(now)
    order = _locked(order)
    transition_check("whistle", order.status)
    from_level = order.level if order.level != Level.GRID else Level.COMMUNITY
    if actor is not None and not scope_for(actor, Perm.HANDLE_ORDERS).covers(
        level_area(order, from_level)
    ):
        raise PermissionDenied(_("Only the community or above may whistle a department."))
    if department.pk not in {d.pk for d in departments_serving(order)}:
        raise ValidationError({"department": [_("This department does not serve this grid.")]})
    note = _check_note(note, "note", _("Say what the department is asked to do."))
    order.department = department
    order.whistled_from = from_level
    order.whistled_at = now
    order.due_at = _due(order.category, Level.DEPARTMENT, now)
    _step(
        order,
        action="whistle",
        actor=actor,
        now=now,
        note=note,
        to_level=Level.DEPARTMENT,
        data={"department": department.pk, "department_name": department.name},
        fields=["department", "whistled_from", "whistled_at", "due_at"],
    )
    return order


@transaction.atomic
def order_answer(
    *, actor: Any, order: WorkOrder, note: str, now: dt.datetime | None = None
) -> WorkOrder:
    """The department answers (报到): what it did or decided. The order goes back to the
    rung that whistled, to be closed."""
    now = _now(now)
    order = _locked(order)
    if actor is not None and not is_department_member(actor, order):
        raise _deny()
    transition_check("answer", order.status)
    note = _check_note(note, "note", _("Write the department's answer."))
    order.answered_at = now
    order.due_at = None
    _step(
        order,
        action="answer",
        actor=actor,
        now=now,
        note=note,
        to_level=order.whistled_from or Level.COMMUNITY,
        fields=["answered_at", "due_at"],
    )
    return order


# --- what the background worker does ------------------------------------------------------


def orders_escalate_overdue(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Escalate every order past its time limit one rung; at the subdistrict, whistle the
    nearest department that takes its category. Each order in its own transaction, so one
    failure does not hold the others back. Returns counts of what was done."""
    now = _now(now)
    done = {"escalated": 0, "whistled": 0, "left": 0}
    overdue = WorkOrder.objects.filter(
        status__in=list(ESCALATABLE), due_at__lt=now, level__in=[Level.GRID, Level.COMMUNITY]
    ).values_list("pk", flat=True)
    for pk in list(overdue):
        order = WorkOrder.objects.get(pk=pk)
        order_escalate(actor=None, order=order, now=now)
        done["escalated"] += 1
    at_top = WorkOrder.objects.filter(
        status__in=list(WHISTLEABLE), due_at__lt=now, level=Level.SUBDISTRICT
    ).select_related("grid", "category")
    for order in list(at_top):
        candidates = [d for d in departments_serving(order) if order.category in d.categories.all()]
        if not candidates:
            done["left"] += 1
            continue
        order_whistle(
            actor=None,
            order=order,
            department=candidates[0],
            note=_("Past the subdistrict's time limit."),
            now=now,
        )
        done["whistled"] += 1
    return done


def orders_followup_due(*, now: dt.datetime | None = None) -> int:
    """Ask the follow-up question of every rated order whose day has come."""
    now = _now(now)
    count = 0
    pks = WorkOrder.objects.filter(followup=FollowUp.SCHEDULED, followup_at__lte=now).values_list(
        "pk", flat=True
    )
    for pk in list(pks):
        with transaction.atomic():
            order = _locked(WorkOrder(pk=pk))
            if order.followup != FollowUp.SCHEDULED:
                continue
            order.followup = FollowUp.DUE
            _step(
                order,
                action="followup",
                actor=None,
                now=now,
                note=_("Asked whether it is still fixed."),
                fields=["followup"],
            )
            count += 1
    return count


def is_overdue(order: WorkOrder, now: dt.datetime | None = None) -> bool:
    return bool(order.status in OPEN_STATES and order.due_at and order.due_at < _now(now))
