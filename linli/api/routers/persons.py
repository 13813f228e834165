"""Persons (实有人口): scoped search and detail, and the writes a department system or a
worker's tool may make, each through the register's services (which check, record and audit)."""

from collections.abc import Iterable
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.roles import Perm
from linli.api.auth import caller
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import (
    ErrorOut,
    MoveOutIn,
    PersonCreateIn,
    PersonOut,
    PersonPage,
    PersonUpdateIn,
    RevealIn,
    RevealOut,
)
from linli.register import services
from linli.register.models import Person, Residency, Tag
from linli.register.selectors import households_visible, person_search, persons_visible

router = Router(tags=["persons"])

_WRITE_ERRORS: dict[int | str, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _persons(user: Any) -> QuerySet[Person]:
    """Persons in scope, with what the output needs loaded up front."""
    return (
        persons_visible(user, Perm.VIEW_REGISTER)
        .select_related("grid", "household__dwelling")
        .prefetch_related("person_tags__tag")
    )


def _tags(codes: Iterable[str]) -> list[Tag]:
    wanted = sorted(set(codes))
    tags = list(Tag.objects.filter(code__in=wanted, is_active=True))
    unknown = sorted(set(wanted) - {t.code for t in tags})
    if unknown:
        raise ValidationError({"tags": _("Unknown tag: %(codes)s") % {"codes": ", ".join(unknown)}})
    return tags


class PersonFilters(Schema):
    q: str | None = Field(
        None,
        description=(
            "Search as on the workbench: name, pinyin or initials, the last 1–4 characters "
            "(or all 18) of a national ID, the last digits (or all 11) of a phone, or part of "
            "an address."
        ),
    )
    tag: str | None = Field(None, description="Only persons carrying this tag code.")
    residency: Residency | None = Field(None, description="Only persons of this residency.")
    status: Literal["living", "moved_out", "deceased", "all"] = Field(
        "living", description="Only persons of this status; `all` for every status."
    )
    area: str | None = Field(
        None,
        description="Code or id of an area in scope: persons in it or below. "
        "An area outside the scope gives an empty list.",
    )
    household: int | None = Field(None, description="Only members of this household id.")


@router.get(
    "",
    response=PersonPage,
    summary="Search persons",
    description=(
        "Persons in the grids of the caller's scope, ordered by id; national ID and phone are "
        "masked. By default only persons living here; filter by `q`, `tag`, `residency`, "
        "`status`, `area` or `household`."
    ),
)
def person_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[PersonFilters]
) -> dict[str, Any]:
    user = caller(request)
    area_id: int | None = None
    if filters.area:
        area = area_in_scope(user, filters.area)
        if area is None:
            return {"count": 0, "items": []}
        area_id = area.pk
    qs = person_search(
        user=user,
        q=filters.q or "",
        tag=filters.tag or "",
        status="" if filters.status == "all" else filters.status,
        area_id=area_id,
        residency=filters.residency or "",
    ).prefetch_related("person_tags__tag")
    if filters.household is not None:
        qs = qs.filter(household_id=filters.household)
    return paginate(qs, page)


@router.get(
    "/{person_id}",
    response={200: PersonOut, 404: ErrorOut},
    summary="Get a person",
    description=(
        "One person, whatever their status, with national ID and phone masked and the "
        "provenance of each field. Persons outside the caller's scope: 404."
    ),
)
def person_detail(request: HttpRequest, person_id: int) -> Person:
    return get_object_or_404(_persons(caller(request)), pk=person_id)


@router.post(
    "",
    response={201: PersonOut, **_WRITE_ERRORS},
    summary="Register a person",
    description=(
        "Register a person moving into a household (`household` and `relation`) or directly "
        "in a grid (`grid`, by code or id). National ID and phone are checked, sealed and "
        "from then on shown masked. A household or grid outside the caller's scope: 404; "
        "without the right to change the register there: 403; invalid input: 422 with the "
        "messages per field. Recorded in the person's timeline and in the audit log."
    ),
)
def person_create(request: HttpRequest, payload: PersonCreateIn) -> Status[Person]:
    user = caller(request)
    household = None
    grid = None
    if payload.household is not None:
        household = get_object_or_404(households_visible(user), pk=payload.household)
    elif payload.grid:
        grid = area_in_scope(user, payload.grid)
        if grid is None:
            raise Http404
    person = services.person_create(
        actor=user,
        name=payload.name,
        national_id=payload.national_id,
        phone=payload.phone,
        residency=payload.residency,
        household=household,
        grid=grid,
        relation=payload.relation or "",
        notes=payload.notes,
        tags=_tags(payload.tags),
        source="api",
        occurred_on=payload.occurred_on,
    )
    return Status(201, _persons(user).get(pk=person.pk))


@router.patch(
    "/{person_id}",
    response={200: PersonOut, **_WRITE_ERRORS},
    summary="Change a person's details",
    description=(
        "Change the fields sent (name, national ID, phone, residency, relation, notes, and "
        "`tags` as the complete set of codes); fields omitted stay as they are. The timeline "
        "keeps the old values (masked). Persons outside the caller's scope: 404; without the "
        "right to change the register: 403; invalid input: 422 with messages per field."
    ),
)
def person_update(request: HttpRequest, person_id: int, payload: PersonUpdateIn) -> Person:
    user = caller(request)
    person = get_object_or_404(_persons(user), pk=person_id)
    data = {
        k: v
        for k, v in payload.model_dump(mode="json", exclude_unset=True).items()
        if v is not None
    }
    codes = data.pop("tags", None)
    # Details and tags change together or not at all.
    with transaction.atomic():
        services.person_update(actor=user, person=person, data=data, source="api")
        if codes is not None:
            services.person_tag_set(actor=user, person=person, tags=_tags(codes), source="api")
    return _persons(user).get(pk=person.pk)


@router.post(
    "/{person_id}/reveal",
    response={200: RevealOut, **_WRITE_ERRORS},
    summary="Reveal a full national ID or phone",
    description=(
        "Return the full national ID or phone of a person. A reason is required and, with "
        "who asked and when, is written to the audit log. Without the right to reveal "
        "personal data: 403; no reason: 422. Persons outside the caller's scope: 404. "
        "The answer is marked not to be cached."
    ),
)
def person_reveal(
    request: HttpRequest, response: HttpResponse, person_id: int, payload: RevealIn
) -> dict[str, str]:
    user = caller(request)
    person = get_object_or_404(persons_visible(user), pk=person_id)
    value = services.person_reveal(
        actor=user, person=person, field=payload.field, reason=payload.reason
    )
    response["Cache-Control"] = "no-store"
    return {"field": payload.field, "value": value}


@router.post(
    "/{person_id}/move-out",
    response={200: PersonOut, **_WRITE_ERRORS},
    summary="Record that a person moved out",
    description=(
        "The person left the community: their household membership ends and their status "
        "becomes `moved_out`; the record stays, with the move in its timeline. A person who "
        "no longer lives here: 422. Persons outside the caller's scope: 404."
    ),
)
def person_move_out(request: HttpRequest, person_id: int, payload: MoveOutIn) -> Person:
    user = caller(request)
    person = get_object_or_404(_persons(user), pk=person_id)
    services.person_move_out(
        actor=user,
        person=person,
        occurred_on=payload.occurred_on,
        destination=payload.destination,
    )
    return _persons(user).get(pk=person.pk)
