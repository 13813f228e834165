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
    REVIEW_DUPLICATES = "linkage.review"
    MATCH_LISTS = "linkage.match"
    FOLLOW_UP_FLAGS = "linkage.follow_up"
    MANAGE_CONCERNS = "linkage.categories"
    VIEW_ORDERS = "orders.view"
    HANDLE_ORDERS = "orders.handle"
    TAKE_ORDERS = "orders.take"
    ANSWER_ORDERS = "orders.answer"
    # Volunteers, activities, points and rewards (linli.volunteers).
    VIEW_VOLUNTEERS = "volunteers.view"
    MANAGE_VOLUNTEERS = "volunteers.manage"
    APPROVE_VOLUNTEERS = "volunteers.approve"
    SERVE_AS_VOLUNTEER = "volunteers.serve"
    VIEW_REPORTS = "reports.view"
    DESIGN_REPORTS = "reports.design"
    REQUEST_REPORTS = "reports.request"
    VIEW_EMERGENCY = "emergency.view"
    ACT_EMERGENCY = "emergency.act"
    MANAGE_EMERGENCY = "emergency.manage"
    # Work-order categories (linli.orders): one set for the deployment.
    MANAGE_ORDER_CATEGORIES = "orders.categories"
    # Notifications (linli.notify): the delivery list of a node and messaging its people.
    VIEW_NOTIFICATIONS = "notify.view"
    SEND_NOTIFICATIONS = "notify.send"
    # Supplies for closed households and community stock (linli.supplies).
    VIEW_SUPPLIES = "supplies.view"
    MANAGE_STOCK = "supplies.stock"
    # Screening campaigns (linli.screening).
    VIEW_SCREENING = "screening.view"
    WORK_SCREENING = "screening.work"
    MANAGE_SCREENING = "screening.manage"
    # Passes, checkpoints, gate scans, health codes and duty rosters (linli.passes).
    VIEW_PASSES = "passes.view"
    SCAN_PASSES = "passes.scan"
    MANAGE_PASSES = "passes.manage"
    # Health codes (linli.passes): set a person's colour, e.g. pushed by the health
    # department's system (POST /api/v1/health-codes).
    SET_HEALTH_CODES = "passes.health_codes"
    # Tests and vaccinations (linli.health): health data, its own permissions.
    VIEW_HEALTH = "health.view"
    RECORD_HEALTH = "health.record"
    MANAGE_TEST_ROUNDS = "health.rounds"


_STAFF_READ = {Perm.VIEW_REGISTER, Perm.VIEW_COMMAND, Perm.USE_API}
_WORKER = _STAFF_READ | {
    Perm.CHANGE_REGISTER,
    Perm.REVEAL_PII,
    Perm.REVIEW_CORRECTIONS,
    Perm.VIEW_AUDIT,
    Perm.REVIEW_DUPLICATES,
    Perm.MATCH_LISTS,
    Perm.FOLLOW_UP_FLAGS,
}
_HEAD = _WORKER | {Perm.MANAGE_USERS, Perm.MANAGE_TAGS, Perm.MANAGE_CONCERNS}
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

# The roles of community staff, from the grid up to the district (not departments, volunteers
# or residents): the capabilities below grant their working permissions to each of them.
_STAFF_ROLES = (
    Role.GRID_WORKER,
    Role.GRID_LEADER,
    Role.COMMUNITY_WORKER,
    Role.COMMUNITY_HEAD,
    Role.SUBDISTRICT_OFFICER,
    Role.DISTRICT_ADMIN,
)

# Work orders (linli.orders): staff see and handle the orders of their nodes and may take one
# themselves; volunteers take the orders of their grid; departments answer what is whistled.
for _role in _STAFF_ROLES:
    ROLE_PERMS[_role] = ROLE_PERMS[_role] | {
        Perm.VIEW_ORDERS,
        Perm.HANDLE_ORDERS,
        Perm.TAKE_ORDERS,
    }
ROLE_PERMS[Role.VOLUNTEER] = ROLE_PERMS[Role.VOLUNTEER] | {Perm.TAKE_ORDERS}
ROLE_PERMS[Role.DEPARTMENT] = ROLE_PERMS[Role.DEPARTMENT] | {Perm.ANSWER_ORDERS}
# Reports (linli.reports): staff render and download forms for their scope; heads and up
# design templates; departments and community staff register data requests.
_REPORT_PERMS: dict[str, set[Perm]] = {
    Role.GRID_WORKER: {Perm.VIEW_REPORTS},
    Role.GRID_LEADER: {Perm.VIEW_REPORTS},
    Role.COMMUNITY_WORKER: {Perm.VIEW_REPORTS, Perm.REQUEST_REPORTS},
    Role.COMMUNITY_HEAD: {Perm.VIEW_REPORTS, Perm.REQUEST_REPORTS, Perm.DESIGN_REPORTS},
    Role.SUBDISTRICT_OFFICER: {Perm.VIEW_REPORTS, Perm.REQUEST_REPORTS, Perm.DESIGN_REPORTS},
    Role.DISTRICT_ADMIN: {Perm.VIEW_REPORTS, Perm.REQUEST_REPORTS, Perm.DESIGN_REPORTS},
    Role.DEPARTMENT: {Perm.VIEW_REPORTS, Perm.REQUEST_REPORTS},
}
for _report_role, _report_perms in _REPORT_PERMS.items():
    ROLE_PERMS[_report_role] = ROLE_PERMS[_report_role] | _report_perms

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

# Volunteers (linli.volunteers): workers view and manage volunteers, activities, claims and the
# store of their nodes; registrations are approved by the community and above; a volunteer
# holds only the right to serve (their own menu).
_VOLUNTEER_PERMS: dict[str, set[Perm]] = {
    Role.VOLUNTEER: {Perm.SERVE_AS_VOLUNTEER},
    Role.GRID_WORKER: {Perm.VIEW_VOLUNTEERS, Perm.MANAGE_VOLUNTEERS},
    Role.GRID_LEADER: {Perm.VIEW_VOLUNTEERS, Perm.MANAGE_VOLUNTEERS},
    Role.COMMUNITY_WORKER: {
        Perm.VIEW_VOLUNTEERS,
        Perm.MANAGE_VOLUNTEERS,
        Perm.APPROVE_VOLUNTEERS,
    },
    Role.COMMUNITY_HEAD: {Perm.VIEW_VOLUNTEERS, Perm.MANAGE_VOLUNTEERS, Perm.APPROVE_VOLUNTEERS},
    Role.SUBDISTRICT_OFFICER: {
        Perm.VIEW_VOLUNTEERS,
        Perm.MANAGE_VOLUNTEERS,
        Perm.APPROVE_VOLUNTEERS,
    },
    Role.DISTRICT_ADMIN: {Perm.VIEW_VOLUNTEERS, Perm.MANAGE_VOLUNTEERS, Perm.APPROVE_VOLUNTEERS},
}
for _vol_role, _vol_perms in _VOLUNTEER_PERMS.items():
    ROLE_PERMS[_vol_role] = ROLE_PERMS[_vol_role] | _vol_perms

STAFF_ROLES = [r for r in Role if r not in (Role.RESIDENT,)]

# Work-order categories (linli.orders): one set for the deployment, kept by the subdistrict and
# the district (their time limits bind every grid).
for _cat_role in (Role.SUBDISTRICT_OFFICER, Role.DISTRICT_ADMIN):
    ROLE_PERMS[_cat_role] = ROLE_PERMS[_cat_role] | {Perm.MANAGE_ORDER_CATEGORIES}

# Notifications (linli.notify): staff who act in a node see what was sent there and may
# message its people (mass reminders); every signed-in user has their own inbox regardless.
# Supplies and screening (linli.supplies, linli.screening): every worker sees the supply
# requests, keeps the stock and works the screening targets of their nodes; grid leaders and up
# also start screening campaigns. Volunteers reach supply requests through the work orders.
# Passes and checkpoints (linli.passes): staff see passes, scans and rosters of their nodes,
# issue and decide passes, set health codes and keep the rosters; a volunteer scans at the gates
# of their grid (the gate page) and sees the roster they stand on.
for _staff_role in _STAFF_ROLES:
    ROLE_PERMS[_staff_role] = ROLE_PERMS[_staff_role] | {
        Perm.VIEW_NOTIFICATIONS,
        Perm.SEND_NOTIFICATIONS,
        Perm.VIEW_SUPPLIES,
        Perm.MANAGE_STOCK,
        Perm.VIEW_SCREENING,
        Perm.WORK_SCREENING,
        Perm.VIEW_PASSES,
        Perm.SCAN_PASSES,
        Perm.MANAGE_PASSES,
    }
    if _staff_role != Role.GRID_WORKER:
        ROLE_PERMS[_staff_role] = ROLE_PERMS[_staff_role] | {Perm.MANAGE_SCREENING}
ROLE_PERMS[Role.VOLUNTEER] = ROLE_PERMS[Role.VOLUNTEER] | {Perm.SCAN_PASSES}
# Tests and vaccinations (linli.health): results and vaccinations are health data. Workers see
# and record them in their nodes (sampling, results, doses); heads (community and up) also open
# and close test rounds. Departments and building leaders get none of it.
_HEALTH_PERMS: dict[str, set[Perm]] = {
    Role.GRID_WORKER: {Perm.VIEW_HEALTH, Perm.RECORD_HEALTH},
    Role.GRID_LEADER: {Perm.VIEW_HEALTH, Perm.RECORD_HEALTH},
    Role.COMMUNITY_WORKER: {Perm.VIEW_HEALTH, Perm.RECORD_HEALTH},
    Role.COMMUNITY_HEAD: {Perm.VIEW_HEALTH, Perm.RECORD_HEALTH, Perm.MANAGE_TEST_ROUNDS},
    Role.SUBDISTRICT_OFFICER: {Perm.VIEW_HEALTH, Perm.RECORD_HEALTH, Perm.MANAGE_TEST_ROUNDS},
    Role.DISTRICT_ADMIN: {Perm.VIEW_HEALTH, Perm.RECORD_HEALTH, Perm.MANAGE_TEST_ROUNDS},
}
for _health_role, _health_perms in _HEALTH_PERMS.items():
    ROLE_PERMS[_health_role] = ROLE_PERMS[_health_role] | _health_perms
# Health codes (linli.passes): the colours a gate shows. Staff who keep passes set them by
# hand; a department (the health department's system, through its API token) pushes them for
# the people of the nodes it is bound to. That is all a department gets of passes and health
# data: it still sees no pass, scan, test result or vaccination, and reveals nothing.
for _code_role in (*_STAFF_ROLES, Role.DEPARTMENT):
    ROLE_PERMS[_code_role] = ROLE_PERMS[_code_role] | {Perm.SET_HEALTH_CODES}
