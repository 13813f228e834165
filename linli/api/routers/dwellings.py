"""Dwellings (房屋) the caller may see."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import DwellingOut, DwellingPage, ErrorOut
from linli.register.models import Dwelling, DwellingUse
from linli.register.selectors import dwellings_visible

router = Router(tags=["dwellings"])


class DwellingFilters(Schema):
    building: int | None = Field(None, description="Only dwellings of this building id.")
    use: DwellingUse | None = Field(None, description="Only dwellings of this use.")
    grid: str | None = Field(
        None, description="Code or id of an area in scope: dwellings in it or below."
    )


@router.get(
    "",
    response=DwellingPage,
    summary="List dwellings",
    description=(
        "Dwellings in the grids of the caller's scope, by building, entrance, floor and "
        "number. Filter by `building` id, `use` or `grid` (code or id)."
    ),
)
def dwelling_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[DwellingFilters]
) -> dict[str, Any]:
    qs = dwellings_visible(caller(request))
    if filters.building is not None:
        qs = qs.filter(building_id=filters.building)
    if filters.use:
        qs = qs.filter(use=filters.use)
    if filters.grid:
        area = area_in_scope(caller(request), filters.grid)
        qs = qs.filter(grid__path__startswith=area.path) if area else qs.none()
    return paginate(qs.order_by("building_id", "entrance_id", "floor", "number", "id"), page)


@router.get(
    "/{dwelling_id}",
    response={200: DwellingOut, 404: ErrorOut},
    summary="Get a dwelling",
    description="One dwelling. Dwellings outside the caller's scope: 404.",
)
def dwelling_detail(request: HttpRequest, dwelling_id: int) -> Dwelling:
    return get_object_or_404(dwellings_visible(caller(request)), pk=dwelling_id)
