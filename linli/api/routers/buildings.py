"""Buildings (楼栋) the caller may see."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import BuildingOut, BuildingPage, ErrorOut
from linli.register.models import Building
from linli.register.selectors import buildings_visible

router = Router(tags=["buildings"])


class BuildingFilters(Schema):
    estate: int | None = Field(None, description="Only buildings of this estate id.")
    grid: str | None = Field(
        None, description="Code or id of an area in scope: buildings in it or below."
    )


@router.get(
    "",
    response=BuildingPage,
    summary="List buildings",
    description=(
        "Buildings in the grids of the caller's scope. Filter by `estate` id or by `grid` "
        "(code or id of any area in scope; one outside the scope gives an empty list)."
    ),
)
def building_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[BuildingFilters]
) -> dict[str, Any]:
    qs = buildings_visible(caller(request))
    if filters.estate is not None:
        qs = qs.filter(estate_id=filters.estate)
    if filters.grid:
        area = area_in_scope(caller(request), filters.grid)
        qs = qs.filter(grid__path__startswith=area.path) if area else qs.none()
    return paginate(qs.order_by("estate__name", "sort_key", "name", "id"), page)


@router.get(
    "/{building_id}",
    response={200: BuildingOut, 404: ErrorOut},
    summary="Get a building",
    description="One building. Buildings outside the caller's scope: 404.",
)
def building_detail(request: HttpRequest, building_id: int) -> Building:
    return get_object_or_404(buildings_visible(caller(request)), pk=building_id)
