"""Workbench pages of work orders (/w/orders/): boards, the order page with its actions,
filing on a resident's behalf, statistics; and the scoped photo download for both faces.

Thin: parse, call a selector or a service, render. Orders outside the user's sight answer 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.feedback import add_service_errors
from linli.core.scoping import scope_for
from linli.orders import selectors as sel
from linli.orders import services as svc
from linli.orders.forms import ActionForm, CategoryForm, WorkerOrderForm
from linli.orders.models import OrderCategory, Source, WorkOrder
from linli.orders.workflow import ACTION_LABELS
from linli.register.models import Person
from linli.workbench.views.common import paginate, perm_required, pk_or_404, staff_required

BOARD_LABELS = {
    "mine": gettext_lazy("My orders"),
    "grid": gettext_lazy("My grid's orders"),
    "overdue": gettext_lazy("Overdue"),
    "rating": gettext_lazy("Awaiting rating"),
    "department": gettext_lazy("Department queue"),
    "open": gettext_lazy("Open for taking"),
    "closed": gettext_lazy("Finished"),
}


@staff_required
def board(request: HttpRequest) -> HttpResponse:
    """The boards: my orders, my grid's, overdue, awaiting rating, department queue, open."""
    user: Any = request.user
    names = sel.boards_for(user)
    if not names:
        raise PermissionDenied
    now = timezone.now()
    counts = sel.board_counts(user=user, now=now)
    # Without a choice, open the first board that holds something (a community head has no
    # orders of their own but their grids' orders), else the first one.
    default = next((n for n in names if counts[n]), names[0])
    name = request.GET.get("board") or default
    if name not in names:
        raise Http404
    page = paginate(request, sel.board(user=user, name=name, now=now))
    return render(
        request,
        "orders/workbench/board.html",
        {
            "boards": [(n, BOARD_LABELS[n], counts[n]) for n in names],
            "current": name,
            "current_label": BOARD_LABELS[name],
            "page": page,
            "now": now,
            "can_file": not scope_for(user, Perm.HANDLE_ORDERS).is_empty,
            "can_stats": not scope_for(user, Perm.VIEW_ORDERS).is_empty,
            "can_categories": not scope_for(user, Perm.MANAGE_ORDER_CATEGORIES).is_empty,
        },
    )


def _detail_context(
    request: HttpRequest, order: WorkOrder, form: ActionForm | None = None, failed: str = ""
) -> dict[str, Any]:
    user: Any = request.user
    actions = sel.order_actions(user=user, order=order)
    return {
        "order": order,
        "timeline": sel.order_timeline(order=order),
        "actions": [(a, ACTION_LABELS[a]) for a in actions],
        "action_names": actions,
        "assignees": sel.assignee_choices(order=order) if "dispatch" in actions else [],
        "departments": sel.department_choices(order=order) if "whistle" in actions else [],
        "form": form or ActionForm(),
        "failed": failed,
        "overdue": svc.is_overdue(order),
        "attachments": list(order.attachments.all()),
    }


@staff_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One order: its details, timeline with photos, and the actions this user may take."""
    order = sel.order_get(user=request.user, pk=pk)
    return render(request, "orders/workbench/detail.html", _detail_context(request, order))


def _run(action: str, *, actor: Any, order: WorkOrder, data: dict[str, Any], form: Any) -> None:
    """Call the service behind *action* with what the form carried."""
    note = data.get("note") or ""
    if action == "accept":
        svc.order_accept(actor=actor, order=order, note=note)
    elif action == "return":
        svc.order_return(actor=actor, order=order, reason=data.get("reason") or note)
    elif action == "dispatch":
        choices = {u.pk: u for u in sel.assignee_choices(order=order)}
        svc.order_dispatch(
            actor=actor, order=order, assignee=choices.get(data.get("assignee") or 0), note=note
        )
    elif action == "open":
        svc.order_open(actor=actor, order=order, note=note)
    elif action == "take":
        svc.order_take(actor=actor, order=order)
    elif action == "start":
        svc.order_start(actor=actor, order=order, note=note)
    elif action == "finish":
        svc.order_finish(
            actor=actor,
            order=order,
            note=note,
            minutes_spent=data.get("minutes_spent"),
            photos=form.photos(),
        )
    elif action == "rate":
        if data.get("stars") is None:
            raise ValidationError({"stars": [_("Give one to five stars.")]})
        svc.order_rate(
            actor=actor,
            order=order,
            stars=data["stars"],
            words=data.get("words") or "",
            fixed=data.get("fixed", True),
        )
    elif action == "reopen":
        svc.order_reopen(actor=actor, order=order, reason=data.get("reason") or note)
    elif action == "close":
        svc.order_close(actor=actor, order=order, note=note)
    elif action == "cancel":
        svc.order_cancel(actor=actor, order=order, reason=data.get("reason") or note)
    elif action == "escalate":
        svc.order_escalate(actor=actor, order=order, note=note)
    elif action == "whistle":
        departments = {d.pk: d for d in sel.department_choices(order=order)}
        department = departments.get(data.get("department") or 0)
        if department is None:
            raise ValidationError({"department": [_("Choose the department to whistle.")]})
        svc.order_whistle(actor=actor, order=order, department=department, note=note)
    elif action == "answer":
        svc.order_answer(actor=actor, order=order, note=note)
    else:
        raise Http404


WORKBENCH_ACTIONS = frozenset(
    {
        "accept",
        "return",
        "dispatch",
        "open",
        "take",
        "start",
        "finish",
        "rate",
        "reopen",
        "close",
        "cancel",
        "escalate",
        "whistle",
        "answer",
    }
)


@staff_required
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST one action on the order; a refusal re-renders the page with the typed input."""
    order = sel.order_get(user=request.user, pk=pk)
    if action not in WORKBENCH_ACTIONS:
        raise Http404
    if request.method != "POST":
        return redirect("orders:order_detail", pk=order.pk)
    form = ActionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            _run(action, actor=request.user, order=order, data=form.cleaned_data, form=form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Done: %(action)s, order %(number)s.")
                % {"action": ACTION_LABELS[action], "number": order.number},
            )
            # The doer may no longer see an order they passed on (e.g. escalated): go to the board.
            if sel.orders_visible(request.user).filter(pk=order.pk).exists():
                return redirect("orders:order_detail", pk=order.pk)
            return redirect("orders:board")
    order = sel.order_get(user=request.user, pk=pk)
    return render(
        request,
        "orders/workbench/detail.html",
        _detail_context(request, order, form=form, failed=action),
        status=422,
    )


@staff_required
def order_create(request: HttpRequest) -> HttpResponse:
    """A worker files a request for a resident (phone call, walk-in, pasted WeChat message)."""
    user: Any = request.user
    grids = Area.objects.restrict(user, Perm.HANDLE_ORDERS).filter(kind=AreaKind.GRID)
    if not grids.exists():
        raise PermissionDenied
    person = None
    if request.GET.get("person"):
        person = (
            Person.objects.restrict(user, Perm.VIEW_REGISTER)
            .filter(pk=pk_or_404(request.GET["person"]))
            .first()
        )
        if person is None:
            raise Http404
    initial: dict[str, Any] = {}
    if person is not None:
        initial = {"grid": person.grid_id, "contact_name": person.name}
    form = WorkerOrderForm(
        request.POST or None, request.FILES or None, grids=grids, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        requester = person if person is not None and person.grid_id == data["grid"].pk else None
        try:
            order = svc.order_submit(
                actor=user,
                category=data["category"],
                title=data["title"],
                description=data["description"],
                grid=data["grid"],
                requester=requester,
                contact_name=data["contact_name"],
                phone=data["phone"],
                source=Source.WORKER,
                channel=data["channel"],
                location=data["location"],
                photos=form.photos(),
                client_key=data["client_key"] or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Work order %(number)s is filed.") % {"number": order.number}
            )
            return redirect("orders:order_detail", pk=order.pk)
    return render(request, "orders/workbench/create.html", {"form": form, "person": person})


@staff_required
def stats(request: HttpRequest) -> HttpResponse:
    """Counts and median times per grid, person, category and department, in scope."""
    if scope_for(request.user, Perm.VIEW_ORDERS).is_empty:
        raise PermissionDenied
    data = sel.order_stats(user=request.user)
    tables = [
        ("grid", _("Per grid"), _("Median time to accept"), data["grid"]),
        ("category", _("Per category"), _("Median time to accept"), data["category"]),
        ("person", _("Per person"), _("Median time from taking to done"), data["person"]),
        ("department", _("Per department"), _("Median time to answer"), data["department"]),
    ]
    return render(request, "orders/workbench/stats.html", {"tables": tables})


def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A photo of an order, for whoever may see the order (staff, volunteer, department or the
    requester); 404 for everyone else, signed in or not."""
    att = sel.attachment_get(user=request.user, pk=pk)
    path = (svc.files_dir() / att.path).resolve()
    if not path.is_relative_to(svc.files_dir().resolve()) or not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), content_type=att.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="{att.order.number}-{att.pk}.jpg"'
    return response


# --- categories (one set for the deployment, like tags) ------------------------------------


@perm_required(Perm.MANAGE_ORDER_CATEGORIES)
def category_list(request: HttpRequest) -> HttpResponse:
    """Every work-order category, in use or not, with its level and time limits."""
    return render(
        request, "orders/workbench/categories.html", {"categories": OrderCategory.objects.all()}
    )


def _category_form_page(request: HttpRequest, category: OrderCategory | None) -> HttpResponse:
    user: Any = request.user
    # A new category starts from the model's defaults (24/48/72/120 hours, in use).
    shown = category if category is not None else OrderCategory()
    initial = {f: getattr(shown, f) for f in svc.CATEGORY_FIELDS}
    form = CategoryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in svc.CATEGORY_FIELDS}
        try:
            if category is None:
                saved = svc.category_create(actor=user, code=form.cleaned_data["code"], **data)
            else:
                saved = svc.category_update(actor=user, category=category, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Category “%(name)s” is saved.") % {"name": saved.name})
            return redirect("orders:category_list")
    return render(
        request,
        "orders/workbench/category_form.html",
        {"form": form, "category": category},
        status=422 if request.method == "POST" else 200,
    )


@perm_required(Perm.MANAGE_ORDER_CATEGORIES)
def category_create(request: HttpRequest) -> HttpResponse:
    """A new category; a refused form comes back with what was typed."""
    return _category_form_page(request, None)


@perm_required(Perm.MANAGE_ORDER_CATEGORIES)
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a category (its code stays)."""
    return _category_form_page(request, get_object_or_404(OrderCategory, pk=pk))
