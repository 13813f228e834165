"""Roles, the permissions each role carries, and which roles a role may grant.

Permissions are declared here once; pages, API operations and commands name the permission
they need and the scoping layer turns (user, permission) into the nodes it covers.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    VOLUNTEER = "volunteer", _("Volunteer")
    BUILDING_LEADER = "building_leader", _("Building leader")
    GRID_WORKER = "grid_worker", _("Grid worker")
    GRID_LEADER = "grid_leader", _("Grid leader")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    COMMUNITY_HEAD = "community_head", _("Community head")
    SUBDISTRICT_OFFICER = "subdistrict_officer", _("Subdistrict officer")
    DISTRICT_ADMIN = "district_admin", _("District administrator")
    DEPARTMENT = "department", _("Department liaison")


class Perm(StrEnum):
    """What a role binding allows on the nodes it covers."""

    VIEW_REGISTER = "register.view"
    CHANGE_REGISTER = "register.change"
    REVEAL_PII = "register.reveal"
    REVIEW_CORRECTIONS = "register.review"
    MANAGE_TAGS = "register.tags"
    MANAGE_USERS = "accounts.manage"
    VIEW_AUDIT = "audit.view"
    VIEW_COMMAND = "command.view"
    USE_API = "api.use"
    VIEW_EMERGENCY = "emergency.view"
    ACT_EMERGENCY = "emergency.act"
    MANAGE_EMERGENCY = "emergency.manage"


_STAFF_READ = {Perm.VIEW_REGISTER, Perm.VIEW_COMMAND, Perm.USE_API}
_WORKER = _STAFF_READ | {
    Perm.CHANGE_REGISTER,
    Perm.REVEAL_PII,
    Perm.REVIEW_CORRECTIONS,
    Perm.VIEW_AUDIT,
}
_HEAD = _WORKER | {Perm.MANAGE_USERS, Perm.MANAGE_TAGS}
# Emergency mode: workers see and act on arrivals, quarantines and check-ins in their nodes;
# heads (community and up) also declare, change and end events and keep the risk-area list.
_WORKER |= {Perm.VIEW_EMERGENCY, Perm.ACT_EMERGENCY}
_HEAD |= {Perm.VIEW_EMERGENCY, Perm.ACT_EMERGENCY, Perm.MANAGE_EMERGENCY}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    # Residents act through the portal on their own household only; no node-wide permission.
    Role.RESIDENT: frozenset(),
    # Volunteers take work orders (a later capability); they do not browse the register.
    Role.VOLUNTEER: frozenset(),
    Role.BUILDING_LEADER: frozenset({Perm.VIEW_REGISTER}),
    Role.GRID_WORKER: frozenset(_WORKER),
    Role.GRID_LEADER: frozenset(_WORKER | {Perm.MANAGE_USERS}),
    Role.COMMUNITY_WORKER: frozenset(_WORKER),
    Role.COMMUNITY_HEAD: frozenset(_HEAD),
    Role.SUBDISTRICT_OFFICER: frozenset(_HEAD),
    Role.DISTRICT_ADMIN: frozenset(_HEAD),
    # Departments see the register masked and the command view; no reveal, no edits.
    Role.DEPARTMENT: frozenset(_STAFF_READ),
}

# A user may grant a role only if it ranks at or below their own highest role on that node.
ROLE_RANK: dict[str, int] = {
    Role.RESIDENT: 0,
    Role.VOLUNTEER: 1,
    Role.BUILDING_LEADER: 2,
    Role.DEPARTMENT: 3,
    Role.GRID_WORKER: 3,
    Role.GRID_LEADER: 4,
    Role.COMMUNITY_WORKER: 5,
    Role.COMMUNITY_HEAD: 6,
    Role.SUBDISTRICT_OFFICER: 7,
    Role.DISTRICT_ADMIN: 8,
}

STAFF_ROLES = [r for r in Role if r not in (Role.RESIDENT,)]
