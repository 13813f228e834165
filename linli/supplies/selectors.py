"""Scoped reads of supplies. Workers read through ``restrict()``; the household reads its own
lists by the quarantine the portal matched to its verified phone or register entry."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from linli.accounts.roles import Perm
from linli.emergency.models import Quarantine
from linli.emergency.selectors import own_quarantines
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


def own_requests(*, phone_bidx: str, person_id: int | None) -> QuerySet[SupplyRequest]:
    """The lists of the quarantines that are the asker's own."""
    mine = own_quarantines(phone_bidx=phone_bidx, person_id=person_id).values("pk")
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
        q for q in own_quarantines(phone_bidx=phone_bidx, person_id=person_id) if may_post_for(q)
    ]
