"""Scoped reads of supplies. Workers read through ``restrict()``; the household reads its own
lists by the quarantine the portal matched to its verified phone or register entry."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.accounts.roles import Perm
from linli.emergency.models import Quarantine
from linli.emergency.selectors import own_quarantines
from linli.register.models import Person
from linli.supplies.models import StockItem, StockMovement, SupplyRequest


def requests_visible(user: Any) -> QuerySet[SupplyRequest]:
    return (
        SupplyRequest.objects.restrict(user, Perm.VIEW_SUPPLIES)
        .select_related("order__assignee", "grid", "quarantine")
        .prefetch_related("items")
    )


def stock_visible(user: Any) -> QuerySet[StockItem]:
    return StockItem.objects.restrict(user, Perm.MANAGE_STOCK).select_related("area")


def movements_visible(user: Any) -> QuerySet[StockMovement]:
    return StockMovement.objects.restrict(user, Perm.MANAGE_STOCK).select_related(
        "item", "actor", "reverses"
    )


def household_quarantines(*, phone_bidx: str, person_id: int | None) -> QuerySet[Quarantine]:
    """The asker's own quarantines (verified phone or register entry) and, for a resident in
    the register, those of the people of their household: a closed household shops as one."""
    q = Q(pk__in=own_quarantines(phone_bidx=phone_bidx, person_id=person_id).values("pk"))
    if person_id:
        household_id = (
            Person.objects.filter(pk=person_id).values_list("household_id", flat=True).first()
        )
        if household_id:
            q |= Q(person__household_id=household_id)
    return Quarantine.objects.filter(q).select_related("event", "grid").order_by("-starts_on")


def household_quarantine(*, phone_bidx: str, person_id: int | None, pk: int) -> Quarantine:
    found = household_quarantines(phone_bidx=phone_bidx, person_id=person_id).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def own_requests(*, phone_bidx: str, person_id: int | None) -> QuerySet[SupplyRequest]:
    """The lists of the quarantines of the asker's household."""
    mine = household_quarantines(phone_bidx=phone_bidx, person_id=person_id).values("pk")
    return (
        SupplyRequest.objects.filter(quarantine__in=mine)
        .select_related("order__assignee", "quarantine")
        .prefetch_related("items")
    )


def own_request(*, phone_bidx: str, person_id: int | None, pk: int) -> SupplyRequest:
    found = own_requests(phone_bidx=phone_bidx, person_id=person_id).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def own_active_quarantines(*, phone_bidx: str, person_id: int | None) -> list[Quarantine]:
    """The asker's quarantines for which a list may be posted now."""
    from linli.supplies.services import may_post_for

    return [
        q
        for q in household_quarantines(phone_bidx=phone_bidx, person_id=person_id)
        if may_post_for(q)
    ]
