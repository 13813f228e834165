"""Households (户) the caller may see, with their current members; moving a whole household."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut, HouseholdMoveIn, HouseholdOut, HouseholdPage
from linli.register import services
from linli.register.models import Household, HouseholdStatus, PersonStatus
from linli.register.selectors import dwellings_visible, households_visible, persons_visible

router = Router(tags=["households"])


def households_with_members(user: Any) -> QuerySet[Household]:
    """Households in scope, each with its living members (read through the scope as well)."""
    members = (
        persons_visible(user)
        .filter(status=PersonStatus.LIVING)
        .select_related("grid", "household__dwelling")
        .prefetch_related("person_tags__tag")
        .order_by("id")
    )
    return households_visible(user).prefetch_related(
        Prefetch("members", queryset=members, to_attr="current_members")
    )


class HouseholdFilters(Schema):
    dwelling: int | None = Field(None, description="Only households of this dwelling id.")
    building: int | None = Field(None, description="Only households in this building id.")
    grid: str | None = Field(
        None, description="Code or id of an area in scope: households in it or below."
    )
    status: HouseholdStatus | None = Field(None, description="active or dissolved; all if omitted.")


@router.get(
    "",
    response=HouseholdPage,
    summary="List households",
    description=(
        "Households in the grids of the caller's scope, each with its current members "
        "(national ID and phone masked). Filter by `dwelling`, `building`, `grid` or `status`."
    ),
)
def household_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[HouseholdFilters]
) -> dict[str, Any]:
    user = caller(request)
    qs = households_with_members(user)
    if filters.dwelling is not None:
        qs = qs.filter(dwelling_id=filters.dwelling)
    if filters.building is not None:
        qs = qs.filter(dwelling__building_id=filters.building)
    if filters.grid:
        area = area_in_scope(user, filters.grid)
        qs = qs.filter(grid__path__startswith=area.path) if area else qs.none()
    if filters.status:
        qs = qs.filter(status=filters.status)
    return paginate(qs.order_by("id"), page)


@router.get(
    "/{household_id}",
    response={200: HouseholdOut, 404: ErrorOut},
    summary="Get a household",
    description=(
        "One household with its current members (masked). Households outside the caller's "
        "scope: 404."
    ),
)
def household_detail(request: HttpRequest, household_id: int) -> Household:
    return get_object_or_404(households_with_members(caller(request)), pk=household_id)


@router.post(
    "/{household_id}/move",
    response={200: HouseholdOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Move a whole household",
    description=(
        "The whole household moves to another dwelling (`dwelling`, by id) on `occurred_on` "
        "(today if omitted; not in the future, not before the household's latest move-in). "
        "The household keeps its members and their membership spans; its grid and every "
        "living member's grid become the new dwelling's. The old address stays in the "
        "timelines of the household and of each member. A dwelling where another household "
        "lives is refused (422) unless `allow_shared` is true. A household or dwelling outside "
        "the caller's scope: 404; without the right to change the register in both grids: "
        "403; a dissolved household, the same dwelling or a bad date: 422. Audited."
    ),
)
def household_move(request: HttpRequest, household_id: int, payload: HouseholdMoveIn) -> Household:
    user = caller(request)
    household = get_object_or_404(households_visible(user), pk=household_id)
    dwelling = get_object_or_404(dwellings_visible(user), pk=payload.dwelling)
    services.household_move(
        actor=user,
        household=household,
        to_dwelling=dwelling,
        occurred_on=payload.occurred_on,
        allow_shared=payload.allow_shared,
    )
    return get_object_or_404(households_with_members(user), pk=household.pk)
