"""Scoped reads of the register: every list, search and count a face shows comes from here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet

from linli.accounts.roles import Perm
from linli.core import crypto
from linli.core.identity import normalise_phone, parse_national_id
from linli.core.scoping import scope_for
from linli.register.models import (
    Building,
    Dwelling,
    Estate,
    EventKind,
    Household,
    Person,
    PersonStatus,
    RegisterEvent,
    Tag,
)

_ASCII_LETTERS = re.compile(r"^[a-z]+$")
_DIGITS = re.compile(r"^\d+[xX]?$")


def persons_visible(user: Any, perm: Perm = Perm.VIEW_REGISTER) -> QuerySet[Person]:
    return Person.objects.restrict(user, perm)


def person_search(
    *,
    user: Any,
    q: str = "",
    tag: str = "",
    status: str = PersonStatus.LIVING,
    area_id: int | None = None,
    residency: str = "",
) -> QuerySet[Person]:
    """Find persons in scope by name, pinyin or initials, the last digits (or all) of a
    national ID or phone, or an address; filter by tag, status, residency and sub-area."""
    qs = persons_visible(user)
    if status:
        qs = qs.filter(status=status)
    if residency:
        qs = qs.filter(residency=residency)
    if tag:
        qs = qs.filter(person_tags__tag__code=tag)
    if area_id:
        from linli.areas.models import Area

        area = Area.objects.restrict(user, Perm.VIEW_REGISTER).filter(pk=area_id).first()
        qs = qs.filter(grid__path__startswith=area.path) if area else qs.none()
    term = unicodedata.normalize("NFKC", q).strip().replace(" ", "")
    if term:
        qs = qs.filter(_term_q(term))
        if _is_full_value(term):
            qs = _identify(user, qs, term)
    return qs.select_related("household__dwelling", "grid").order_by("id")


def _is_full_value(term: str) -> bool:
    return bool(_DIGITS.match(term)) and len(term) in (11, 18)


def _identify(user: Any, qs: QuerySet[Person], term: str) -> QuerySet[Person]:
    """A search by a full national ID or phone identifies a person: it is allowed only where
    the user may reveal personal data, and it is written to the audit log.

    Without this, the masked ID (first and last four characters) and the birth date leave a
    handful of candidate numbers that a search would confirm one by one, unaudited.
    """
    from linli.audit.models import AuditAction
    from linli.audit.services import audit_record
    from linli.core.identity import mask_national_id, mask_phone

    reveal = scope_for(user, Perm.REVEAL_PII)
    if reveal.is_empty:
        return qs.none()
    masked = mask_national_id(term) if len(term) == 18 else mask_phone(term)
    from linli.areas.models import Area

    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        # Filed where the searcher works, so the heads of that node see it.
        area=Area.objects.filter(path__in=reveal.paths).order_by("-depth").first(),
        object_label=masked,
        field="national_id" if len(term) == 18 else "phone",
        reason="search by full value",
    )
    return qs.filter(reveal.q("grid"))


def _term_q(term: str) -> Q:
    lower = term.lower()
    if _DIGITS.match(term):
        if len(term) == 18:
            try:
                number = parse_national_id(term).number
                return Q(id_bidx=crypto.blind_index("national_id", number))
            except Exception:
                return Q(pk__in=[])
        if len(term) == 11:
            try:
                return Q(phone_bidx=crypto.blind_index("phone", normalise_phone(term)))
            except Exception:
                return Q(pk__in=[])
        if len(term) == 4:
            # Equality, not LIKE: the tails are indexed and this is the common case.
            return Q(id_tail=term.upper()) | Q(phone_tail=term)
        if len(term) < 4:
            return Q(id_tail__endswith=term.upper()) | Q(phone_tail__endswith=term)
        # Other lengths: a dwelling number or part of an address.
        return Q(household__dwelling__address__contains=term)
    if _ASCII_LETTERS.match(lower):
        return _prefix_q("name_initials", lower) | _prefix_q("name_pinyin", lower)
    return Q(name__contains=term) | Q(household__dwelling__address__contains=term)


def _prefix_q(column: str, prefix: str) -> Q:
    """A prefix match written as a range, so both engines use the column's plain index
    (LIKE 'x%' does not use it on SQLite, nor on PostgreSQL under a non-C collation)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{column}__gte": prefix, f"{column}__lt": upper})


def person_timeline(*, user: Any, person: Person) -> QuerySet[RegisterEvent]:
    return (
        RegisterEvent.objects.restrict(user)
        .filter(person=person)
        .select_related("actor")
        .order_by("-occurred_on", "-id")
    )


def dwelling_timeline(*, user: Any, dwelling: Dwelling) -> QuerySet[RegisterEvent]:
    return (
        RegisterEvent.objects.restrict(user)
        .filter(dwelling=dwelling)
        .select_related("actor", "person")
        .order_by("-occurred_on", "-id")
    )


def household_timeline(*, user: Any, household: Household) -> QuerySet[RegisterEvent]:
    return (
        RegisterEvent.objects.restrict(user)
        .filter(Q(household=household) | Q(person__memberships__household=household))
        # A whole-household move is one entry here: the members' copies of it (which their
        # own timelines show) would repeat it once per member.
        .exclude(person__isnull=False, kind=EventKind.MOVE_HOUSE, data__has_key="to_dwelling")
        .distinct()
        .select_related("actor", "person")
        .order_by("-occurred_on", "-id")
    )


def estates_visible(user: Any) -> QuerySet[Estate]:
    return Estate.objects.restrict(user).select_related("community")


def buildings_visible(user: Any) -> QuerySet[Building]:
    return Building.objects.restrict(user).select_related("estate", "grid")


def dwellings_visible(user: Any) -> QuerySet[Dwelling]:
    return Dwelling.objects.restrict(user).select_related("building__estate", "entrance", "grid")


def households_visible(user: Any) -> QuerySet[Household]:
    return Household.objects.restrict(user).select_related("dwelling", "householder", "grid")


def building_floor_plan(*, user: Any, building: Building) -> dict[str, Any]:
    """The building view (楼栋图): floors top-down × dwellings, each with occupancy and tags."""
    dwellings = list(
        dwellings_visible(user)
        .filter(building=building)
        .annotate(
            residents=Count(
                "households__members",
                filter=Q(households__members__status=PersonStatus.LIVING),
                distinct=True,
            )
        )
        .order_by("-floor", "entrance__sort_key", "number")
    )
    tag_rows = (
        Person.objects.restrict(user)
        .filter(household__dwelling__building=building, status=PersonStatus.LIVING)
        .values_list("household__dwelling_id", "person_tags__tag__code")
    )
    tags_by_dwelling: dict[int, set[str]] = {}
    for dwelling_id, code in tag_rows:
        if code:
            tags_by_dwelling.setdefault(dwelling_id, set()).add(code)
    active_households = dict(
        Household.objects.restrict(user)
        .filter(dwelling__building=building, status="active")
        .values_list("dwelling_id")
        .annotate(n=Count("id"))
        .values_list("dwelling_id", "n")
    )
    floors: dict[int, list[dict[str, Any]]] = {}
    for d in dwellings:
        floors.setdefault(d.floor, []).append(
            {
                "dwelling": d,
                "residents": d.residents,
                "households": active_households.get(d.pk, 0),
                "tags": sorted(tags_by_dwelling.get(d.pk, set())),
                "occupancy": _occupancy(d, d.residents),
            }
        )
    return {
        "floors": sorted(floors.items(), key=lambda kv: -kv[0]),
        "tags": {t.code: t for t in Tag.objects.filter(is_active=True)},
    }


def _occupancy(dwelling: Dwelling, residents: int) -> str:
    if residents == 0:
        return "vacant"
    return "rented" if dwelling.use == "rented" else "occupied"


#: Longest chain of merges followed (A into B, B later into C, ...); real chains are short and
#: cannot loop (a merged record is never merged again), this only bounds a corrupt register.
MERGE_CHAIN_MAX = 16


def merge_survivors(persons: Iterable[Person], *, related: Sequence[str] = ()) -> dict[int, Person]:
    """For each merged (absorbed) person among *persons*: the record it now lives on as,
    following chains of merges. An unmerged person is not in the answer. Not scoped: callers
    (an import, a list match) check the survivor's grid themselves."""
    chase = {
        p.pk: p.merged_into_id
        for p in persons
        if p.status == PersonStatus.MERGED and p.merged_into_id is not None
    }
    out: dict[int, Person] = {}
    for _ in range(MERGE_CHAIN_MAX):
        if not chase:
            break
        found = {
            q.pk: q
            for q in Person.objects.filter(pk__in=set(chase.values())).select_related(*related)
        }
        following: dict[int, int] = {}
        for origin, target in chase.items():
            q = found[target]
            if q.status == PersonStatus.MERGED and q.merged_into_id is not None:
                following[origin] = q.merged_into_id
            else:
                out[origin] = q
        chase = following
    return out
