"""Portal pages of work orders (/p/orders/): ask for help, follow one's requests, rate, answer
the follow-up question, cancel. A resident sees only their own requests; others answer 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.core.feedback import add_service_errors
from linli.orders import selectors as sel
from linli.orders import services as svc
from linli.orders.forms import ActionForm, OrderForm
from linli.orders.models import FollowUp, Source, Status, WorkOrder
from linli.orders.workflow import CANCELLABLE
from linli.portal.views import resident_required


@resident_required
def my_orders(request: HttpRequest) -> HttpResponse:
    """My requests, newest first, each with its state."""
    return render(
        request,
        "orders/portal/list.html",
        {"orders": sel.portal_orders(user=request.user)[:100]},
    )


@resident_required
def order_new(request: HttpRequest) -> HttpResponse:
    """Ask for help: what, where, a photo if it helps."""
    user: Any = request.user
    person = user.person
    form = OrderForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = svc.order_submit(
                actor=user,
                category=data["category"],
                title=data["title"],
                description=data["description"],
                grid=person.grid,
                requester=person,
                source=Source.PORTAL,
                location=data["location"],
                photos=form.photos(),
                client_key=data["client_key"] or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your request %(number)s is sent to your grid worker.")
                % {"number": order.number},
            )
            return redirect("orders:portal_detail", pk=order.pk)
    return render(request, "orders/portal/new.html", {"form": form})


def _context(order: WorkOrder, form: ActionForm | None = None, failed: str = "") -> dict[str, Any]:
    return {
        "order": order,
        "timeline": sel.order_timeline(order=order),
        "can_rate": order.status == Status.DONE,
        "can_cancel": order.status in CANCELLABLE,
        "followup_due": order.followup == FollowUp.DUE
        and order.status in (Status.RATED, Status.CLOSED),
        "form": form or ActionForm(),
        "failed": failed,
    }


@resident_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = sel.portal_order(user=request.user, pk=pk)
    return render(request, "orders/portal/detail.html", _context(order))


@resident_required
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Rate, answer the follow-up (yes / no) or cancel one's own request."""
    order = sel.portal_order(user=request.user, pk=pk)
    if action not in ("rate", "followup", "cancel"):
        raise Http404
    if request.method != "POST":
        return redirect("orders:portal_detail", pk=order.pk)
    form = ActionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "rate":
                if data.get("stars") is None:
                    raise ValidationError({"stars": [_("Give one to five stars.")]})
                svc.order_rate(
                    actor=request.user,
                    order=order,
                    stars=data["stars"],
                    words=data.get("words") or "",
                    fixed=data.get("fixed", True),
                )
                done = _("Thank you for your rating.")
            elif action == "followup":
                svc.order_followup_answer(
                    actor=request.user,
                    order=order,
                    still_fixed=request.POST.get("still_fixed") == "yes",
                )
                done = _("Thank you for your answer.")
            else:
                svc.order_cancel(actor=request.user, order=order, reason=data.get("reason") or "")
                done = _("Your request is cancelled.")
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("orders:portal_detail", pk=order.pk)
    order = sel.portal_order(user=request.user, pk=pk)
    return render(
        request, "orders/portal/detail.html", _context(order, form=form, failed=action), status=422
    )
