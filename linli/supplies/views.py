"""Pages of supplies: the workbench board of shopping lists and the community stock (/w/supplies/),
and the household's own lists on the portal (/p/supplies/). Thin: resolve through a scoped
selector (404 outside scope), call a service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import AreaKind
from linli.areas.selectors import areas_visible
from linli.core.feedback import add_service_errors, flash_error
from linli.emergency.views_portal import _identity as identity
from linli.supplies import forms as f
from linli.supplies import selectors as sel
from linli.supplies import services as svc
from linli.supplies.models import StockItem
from linli.workbench.views.common import paginate, perm_required

BOARD_TABS = [
    ("open", gettext_lazy("Waiting or under way")),
    ("delivered", gettext_lazy("Delivered, not confirmed")),
    ("received", gettext_lazy("Receipt confirmed")),
    ("all", gettext_lazy("All")),
]


@perm_required(Perm.VIEW_SUPPLIES)
def request_board(request: HttpRequest) -> HttpResponse:
    """Shopping lists of closed households in the user's nodes, with where each one is."""
    user: Any = request.user
    tab = request.GET.get("tab", "open")
    qs = sel.requests_visible(user)
    if tab == "open":
        qs = qs.filter(received_at__isnull=True).exclude(order__status__in=["done", "cancelled"])
    elif tab == "delivered":
        qs = qs.filter(received_at__isnull=True, order__status="done")
    elif tab == "received":
        qs = qs.filter(received_at__isnull=False)
    page = paginate(request, qs)
    return render(
        request,
        "supplies/request_board.html",
        {"page": page, "tab": tab, "tabs": [(k, str(v)) for k, v in BOARD_TABS]},
    )


@perm_required(Perm.VIEW_SUPPLIES)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    req = get_object_or_404(sel.requests_visible(user), pk=pk)
    return render(
        request,
        "supplies/request_detail.html",
        {"req": req, "path": svc.supply_path(req), "items": req.items.all()},
    )


# --- stock --------------------------------------------------------------------------------


def _store_choices(user: Any) -> Any:
    return (
        areas_visible(user, Perm.MANAGE_STOCK)
        .filter(kind__in=[AreaKind.COMMUNITY, AreaKind.GRID])
        .order_by("path")
    )


@perm_required(Perm.MANAGE_STOCK)
def stock_list(request: HttpRequest) -> HttpResponse:
    """Every item of the stores in the user's nodes; low ones first and marked."""
    user: Any = request.user
    items = list(sel.stock_visible(user))
    low = [i for i in items if i.is_low]
    return render(
        request,
        "supplies/stock_list.html",
        {"items": low + [i for i in items if not i.is_low], "low_count": len(low)},
    )


@perm_required(Perm.MANAGE_STOCK)
def stock_item_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = f.StockItemForm(request.POST or None, areas=_store_choices(user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            item = svc.stock_item_create(
                actor=user,
                area=d["area"],
                name=d["name"],
                unit=d["unit"],
                low_threshold=d["low_threshold"],
                note=d["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The item is added; record what came in."))
            return redirect("supplies:stock_receive", pk=item.pk)
    return render(request, "supplies/stock_form.html", {"form": form, "title": _("New stock item")})


def _item(user: Any, pk: int) -> StockItem:
    return get_object_or_404(sel.stock_visible(user), pk=pk)


@perm_required(Perm.MANAGE_STOCK)
def stock_item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One item: on hand, and every movement (newest first) with reversal buttons."""
    user: Any = request.user
    item = _item(user, pk)
    movements = (
        sel.movements_visible(user).filter(item=item).annotate(reversed_id=F("reversed_by__id"))
    )
    return render(
        request,
        "supplies/stock_detail.html",
        {"item": item, "page": paginate(request, movements), "reverse_form": f.ReverseForm()},
    )


def _movement_page(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Receive, issue or adjust: one phone-sized form each, the same shape."""
    user: Any = request.user
    item = _item(user, pk)
    form_class = {"receive": f.ReceiveForm, "issue": f.IssueForm, "adjust": f.AdjustForm}[kind]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        action: dict[str, Callable[..., Any]] = {
            "receive": svc.stock_receive,
            "issue": svc.stock_issue,
            "adjust": svc.stock_adjust,
        }
        try:
            action[kind](actor=user, item=item, **d)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Recorded. %(name)s on hand: %(n)s %(unit)s.")
                % {"name": item.name, "n": item.quantity, "unit": item.unit},
            )
            return redirect("supplies:stock_detail", pk=item.pk)
    titles = {
        "receive": _("Record supplies received"),
        "issue": _("Issue supplies"),
        "adjust": _("Adjust after a count"),
    }
    return render(
        request, "supplies/stock_form.html", {"form": form, "item": item, "title": titles[kind]}
    )


@perm_required(Perm.MANAGE_STOCK)
def stock_receive(request: HttpRequest, pk: int) -> HttpResponse:
    return _movement_page(request, pk, "receive")


@perm_required(Perm.MANAGE_STOCK)
def stock_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return _movement_page(request, pk, "issue")


@perm_required(Perm.MANAGE_STOCK)
def stock_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    return _movement_page(request, pk, "adjust")


@require_POST
@perm_required(Perm.MANAGE_STOCK)
def movement_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    movement = get_object_or_404(sel.movements_visible(user), pk=pk)
    form = f.ReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the movement was wrong."))
    else:
        try:
            svc.stock_reverse(actor=user, movement=movement, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("The movement is reversed; both stay in the history."))
    return redirect("supplies:stock_detail", pk=movement.item_id)


# --- the household on the portal ----------------------------------------------------------


def _asker(request: HttpRequest) -> tuple[str, int | None] | None:
    bidx, person_id = identity(request)
    return (bidx, person_id) if bidx or person_id else None


def _to_phone() -> HttpResponse:
    """Prove the phone first, then come back to the list (never echo an id asked for)."""
    back = reverse("supplies:portal_list")
    return redirect(reverse("emergency:portal_phone") + "?next=" + back)


def portal_list(request: HttpRequest) -> HttpResponse:
    """My shopping lists and where each one is; a button for a new list while under
    quarantine."""
    asker = _asker(request)
    if asker is None:
        return _to_phone()
    bidx, person_id = asker
    rows = [
        {"req": r, "path": svc.supply_path(r), "items": list(r.items.all())}
        for r in sel.own_requests(phone_bidx=bidx, person_id=person_id)
    ]
    return render(
        request,
        "supplies/portal_list.html",
        {
            "rows": rows,
            "quarantines": sel.own_active_quarantines(phone_bidx=bidx, person_id=person_id),
            "receipt_form": f.ReceiptForm(),
        },
    )


def portal_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a shopping list for my quarantine *pk* (anyone else's answers 404)."""
    asker = _asker(request)
    if asker is None:
        return _to_phone()
    bidx, person_id = asker
    quarantine = sel.household_quarantine(phone_bidx=bidx, person_id=person_id, pk=pk)
    form = f.ShoppingListForm(request.POST or None)
    if not svc.may_post_for(quarantine):
        messages.error(
            request, _("Shopping lists are taken only for households under an active quarantine.")
        )
        return redirect("supplies:portal_list")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.supply_request_post(
                actor=request.user if request.user.is_authenticated else None,
                quarantine=quarantine,
                items_text=d["items"],
                notes=d["notes"],
                delivery_note=d["delivery_note"],
                payment_note=d["payment_note"],
                client_key=d["client_key"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Your list is posted. A volunteer of your grid will take it.")
            )
            return redirect("supplies:portal_list")
    return render(request, "supplies/portal_new.html", {"form": form, "q": quarantine})


@require_POST
def portal_receive(request: HttpRequest, pk: int) -> HttpResponse:
    """The household confirms the goods arrived (and rates the help)."""
    asker = _asker(request)
    if asker is None:
        return _to_phone()
    bidx, person_id = asker
    req = sel.own_request(phone_bidx=bidx, person_id=person_id, pk=pk)
    form = f.ReceiptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how it was, one to five stars."))
        return redirect("supplies:portal_list")
    try:
        svc.supply_request_receive(
            actor=request.user if request.user.is_authenticated else None,
            request=req,
            stars=form.cleaned_data["stars"],
            words=form.cleaned_data["words"],
        )
    except ValidationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Thank you. The receipt is recorded."))
    return redirect("supplies:portal_list")
