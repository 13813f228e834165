"""Areas: the nodes of the jurisdiction tree the caller may see."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.schemas import AreaOut, AreaPage, ErrorOut
from linli.areas.models import Area, AreaKind
from linli.areas.selectors import areas_visible

router = Router(tags=["areas"])


def area_in_scope(user: Any, ref: str) -> Area | None:
    """The area a filter names by code or by id, if the caller may see it.

    Codes are tried first: official division codes are all digits too, and far longer than ids.
    """
    ref = ref.strip()
    qs = areas_visible(user)
    area = qs.filter(code=ref).first()
    if area is None and ref.isdigit():
        area = qs.filter(pk=int(ref)).first()
    return area


class AreaFilters(Schema):
    kind: AreaKind | None = Field(None, description="Only nodes of this kind.")
    parent: int | None = Field(None, description="Only direct children of this area id.")


@router.get(
    "",
    response=AreaPage,
    summary="List areas",
    description=(
        "The nodes of the jurisdiction tree in the caller's scope (the nodes they are bound "
        "to and everything below), ordered from the top down. Filter by `kind` or `parent`."
    ),
)
def area_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[AreaFilters]
) -> dict[str, Any]:
    qs = areas_visible(caller(request))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.parent is not None:
        qs = qs.filter(parent_id=filters.parent)
    return paginate(qs.order_by("path", "id"), page)


@router.get(
    "/{area_id}",
    response={200: AreaOut, 404: ErrorOut},
    summary="Get an area",
    description="One node of the jurisdiction tree. Nodes outside the caller's scope: 404.",
)
def area_detail(request: HttpRequest, area_id: int) -> Area:
    return get_object_or_404(areas_visible(caller(request)), pk=area_id)


@router.get(
    "/{area_id}/children",
    response={200: AreaPage, 404: ErrorOut},
    summary="List the children of an area",
    description=(
        "The direct children of an area (e.g. the grids of a community), within the caller's "
        "scope. An area outside the scope: 404."
    ),
)
def area_children(request: HttpRequest, area_id: int, page: Query[PageParams]) -> dict[str, Any]:
    area = get_object_or_404(areas_visible(caller(request)), pk=area_id)
    qs = areas_visible(caller(request)).filter(parent=area).order_by("path", "id")
    return paginate(qs, page)
