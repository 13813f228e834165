"""Reads of the resident portal. A resident's whole scope is their own household.

Residents hold no node-wide permission, so these selectors do not go through
``restrict()``: each one starts from ``user.person.household`` and can reach nothing else
in the register. Anything outside the household is answered with 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _

from linli.core.identity import mask_phone
from linli.register.models import (
    CorrectionProposal,
    Household,
    HouseholdStatus,
    Person,
    PersonStatus,
    Relation,
)


def portal_household(*, user: Any) -> Household | None:
    """The resident's current household, or None if they no longer live in one."""
    person: Person | None = getattr(user, "person", None)
    if person is None or person.status != PersonStatus.LIVING or person.household_id is None:
        return None
    return (
        Household.objects.select_related("dwelling__building__estate", "householder")
        .filter(pk=person.household_id, status=HouseholdStatus.ACTIVE)
        .first()
    )


def _members(user: Any) -> QuerySet[Person]:
    household = portal_household(user=user)
    if household is None:
        return Person.objects.none()
    return Person.objects.filter(household=household, status=PersonStatus.LIVING)


def portal_members(*, user: Any) -> list[Person]:
    """The living members of the resident's household, householder first."""
    return list(
        _members(user)
        .annotate(
            is_head=Case(
                When(relation=Relation.SELF, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("is_head", "birth_date", "id")
    )


def portal_member(*, user: Any, person_id: int) -> Person:
    """One member of the resident's own household; 404 for anyone else."""
    person = _members(user).filter(pk=person_id).first()
    if person is None:
        raise Http404
    return person


def portal_corrections(*, user: Any) -> list[dict[str, Any]]:
    """The household's correction proposals, newest first, ready to show (phones masked)."""
    household = portal_household(user=user)
    if household is None:
        return []
    labels = {"name": _("Name"), "phone": _("Phone"), "notes": _("Notes")}
    rows = []
    for proposal in CorrectionProposal.objects.filter(household=household).select_related("person"):
        changes = [
            (labels.get(field, field), mask_phone(value) if field == "phone" else value)
            for field, value in (proposal.changes or {}).items()
        ]
        rows.append({"proposal": proposal, "changes": changes})
    return rows
