"""Screening over HTTP: the scoped, read-only list of targets and where each stands (a
district's dashboard reads progress); attempts are recorded on the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Query, Router, Schema

from linli.accounts.roles import Perm
from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut
from linli.core.scoping import scope_for
from linli.screening import selectors as sel

targets_router = Router(tags=["screening"])


class TargetOut(Schema):
    id: int
    campaign_id: int
    campaign: str
    person_id: int | None
    name: str
    phone_masked: str
    grid_id: int
    status: str
    verified_at: dt.datetime | None
    attempts_count: int
    last_attempt_at: dt.datetime | None


class TargetPage(Schema):
    count: int
    items: list[TargetOut]


@targets_router.get(
    "",
    response={200: TargetPage, 403: ErrorOut},
    summary="List screening targets",
    description=(
        "People to reach in screening campaigns, in the caller's grids, phone masked; filter "
        "by `campaign`, `event` (the campaigns of an emergency event), `grid` or `status` "
        "(pending, reached, not_reachable, moved_away)."
    ),
)
def target_list(
    request: HttpRequest,
    page: Query[PageParams],
    campaign: int | None = None,
    event: int | None = None,
    grid: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    user = caller(request)
    if scope_for(user, Perm.VIEW_SCREENING).is_empty:
        raise PermissionDenied
    qs = sel.targets_visible(user).order_by("id")
    if campaign is not None:
        qs = qs.filter(campaign_id=campaign)
    if event is not None:
        qs = qs.filter(campaign__event_id=event)
    if grid:
        area = area_in_scope(user, grid)
        if area is None:
            return {"count": 0, "items": []}
        qs = qs.filter(grid__path__startswith=area.path)
    if status:
        qs = qs.filter(status=status)
    result = paginate(qs, page)
    result["items"] = [
        {
            "id": t.pk,
            "campaign_id": t.campaign_id,
            "campaign": t.campaign.name,
            "person_id": t.person_id,
            "name": t.name,
            "phone_masked": t.phone_masked,
            "grid_id": t.grid_id,
            "status": t.status,
            "verified_at": t.verified_at,
            "attempts_count": t.attempts_count,
            "last_attempt_at": t.last_attempt_at,
        }
        for t in result["items"]
    ]
    return result
