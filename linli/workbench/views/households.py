"""The household page (户): members, householder, membership history, timeline."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from linli.accounts.roles import Perm
from linli.register import selectors as reg_sel
from linli.register.models import HouseholdStatus, Membership, Person, PersonStatus, Relation
from linli.workbench.views.common import breadcrumb, may, staff_required


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
