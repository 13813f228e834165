"""Writes of supplies: shopping lists of closed households and the community stock.

A shopping list goes through the work-order services of ``linli.orders`` (submit, accept,
open for the grid's volunteers, take, start = bought, finish = delivered, rate); this module
adds the list itself and the household's receipt. Stock changes are movements written under a
row lock on the item, so two workers issuing the last box at once end with one issue and a
clear refusal, never a negative quantity.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.emergency.models import Measure, Quarantine, QuarantineStatus
from linli.orders import services as orders
from linli.orders.models import OrderCategory, Source, Status
from linli.supplies.models import (
    SUPPLY_CATEGORY,
    MovementKind,
    RecipientKind,
    StockItem,
    StockMovement,
    SupplyItem,
    SupplyRequest,
)

MAX_ITEMS = 30
MAX_QUANTITY = 999
_LINE = re.compile(r"^(?P<name>.*?)[\s×xX*]*(?P<qty>\d+)\s*(?P<unit>[^\d\s]{0,10})$")


@dataclass(frozen=True)
class ItemLine:
    name: str
    quantity: int
    unit: str


def items_parse(text: str) -> list[ItemLine]:
    """One item a line: "大米 2 袋", "鸡蛋 x 10 个", "酱油" (one). Errors name the line."""
    lines = [ln.strip() for ln in (text or "").splitlines()]
    items: list[ItemLine] = []
    errors: list[str] = []
    for n, line in enumerate(lines, start=1):
        if not line:
            continue
        m = _LINE.match(line)
        if m and m.group("name").strip():
            name, qty, unit = m.group("name").strip(), int(m.group("qty")), m.group("unit")
        else:
            name, qty, unit = line, 1, ""
        if len(name) > 60:
            errors.append(_("Line %(n)s: the item name is too long.") % {"n": n})
        elif not 1 <= qty <= MAX_QUANTITY:
            errors.append(
                _("Line %(n)s: the quantity must be between 1 and %(max)s.")
                % {"n": n, "max": MAX_QUANTITY}
            )
        else:
            items.append(ItemLine(name, qty, unit))
    if not items and not errors:
        errors.append(_("Write at least one item, one a line."))
    if len(items) > MAX_ITEMS:
        errors.append(_("At most %(max)s items in one list.") % {"max": MAX_ITEMS})
    if errors:
        raise ValidationError({"items": errors})
    return items


def supply_category() -> OrderCategory:
    return OrderCategory.objects.get(code=SUPPLY_CATEGORY)


def may_post_for(quarantine: Quarantine) -> bool:
    """A list can be posted while the quarantine is active and its event runs supplies."""
    return quarantine.status == QuarantineStatus.ACTIVE and quarantine.event.has(Measure.SUPPLIES)


@transaction.atomic
def supply_request_post(
    *,
    actor: Any,
    quarantine: Quarantine,
    items_text: str,
    notes: str = "",
    delivery_note: str = "",
    payment_note: str = "",
    client_key: str = "",
    now: dt.datetime | None = None,
) -> SupplyRequest:
    """A closed household posts its shopping list (the caller has proven it is theirs: the
    portal by the verified phone or the signed-in resident; a worker by ``emergency.act``).

    The list becomes a work order of the supplies category, filed by the system for the
    household, accepted and opened at once for the volunteers of the grid (a closed household
    cannot wait for office hours). The same ``client_key`` returns the list already posted.
    """
    now = now or timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    if (
        user is not None
        and getattr(user, "person_id", None) is None
        and not scope_for(user, Perm.ACT_EMERGENCY).covers(quarantine.grid)
    ):
        raise PermissionDenied(_("You may not post lists for this household."))
    quarantine = (
        Quarantine.objects.select_for_update(of=("self",))
        .select_related("event", "grid")
        .get(pk=quarantine.pk)
    )
    # After the lock: a retry racing the first post waits for it, then finds its list.
    if client_key:
        existing = SupplyRequest.objects.filter(quarantine=quarantine, client_key=client_key)
        if existing.exists():
            return existing.get()
    if not may_post_for(quarantine):
        raise ValidationError(
            _("Shopping lists are taken only for households under an active quarantine.")
        )
    lines = items_parse(items_text)
    summary = "、".join(i.name for i in lines[:3])
    title = _("Supplies: %(items)s") % {"items": summary}
    if len(lines) > 3:
        title += _(" and %(n)s more") % {"n": len(lines) - 3}
    description = "\n".join(f"· {i.name} {i.quantity}{i.unit}" for i in lines)
    extra = [
        (_("Notes"), notes.strip()),
        (_("Where to leave it"), delivery_note.strip()),
        (_("Budget and payment"), payment_note.strip()),
    ]
    description += "".join(
        "\n" + _("%(label)s: %(text)s") % {"label": label, "text": text}
        for label, text in extra
        if text
    )
    order = orders.order_submit(
        actor=None,
        category=supply_category(),
        title=title[:100],
        grid=quarantine.grid,
        description=description,
        requester=quarantine.person if quarantine.person_id else None,
        contact_name=quarantine.name,
        source=Source.MEASURE,
        location=quarantine.address,
        now=now,
    )
    if not order.phone_sealed and quarantine.phone_sealed:
        # Not in the register: the quarantine's sealed phone reaches them.
        order.phone_sealed = quarantine.phone_sealed
        order.phone_bidx = quarantine.phone_bidx
        order.phone_masked = quarantine.phone_masked
        order.save(update_fields=["phone_sealed", "phone_bidx", "phone_masked"])
    if user is not None and getattr(user, "person_id", None) == order.requester_id:
        order.requester_user = user
        order.save(update_fields=["requester_user"])
    order = orders.order_accept(actor=None, order=order, note=_("Shopping list"), now=now)
    order = orders.order_open(actor=None, order=order, now=now)
    try:
        with transaction.atomic():
            request = SupplyRequest.objects.create(
                quarantine=quarantine,
                order=order,
                grid=quarantine.grid,
                notes=notes.strip()[:300],
                delivery_note=delivery_note.strip()[:200],
                payment_note=payment_note.strip()[:200],
                client_key=client_key[:64],
            )
    except IntegrityError:
        # The same key raced in: the first list stands; this whole transaction rolls back.
        raise ValidationError(_("This list was already posted.")) from None
    SupplyItem.objects.bulk_create(
        [SupplyItem(request=request, name=i.name, quantity=i.quantity, unit=i.unit) for i in lines]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=request,
        area=quarantine.grid,
        object_label=order.number,
        changes={"items": len(lines), "order": order.number},
    )
    return request


@transaction.atomic
def supply_request_receive(
    *,
    actor: Any,
    request: SupplyRequest,
    stars: int = 5,
    words: str = "",
    now: dt.datetime | None = None,
) -> SupplyRequest:
    """The household confirms the goods arrived; this rates the order as done (the caller has
    proven the household is the one asking). Confirming twice keeps the first receipt."""
    now = now or timezone.now()
    request = (
        SupplyRequest.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=request.pk)
    )
    if request.received_at is not None:
        return request
    if request.order.status != Status.DONE:
        raise ValidationError(
            _("The list is not delivered yet. Confirm when the goods have arrived.")
        )
    user = actor if getattr(actor, "is_authenticated", False) else None
    # A household without a portal account rates through the system (actor None): the portal
    # has already matched its verified phone to the quarantine.
    rater = user if user is not None and orders.is_requester(user, request.order) else None
    orders.order_rate(
        actor=rater, order=request.order, stars=stars, words=words, fixed=True, now=now
    )
    request.received_at = now
    request.received_note = (words or "").strip()[:300]
    request.save(update_fields=["received_at", "received_note", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=request,
        area=request.grid,
        object_label=request.order.number,
        changes={"received": True},
    )
    return request


def supply_path(request: SupplyRequest) -> list[dict[str, Any]]:
    """The whole path a household and a worker see: posted, taken (by whom), bought,
    delivered, received; each with its time or None while ahead."""
    order = request.order
    by_action: dict[str, Any] = {}
    for event in order.events.select_related("actor").order_by("at", "id"):
        by_action[event.action] = event
    taken = by_action.get("take")
    started = by_action.get("start")
    finished = by_action.get("finish")
    return [
        {"key": "posted", "label": _("Posted"), "at": order.submitted_at, "who": ""},
        {
            "key": "taken",
            "label": _("Taken"),
            "at": taken.at if taken else None,
            "who": taken.actor.label if taken and taken.actor else "",
        },
        {
            "key": "bought",
            "label": _("Bought"),
            "at": started.at if started else None,
            "who": started.note if started else "",
        },
        {
            "key": "delivered",
            "label": _("Delivered to the door"),
            "at": finished.at if finished else None,
            "who": finished.note if finished else "",
        },
        {
            "key": "received",
            "label": _("Receipt confirmed"),
            "at": request.received_at,
            "who": request.received_note,
        },
    ]


# --- stock --------------------------------------------------------------------------------


def _require_stock(actor: Any, area: Area) -> None:
    if actor is not None and not scope_for(actor, Perm.MANAGE_STOCK).covers(area):
        raise PermissionDenied(_("You may not keep the stock of this store."))


@transaction.atomic
def stock_item_create(
    *,
    actor: Any,
    area: Area,
    name: str,
    unit: str,
    low_threshold: int = 0,
    note: str = "",
) -> StockItem:
    """Add a kind of supply to a store (a community or a grid), empty: stock comes in as a
    receipt so that every unit on hand has a movement behind it."""
    _require_stock(actor, area)
    errors: dict[str, list[str]] = {}
    name, unit = (name or "").strip(), (unit or "").strip()
    if area.kind not in (AreaKind.COMMUNITY, AreaKind.GRID):
        errors["area"] = [_("A store belongs to a community or a grid.")]
    if not name:
        errors["name"] = [_("Name the supply.")]
    elif StockItem.objects.filter(area=area, name=name).exists():
        errors["name"] = [_("This store already keeps an item of this name.")]
    if not unit:
        errors["unit"] = [_("Give the unit it is counted in (box, bottle …).")]
    if low_threshold < 0:
        errors["low_threshold"] = [_("The threshold cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    item = StockItem.objects.create(
        area=area, name=name[:60], unit=unit[:10], low_threshold=low_threshold, note=note[:200]
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=item, area=area, object_label=name)
    return item


def _move(
    *,
    actor: Any,
    item: StockItem,
    kind: str,
    delta: int,
    reason: str,
    recipient_kind: str = "",
    recipient: str = "",
    reverses: StockMovement | None = None,
    client_key: str = "",
    now: dt.datetime | None = None,
) -> StockMovement:
    """Lock the item, apply *delta*, write the movement and the audit entry."""
    locked = StockItem.objects.select_for_update().get(pk=item.pk)
    # After the lock: a double tap racing the first waits for it, then finds its movement.
    if client_key:
        done = StockMovement.objects.filter(item=item, client_key=client_key).first()
        if done is not None:
            return done
    if locked.quantity + delta < 0:
        raise ValidationError(
            {
                "quantity": [
                    _("Only %(n)s %(unit)s on hand; cannot take out %(want)s.")
                    % {"n": locked.quantity, "unit": locked.unit, "want": -delta}
                ]
            }
        )
    locked.quantity += delta
    locked.save(update_fields=["quantity", "updated_at"])
    movement = StockMovement.objects.create(
        item=locked,
        kind=kind,
        delta=delta,
        balance_after=locked.quantity,
        recipient_kind=recipient_kind,
        recipient=recipient[:100],
        reason=reason[:200],
        reverses=reverses,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        client_key=client_key[:64],
        at=now or timezone.now(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=locked,
        area=locked.area,
        object_label=locked.name,
        reason=reason[:200],
        changes={"kind": kind, "delta": delta, "balance": locked.quantity},
    )
    item.quantity = locked.quantity
    return movement


def _positive(quantity: Any) -> int:
    if not isinstance(quantity, int) or not 0 < quantity <= 1_000_000:
        raise ValidationError({"quantity": [_("Enter a whole number greater than zero.")]})
    return quantity


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why (for the record).")]})
    return reason


@transaction.atomic
def stock_receive(
    *,
    actor: Any,
    item: StockItem,
    quantity: int,
    reason: str,
    client_key: str = "",
    now: dt.datetime | None = None,
) -> StockMovement:
    """Supplies come into the store (a delivery, a donation)."""
    _require_stock(actor, item.area)
    return _move(
        actor=actor,
        item=item,
        kind=MovementKind.RECEIPT,
        delta=_positive(quantity),
        reason=_reason(reason),
        client_key=client_key,
        now=now,
    )


@transaction.atomic
def stock_issue(
    *,
    actor: Any,
    item: StockItem,
    quantity: int,
    recipient_kind: str,
    recipient: str,
    reason: str,
    client_key: str = "",
    now: dt.datetime | None = None,
) -> StockMovement:
    """Issue supplies to a household, a person, a checkpoint or a volunteer, with the reason.
    Refused, changing nothing, when the store holds fewer than asked."""
    _require_stock(actor, item.area)
    errors: dict[str, list[str]] = {}
    if recipient_kind not in RecipientKind.values:
        errors["recipient_kind"] = [_("Choose whom it is issued to.")]
    if not (recipient or "").strip():
        errors["recipient"] = [_("Name the recipient (household, person, checkpoint …).")]
    if errors:
        raise ValidationError(errors)
    return _move(
        actor=actor,
        item=item,
        kind=MovementKind.ISSUE,
        delta=-_positive(quantity),
        reason=_reason(reason),
        recipient_kind=recipient_kind,
        recipient=recipient.strip(),
        client_key=client_key,
        now=now,
    )


@transaction.atomic
def stock_adjust(
    *,
    actor: Any,
    item: StockItem,
    counted: int,
    reason: str,
    client_key: str = "",
    now: dt.datetime | None = None,
) -> StockMovement:
    """After a count: one movement bringing the quantity to what was *counted*."""
    _require_stock(actor, item.area)
    if not isinstance(counted, int) or counted < 0:
        raise ValidationError({"counted": [_("Enter the number counted (zero or more).")]})
    reason = _reason(reason)
    locked = StockItem.objects.select_for_update().get(pk=item.pk)
    if client_key:
        done = StockMovement.objects.filter(item=item, client_key=client_key).first()
        if done is not None:
            return done
    return _move(
        actor=actor,
        item=locked,
        kind=MovementKind.ADJUSTMENT,
        delta=counted - locked.quantity,
        reason=reason,
        client_key=client_key,
        now=now,
    )


@transaction.atomic
def stock_reverse(
    *, actor: Any, movement: StockMovement, reason: str, now: dt.datetime | None = None
) -> StockMovement:
    """Undo a wrong movement with its opposite; the wrong one stays in the history. A
    movement is reversed at most once, and a reversal is not itself reversed."""
    movement = StockMovement.objects.select_related("item__area").get(pk=movement.pk)
    _require_stock(actor, movement.item.area)
    reason = _reason(reason)
    if movement.kind == MovementKind.REVERSAL:
        raise ValidationError(_("A reversal cannot be reversed; record a new movement."))
    if StockMovement.objects.filter(reverses=movement).exists():
        raise ValidationError(_("This movement is already reversed."))
    try:
        with transaction.atomic():
            return _move(
                actor=actor,
                item=movement.item,
                kind=MovementKind.REVERSAL,
                delta=-movement.delta,
                reason=reason,
                recipient_kind=movement.recipient_kind,
                recipient=movement.recipient,
                reverses=movement,
                now=now,
            )
    except IntegrityError:
        raise ValidationError(_("This movement is already reversed.")) from None
