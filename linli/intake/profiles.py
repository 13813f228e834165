"""Named mapping profiles: save the column mapping a worker confirmed, reuse it next month.

A profile belongs to an area (a community or a grid) and is named uniquely there. It is
found for a new file by name (`linli import --mapping NAME`) or, with no name given, by the
file's source: the nearest profile of that source whose headers fit the file's headers
(`profile_fits`) is applied and the import asks no questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.intake.mapping import Mapping, fold_header
from linli.intake.models import MappingProfile

#: Fields without which no row can be placed (people_import refuses such a mapping).
REQUIRED_FIELDS = ("name", "building", "dwelling_number")


def mapping_problem(mapping: Mapping) -> str | None:
    """Why *mapping* cannot be used for a people import (translatable text), or None."""
    have = mapping.fields
    if any(f not in have for f in REQUIRED_FIELDS):
        return str(
            _(
                "Choose at least the columns for the name (姓名), the building (楼栋) and the "
                "dwelling number (房号)."
            )
        )
    chosen = [c.field for c in mapping.columns if c.field is not None]
    if len(chosen) != len(set(chosen)):
        return str(_("Each field can be fed by one column only; a field was chosen twice."))
    return None


def _check_actor(actor: Any, area: Area) -> None:
    if actor is not None and not scope_for(actor, Perm.CHANGE_REGISTER).covers(area):
        raise PermissionDenied(_("You may not change records outside your jurisdiction."))


# --- services ---------------------------------------------------------------------------------


def mapping_profile_save(
    *, actor: Any, area: Area, name: str, source: str, mapping: Mapping
) -> MappingProfile:
    """Save *mapping* as the profile *name* of *area* (create it, or update the one there).

    PermissionDenied when the actor may not import into the area; ValidationError for an
    empty name, an area that is not a community or grid, or a mapping that cannot be used.
    """
    _check_actor(actor, area)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the profile a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("A profile name has at most 100 characters.")})
    if area.kind not in (AreaKind.COMMUNITY, AreaKind.GRID):
        raise ValidationError({"area": _("Import into a community or a grid.")})
    problem = mapping_problem(mapping)
    if problem:
        raise ValidationError({"mapping": problem})
    data = mapping.to_dict()
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        profile = MappingProfile.objects.select_for_update().filter(area=area, name=name).first()
        if profile is None:
            profile = MappingProfile.objects.create(
                area=area, name=name, source=source[:64], mapping=data, created_by=user
            )
            action = AuditAction.CREATE
        else:
            if profile.source == source[:64] and profile.mapping == data:
                return profile
            profile.source = source[:64]
            profile.mapping = data
            profile.save(update_fields=["source", "mapping", "updated_at"])
            action = AuditAction.CHANGE
        audit_record(
            actor=actor,
            action=action,
            obj=profile,
            area=area,
            object_label=profile.name,
            changes={"source": profile.source, "fields": sorted(mapping.fields)},
        )
    return profile


def mapping_profile_delete(*, actor: Any, profile: MappingProfile) -> None:
    """Delete a profile (batches that used it keep their own copy of the mapping)."""
    _check_actor(actor, profile.area)
    with transaction.atomic():
        locked = MappingProfile.objects.select_for_update().filter(pk=profile.pk).first()
        if locked is None:
            return  # already gone: a repeated request changes nothing
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            obj=locked,
            area=locked.area,
            object_label=locked.name,
        )
        locked.delete()


# --- selectors --------------------------------------------------------------------------------


def mapping_profiles(*, user: Any) -> QuerySet[MappingProfile]:
    """The profiles the user may use: those of the areas where they may import."""
    return (
        MappingProfile.objects.restrict(user, Perm.CHANGE_REGISTER)
        .select_related("area", "created_by")
        .order_by("name", "id")
    )


def _for_area(user: Any, area: Area) -> QuerySet[MappingProfile]:
    """Profiles of *area* and of the areas above it, nearest first (system: all of them)."""
    chain = [int(x) for x in area.path.strip("/").split("/") if x]
    qs = MappingProfile.objects.all() if user is None else mapping_profiles(user=user)
    return qs.filter(area_id__in=chain).order_by("-area__depth", "-updated_at", "-id")


def mapping_profiles_for_area(*, user: Any, area: Area) -> QuerySet[MappingProfile]:
    """The profiles the user may apply to an import into *area*, nearest first."""
    return _for_area(user, area)


def mapping_profile_named(*, user: Any, area: Area, name: str) -> MappingProfile | None:
    """The profile called *name* for an import into *area* (its own, else the nearest above)."""
    return _for_area(user, area).filter(name=" ".join(name.split())).first()


def profile_fits(profile: MappingProfile, headers: Sequence[str]) -> bool:
    """True when the file's headers are exactly the profile's (in any order).

    A file with a column the profile does not know, or without a column the profile feeds a
    field from, needs the worker to look at the mapping again.
    """
    known = {fold_header(c["header"]) for c in profile.mapping.get("columns", [])}
    fed = {fold_header(c["header"]) for c in profile.mapping.get("columns", []) if c.get("field")}
    have = {fold_header(h) for h in headers if fold_header(h)}
    return bool(fed) and fed <= have and have <= known


def mapping_profile_fitting(
    *, user: Any, area: Area, source: str, headers: Sequence[str]
) -> MappingProfile | None:
    """The nearest profile of *source* whose headers fit the file, or None."""
    for profile in _for_area(user, area).filter(source=source[:64]):
        if profile_fits(profile, headers):
            return profile
    return None


def profile_mapping(profile: MappingProfile, headers: Sequence[str]) -> Mapping:
    """The profile applied to a file's headers (matched by header text)."""
    return Mapping.from_dict(profile.mapping).rebind(headers)
