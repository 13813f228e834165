"""Views of the command view (指挥舱): counts and charts over the user's jurisdiction.

Thin: resolve the selected node (404 outside scope), call the selectors, render. Users
without ``Perm.VIEW_COMMAND`` on any node get 403; anonymous users go to the sign-in page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.command.selectors import command_area, command_counts, command_estates
from linli.core.scoping import scope_for


@login_required(login_url="workbench:login")
def home(request: HttpRequest) -> HttpResponse:
    """The first page: totals, breakdown per child node, occupancy, tags, ages and a map."""
    if scope_for(request.user, Perm.VIEW_COMMAND).is_empty:
        raise PermissionDenied
    area = command_area(user=request.user, area_id=request.GET.get("area"))
    counts = command_counts(user=request.user, area=area)
    estates = command_estates(user=request.user, area=area)
    chart_data: dict[str, Any] = {
        "breakdown": [
            {"name": r["name"], "persons": r["persons"], "households": r["households"]}
            for r in counts["breakdown"]
        ],
        "occupancy": counts["occupancy"],
        "tags": [
            {"name": t["label"], "count": t["count"], "color": t["color"]} for t in counts["tags"]
        ],
        "ages": [
            {"name": b["label"], "male": b["male"], "female": b["female"], "unknown": b["unknown"]}
            for b in counts["age_bands"]
        ],
        "residency": [{"name": r["label"], "count": r["count"]} for r in counts["residency"]],
        "estates": estates,
        # Series names are translated here so the chart script holds no UI text.
        "labels": {
            "persons": _("Persons living here"),
            "households": _("Households"),
            "occupied": _("Occupied"),
            "rented": _("Rented"),
            "vacant": _("Vacant"),
            "male": _("Male"),
            "female": _("Female"),
            "unknown": _("Unknown"),
        },
    }
    return render(
        request,
        "command/home.html",
        {"counts": counts, "chart_data": chart_data, "has_map": bool(estates)},
    )
