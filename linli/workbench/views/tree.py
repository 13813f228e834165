"""The jurisdiction tree pages: home, area, estate, building view (楼栋图) and dwelling."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.feedback import flash_error
from linli.core.scoping import scope_for
from linli.register import selectors as reg_sel
from linli.register import services as reg
from linli.register.models import (
    CorrectionProposal,
    CorrectionStatus,
    DwellingUse,
    Entrance,
    HouseholdStatus,
    Person,
    PersonStatus,
    Relation,
)
from linli.workbench import selectors as wb_sel
from linli.workbench.views.common import breadcrumb, may, staff_required


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's jurisdiction: the nodes they are bound to, each with its children counted."""
    user: Any = request.user
    roots = wb_sel.root_areas(user)
    if not roots and not scope_for(user, Perm.SERVE_AS_VOLUNTEER).is_empty:
        # A volunteer's workbench is their own small menu.
        return redirect("volunteers:me")
    root_counts = wb_sel.counts_by_area(user, roots)
    children = list(Area.objects.filter(parent__in=roots).order_by("code"))
    child_counts = wb_sel.counts_by_area(user, children)
    sections = [
        {
            "area": root,
            "counts": root_counts[root.pk],
            "crumbs": breadcrumb(user, root, include_self=False),
            "children": [
                {"area": c, "counts": child_counts[c.pk]}
                for c in children
                if c.parent_id == root.pk
            ],
        }
        for root in roots
    ]
    pending = (
        CorrectionProposal.objects.restrict(user, Perm.REVIEW_CORRECTIONS)
        .filter(status=CorrectionStatus.PENDING)
        .count()
    )
    return render(
        request, "workbench/home.html", {"sections": sections, "pending_corrections": pending}
    )


@staff_required
def area_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One node: breadcrumb, its children with counts, and its estates or buildings."""
    user: Any = request.user
    area = get_object_or_404(wb_sel.areas_visible(user), pk=pk)
    children = list(area.children.order_by("code"))
    estates: list[dict[str, Any]] = []
    buildings: list[dict[str, Any]] = []
    if area.kind == AreaKind.COMMUNITY:
        estate_rows = list(reg_sel.estates_visible(user).filter(community=area))
        n_buildings = dict(
            reg_sel.buildings_visible(user)
            .filter(estate__community=area)
            .order_by()
            .values("estate_id")
            .annotate(n=Count("id"))
            .values_list("estate_id", "n")
        )
        estates = [{"estate": e, "buildings": n_buildings.get(e.pk, 0)} for e in estate_rows]
    if area.kind == AreaKind.GRID:
        building_rows = list(reg_sel.buildings_visible(user).filter(grid=area))
        counts = wb_sel.counts_by_building(user, building_rows)
        buildings = [{"building": b, "counts": counts[b.pk]} for b in building_rows]
    context = {
        "area": area,
        "crumbs": breadcrumb(user, area, include_self=False),
        "counts": wb_sel.counts_by_area(user, [area])[area.pk],
        "children": [
            {"area": c, "counts": n}
            for c, n in zip(children, wb_sel.counts_by_area(user, children).values(), strict=True)
        ],
        "estates": estates,
        "buildings": buildings,
        "can_add_person": area.kind == AreaKind.GRID and may(user, Perm.CHANGE_REGISTER, area),
    }
    return render(request, "workbench/area_detail.html", context)


@staff_required
def estate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An estate (小区): the buildings in it that the user may see."""
    user: Any = request.user
    estate = get_object_or_404(reg_sel.estates_visible(user), pk=pk)
    building_rows = list(reg_sel.buildings_visible(user).filter(estate=estate))
    counts = wb_sel.counts_by_building(user, building_rows)
    context = {
        "estate": estate,
        "crumbs": breadcrumb(user, estate.community),
        "buildings": [{"building": b, "counts": counts[b.pk]} for b in building_rows],
    }
    return render(request, "workbench/estate_detail.html", context)


@staff_required
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The building view (楼栋图): floors top-down × dwellings, one block per entrance."""
    user: Any = request.user
    building = get_object_or_404(reg_sel.buildings_visible(user), pk=pk)
    plan = reg_sel.building_floor_plan(user=user, building=building)
    entrances: list[Entrance | None] = list(
        Entrance.objects.restrict(user).filter(building=building).order_by("sort_key", "name")
    )
    has_loose = any(
        cell["dwelling"].entrance_id is None for _floor, cells in plan["floors"] for cell in cells
    )
    if has_loose or not entrances:
        entrances.append(None)
    blocks = []
    for entrance in entrances:
        key = entrance.pk if entrance else None
        rows = [
            (floor, [c for c in cells if c["dwelling"].entrance_id == key])
            for floor, cells in plan["floors"]
        ]
        rows = [(floor, cells) for floor, cells in rows if cells]
        if rows:
            blocks.append({"entrance": entrance, "rows": rows})
    cells = [c for _floor, row in plan["floors"] for c in row]
    for c in cells:
        c["tag_objs"] = [plan["tags"][code] for code in c["tags"] if code in plan["tags"]]
    summary = {
        "dwellings": len(cells),
        "occupied": sum(1 for c in cells if c["occupancy"] == "occupied"),
        "rented": sum(1 for c in cells if c["occupancy"] == "rented"),
        "vacant": sum(1 for c in cells if c["occupancy"] == "vacant"),
        "residents": sum(c["residents"] for c in cells),
    }
    used_tags = sorted({code for c in cells for code in c["tags"]})
    context = {
        "building": building,
        "crumbs": breadcrumb(user, building.grid),
        "blocks": blocks,
        "tags": plan["tags"],
        "legend_tags": [plan["tags"][code] for code in used_tags if code in plan["tags"]],
        "summary": summary,
    }
    return render(request, "workbench/building_detail.html", context)


@staff_required
def dwelling_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A dwelling (房屋): its households with their members, and its timeline."""
    user: Any = request.user
    dwelling = get_object_or_404(reg_sel.dwellings_visible(user), pk=pk)
    households = list(
        reg_sel.households_visible(user).filter(dwelling=dwelling).order_by("status", "-created_at")
    )
    members: dict[int, list[Person]] = {h.pk: [] for h in households}
    for p in (
        Person.objects.restrict(user)
        .filter(household__in=households, status=PersonStatus.LIVING)
        .prefetch_related("person_tags__tag")
        .order_by("id")
    ):
        assert p.household_id is not None
        members[p.household_id].append(p)
    for rows in members.values():
        rows.sort(key=lambda p: p.relation != Relation.SELF)
    timeline = reg_sel.dwelling_timeline(user=user, dwelling=dwelling)[:50]
    context = {
        "has_active_household": any(h.status == HouseholdStatus.ACTIVE for h in households),
        "dwelling": dwelling,
        "building": dwelling.building,
        "crumbs": breadcrumb(user, dwelling.grid),
        "households": [{"household": h, "members": members[h.pk]} for h in households],
        "has_active": any(h.status == HouseholdStatus.ACTIVE for h in households),
        "timeline": timeline,
        "can_change": may(user, Perm.CHANGE_REGISTER, dwelling.grid),
        "is_rented": dwelling.use == DwellingUse.RENTED,
    }
    return render(request, "workbench/dwelling_detail.html", context)


@require_POST
@staff_required
def household_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a household in a dwelling (register.services.household_create)."""
    user: Any = request.user
    dwelling = get_object_or_404(reg_sel.dwellings_visible(user), pk=pk)
    try:
        household = reg.household_create(actor=user, dwelling=dwelling)
    except ValidationError as exc:
        flash_error(request, exc)
        return redirect("workbench:dwelling_detail", pk=dwelling.pk)
    messages.success(request, _("A new household was opened. Now register its householder."))
    return redirect("workbench:household_detail", pk=household.pk)
