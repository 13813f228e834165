"""The household pages (户): members, householder, membership history, timeline; and moving
the whole household to another dwelling (整户搬迁)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.core.feedback import add_service_errors
from linli.register import selectors as reg_sel
from linli.register import services as reg
from linli.register.models import (
    Dwelling,
    Household,
    HouseholdStatus,
    Membership,
    Person,
    PersonStatus,
    Relation,
)
from linli.workbench import forms as wb_forms
from linli.workbench.views.common import breadcrumb, is_htmx, may, pk_or_404, staff_required


@staff_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    household = get_object_or_404(reg_sel.households_visible(user), pk=pk)
    members = (
        Person.objects.restrict(user)
        .filter(household=household, status=PersonStatus.LIVING)
        .prefetch_related("person_tags__tag")
        .annotate(
            head_first=Case(
                When(relation=Relation.SELF, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("head_first", "birth_date", "id")
    )
    memberships = (
        Membership.objects.restrict(user)
        .filter(household=household)
        .select_related("person")
        .order_by("started_on", "id")
    )
    timeline = reg_sel.household_timeline(user=user, household=household)[:100]
    context = {
        "household": household,
        "dwelling": household.dwelling,
        "crumbs": breadcrumb(user, household.grid),
        "members": members,
        "memberships": memberships,
        "timeline": timeline,
        "is_active": household.status == HouseholdStatus.ACTIVE,
        "can_change": may(user, Perm.CHANGE_REGISTER, household.grid),
    }
    return render(request, "workbench/household_detail.html", context)


def _dwelling_search(user: Any, household: Household, q: str) -> QuerySet[Dwelling]:
    """Dwellings the user may move a household into whose address holds every word of *q*."""
    words = q.split()
    if not words:
        return Dwelling.objects.none()
    # Only dwellings where the move is allowed are offered; the POST still resolves the
    # target through the visible set, so one seen but not changeable answers 403, not 404.
    qs = Dwelling.objects.restrict(user, Perm.CHANGE_REGISTER)
    if household.dwelling_id:
        qs = qs.exclude(pk=household.dwelling_id)
    for word in words:
        qs = qs.filter(address__contains=word)
    return qs.annotate(
        households_here=Count("households", filter=Q(households__status=HouseholdStatus.ACTIVE))
    ).order_by("address")[:20]


@staff_required
def household_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the whole household to another dwelling in scope (register.services.household_move).

    Step 1 finds the dwelling by address (htmx swaps the results; a plain GET with ?q= and
    ?to= does the same without JavaScript); step 2 posts the date and the chosen dwelling.
    """
    user: Any = request.user
    household = get_object_or_404(reg_sel.households_visible(user), pk=pk)
    if not may(user, Perm.CHANGE_REGISTER, household.grid):
        raise PermissionDenied
    if household.status != HouseholdStatus.ACTIVE:
        messages.error(request, _("This household is dissolved; it cannot move."))
        return redirect("workbench:household_detail", pk=household.pk)
    # The search words travel with the POST too, so a refused move shows the same results.
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()[:100]
    visible = reg_sel.dwellings_visible(user)
    form = wb_forms.HouseholdMoveForm(request.POST or None)
    target = None
    if request.method == "GET" and request.GET.get("to"):
        target = visible.filter(pk=pk_or_404(request.GET["to"])).first()
    if request.method == "POST":
        if form.is_valid():
            target = get_object_or_404(visible, pk=form.cleaned_data["dwelling"])
            try:
                reg.household_move(
                    actor=user,
                    household=household,
                    to_dwelling=target,
                    occurred_on=form.cleaned_data["occurred_on"],
                    allow_shared=form.cleaned_data["allow_shared"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The household has moved to %(address)s.") % {"address": target.address},
                )
                return redirect("workbench:household_detail", pk=household.pk)
        elif form.data.get("dwelling"):
            target = visible.filter(pk=pk_or_404(str(form.data["dwelling"]))).first()
    context = {
        "household": household,
        "q": q,
        "found": _dwelling_search(user, household, q),
        "target": target,
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "found":
        return render(request, "workbench/households/_dwelling_choices.html", context)
    members = Person.objects.restrict(user).filter(household=household, status=PersonStatus.LIVING)
    context.update(
        form=form, crumbs=breadcrumb(user, household.grid), members=members.order_by("id")
    )
    return render(request, "workbench/households/move.html", context)
