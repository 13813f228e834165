"""Estates (小区) the caller may see."""

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut, EstateOut, EstatePage
from linli.register.models import Estate
from linli.register.selectors import estates_visible

router = Router(tags=["estates"])


class EstateFilters(Schema):
    area: str | None = Field(
        None, description="Code or id of an area in scope: estates of that community or below."
    )
    q: str | None = Field(None, description="Part of the estate's name.")


@router.get(
    "",
    response=EstatePage,
    summary="List estates",
    description=(
        "Estates in the caller's scope: those of the communities they hold, and those where a "
        "grid they hold has a building. An `area` outside the scope gives an empty list."
    ),
)
def estate_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[EstateFilters]
) -> dict[str, Any]:
    qs = estates_visible(caller(request))
    if filters.area:
        area = area_in_scope(caller(request), filters.area)
        if area is None:
            qs = qs.none()
        else:
            # An estate lies in a community; a grid "has" the estates its buildings stand in.
            qs = qs.filter(
                Q(community__path__startswith=area.path)
                | Q(buildings__grid__path__startswith=area.path)
            ).distinct()
    if filters.q:
        qs = qs.filter(name__contains=filters.q.strip())
    return paginate(qs.order_by("name", "id"), page)


@router.get(
    "/{estate_id}",
    response={200: EstateOut, 404: ErrorOut},
    summary="Get an estate",
    description="One estate. Estates outside the caller's scope: 404.",
)
def estate_detail(request: HttpRequest, estate_id: int) -> Estate:
    return get_object_or_404(estates_visible(caller(request)), pk=estate_id)
