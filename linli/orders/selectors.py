"""Reads of work orders, each for an acting user, through the scoping layer.

Who sees an order:
- staff holding ``orders.view`` on its grid (workers of the grid and every node above);
- a volunteer holding ``orders.take`` on its grid: the orders open for taking and their own;
- a department liaison holding ``orders.answer`` on its grid: what was whistled to their
  department;
- the resident who asked (the portal, ``portal_orders``).
Anything else answers 404.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from linli.accounts.models import RoleBinding, User
from linli.accounts.roles import ROLE_PERMS, Perm
from linli.core.scoping import scope_for
from linli.orders import services as svc
from linli.orders.models import (
    Department,
    OrderAttachment,
    OrderEvent,
    Status,
    WorkOrder,
)
from linli.orders.workflow import OPEN_STATES, allowed_from

_RELATED = ("grid", "category", "assignee", "department", "requester")


def orders_visible(user: Any) -> QuerySet[WorkOrder]:
    """Every order *user* may look at (staff, volunteers, departments)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return WorkOrder.objects.none()
    q = Q(pk__in=[])
    view = scope_for(user, Perm.VIEW_ORDERS)
    if not view.is_empty:
        q |= WorkOrder.scope_q(view)
    take = scope_for(user, Perm.TAKE_ORDERS)
    if not take.is_empty:
        q |= WorkOrder.scope_q(take) & (Q(status=Status.OPENED) | Q(assignee=user))
    answer = scope_for(user, Perm.ANSWER_ORDERS)
    if not answer.is_empty:
        q |= WorkOrder.scope_q(answer) & Q(
            department__in=Department.objects.filter(members=user).values("pk")
        )
    return WorkOrder.objects.filter(q).select_related(*_RELATED)


def order_get(*, user: Any, pk: int) -> WorkOrder:
    """One order the user may see, or 404."""
    order = orders_visible(user).filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


def portal_orders(*, user: Any) -> QuerySet[WorkOrder]:
    """The resident's own requests: filed on the portal, or on their behalf."""
    if user is None or not getattr(user, "is_authenticated", False):
        return WorkOrder.objects.none()
    q = Q(requester_user=user)
    if getattr(user, "person_id", None):
        q |= Q(requester_id=user.person_id)
    return WorkOrder.objects.filter(q).select_related(*_RELATED).order_by("-submitted_at", "-id")


def portal_order(*, user: Any, pk: int) -> WorkOrder:
    order = portal_orders(user=user).filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


def order_timeline(*, order: WorkOrder) -> list[OrderEvent]:
    """The order's events, oldest first, with their photos (the caller already sees the order)."""
    return list(
        OrderEvent.objects.filter(order=order)
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )


def attachment_get(*, user: Any, pk: int) -> OrderAttachment:
    """A photo of an order the user may see (as staff, volunteer, department or requester)."""
    att = (
        OrderAttachment.objects.filter(pk=pk)
        .filter(
            Q(order__in=orders_visible(user).values("pk"))
            | Q(order__in=portal_orders(user=user).values("pk"))
        )
        .first()
    )
    if att is None:
        raise Http404
    return att


# --- boards --------------------------------------------------------------------------------

BOARDS = ("mine", "grid", "overdue", "rating", "department", "open", "closed")


def boards_for(user: Any) -> list[str]:
    """The boards a user has: staff see the grid boards, volunteers the open orders,
    departments their queue."""
    names = []
    staff = not scope_for(user, Perm.VIEW_ORDERS).is_empty
    if staff or not scope_for(user, Perm.TAKE_ORDERS).is_empty:
        names.append("mine")
    if staff:
        names += ["grid", "overdue", "rating"]
    if not scope_for(user, Perm.TAKE_ORDERS).is_empty:
        names.append("open")
    if not scope_for(user, Perm.ANSWER_ORDERS).is_empty:
        names.append("department")
    if staff:
        names.append("closed")
    return names


def board(*, user: Any, name: str, now: dt.datetime | None = None) -> QuerySet[WorkOrder]:
    """The orders of one board, most urgent first."""
    now = now or timezone.now()
    qs = orders_visible(user)
    if name == "mine":
        qs = qs.filter(assignee=user).exclude(status__in=[Status.CLOSED, Status.CANCELLED])
    elif name == "grid":
        qs = qs.filter(
            WorkOrder.scope_q(scope_for(user, Perm.VIEW_ORDERS)), status__in=list(OPEN_STATES)
        )
    elif name == "overdue":
        qs = qs.filter(status__in=list(OPEN_STATES), due_at__lt=now)
    elif name == "rating":
        qs = qs.filter(status=Status.DONE)
    elif name == "department":
        qs = qs.filter(
            department__in=Department.objects.filter(members=user).values("pk"),
            status=Status.WHISTLED,
        )
    elif name == "open":
        qs = qs.filter(WorkOrder.scope_q(scope_for(user, Perm.TAKE_ORDERS)), status=Status.OPENED)
    elif name == "closed":
        qs = qs.exclude(status__in=list(OPEN_STATES))
        return qs.order_by("-updated_at", "-id")
    else:
        raise Http404
    return qs.order_by("due_at", "submitted_at", "id")


def board_counts(*, user: Any, now: dt.datetime | None = None) -> dict[str, int]:
    return {name: board(user=user, name=name, now=now).count() for name in boards_for(user)}


# --- what a user may do with an order -----------------------------------------------------


def order_actions(*, user: Any, order: WorkOrder) -> list[str]:
    """The actions to offer *user* on the order page: allowed from its state and by their role.

    The services check again; this only decides which buttons to show.
    """
    actions = []
    handler = svc.may_handle(user, order)
    is_assignee = order.assignee_id is not None and order.assignee_id == user.pk
    for action in ("accept", "return", "dispatch", "open", "escalate", "close"):
        if handler and allowed_from(action, order.status):
            if action == "escalate" and order.level not in ("grid", "community"):
                continue
            actions.append(action)
    if allowed_from("whistle", order.status) and scope_for(user, Perm.HANDLE_ORDERS).covers(
        svc.level_area(order, "community" if order.level == "grid" else order.level)
    ):
        actions.append("whistle")
    if allowed_from("take", order.status) and svc.may_take(user, order):
        actions.append("take")
    for action in ("start", "finish"):
        if allowed_from(action, order.status) and (is_assignee or handler):
            actions.append(action)
    if allowed_from("answer", order.status) and svc.is_department_member(user, order):
        actions.append("answer")
    if handler and allowed_from("rate", order.status) and not is_assignee:
        actions.append("rate")
    if handler and allowed_from("cancel", order.status):
        actions.append("cancel")
    if handler and allowed_from("reopen", order.status):
        actions.append("reopen")
    return actions


def assignee_choices(*, order: WorkOrder) -> list[User]:
    """People the order may be dispatched to: active users who take or handle orders on a node
    at or above its grid (volunteers first)."""
    roles = [r for r, perms in ROLE_PERMS.items() if Perm.TAKE_ORDERS in perms]
    ids = [int(x) for x in order.grid.path.strip("/").split("/")]
    bindings = (
        RoleBinding.objects.filter(
            is_active=True, role__in=roles, area_id__in=ids, user__is_active=True
        )
        .select_related("user")
        .order_by("role", "user__username")
    )
    seen: dict[int, User] = {}
    for b in sorted(bindings, key=lambda b: (b.role != "volunteer", b.user.username)):
        seen.setdefault(b.user_id, b.user)
    return list(seen.values())


def department_choices(*, order: WorkOrder) -> list[Department]:
    return svc.departments_serving(order)


# --- statistics ---------------------------------------------------------------------------


def _hours(a: dt.datetime | None, b: dt.datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds() / 3600


def _table(rows: dict[str, list[float | None]]) -> list[dict[str, Any]]:
    out = []
    for key, values in sorted(rows.items()):
        times = [v for v in values if v is not None]
        out.append(
            {
                "key": key,
                "count": len(values),
                "measured": len(times),
                "median_hours": round(statistics.median(times), 1) if times else None,
            }
        )
    return out


def order_stats(*, user: Any) -> dict[str, list[dict[str, Any]]]:
    """Counts and median times, in the user's scope (orders.view).

    - per grid and per category: orders filed, median hours from filing to acceptance;
    - per person: orders taken, median hours from taking to done;
    - per department: orders whistled, median hours from whistle to answer.
    """
    qs = WorkOrder.objects.restrict(user, Perm.VIEW_ORDERS).select_related(
        "grid", "category", "assignee", "department"
    )
    by_grid: dict[str, list[float | None]] = defaultdict(list)
    by_category: dict[str, list[float | None]] = defaultdict(list)
    by_person: dict[str, list[float | None]] = defaultdict(list)
    by_department: dict[str, list[float | None]] = defaultdict(list)
    for o in qs.iterator(chunk_size=2000):
        response = _hours(o.submitted_at, o.accepted_at)
        by_grid[o.grid.name].append(response)
        by_category[o.category.label].append(response)
        if o.assignee is not None and o.taken_at is not None:
            by_person[o.assignee.label].append(_hours(o.taken_at, o.done_at))
        if o.department is not None:
            by_department[o.department.name].append(_hours(o.whistled_at, o.answered_at))
    return {
        "grid": _table(by_grid),
        "category": _table(by_category),
        "person": _table(by_person),
        "department": _table(by_department),
    }
