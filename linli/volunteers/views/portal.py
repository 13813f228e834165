"""Portal pages (/p/volunteers/): apply as a volunteer, the points board, the store."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from linli.core.feedback import add_service_errors
from linli.portal.selectors import portal_household
from linli.portal.views import resident_required
from linli.volunteers import selectors as sel
from linli.volunteers import services as svc
from linli.volunteers.forms import ApplyForm
from linli.volunteers.models import VolunteerStatus


@never_cache
@resident_required
def apply(request: HttpRequest) -> HttpResponse:
    """Apply to serve in one's own grid; shows where an application stands."""
    user: Any = request.user
    volunteer = sel.my_volunteer(user)
    if volunteer is not None and volunteer.status != VolunteerStatus.REJECTED:
        return render(request, "volunteers/portal/applied.html", {"v": volunteer})
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.volunteer_apply(
                actor=user,
                kind=d["kind"],
                skills=d["skills"],
                availability=d["availability"],
                name_shown=d["name_shown"],
                employer=d["employer"],
                paired_community=d["paired_community"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Thank you! Your community will review your application."))
            return redirect("volunteers_portal:apply")
    return render(
        request,
        "volunteers/portal/apply.html",
        {"form": form, "household": portal_household(user=user), "v": volunteer},
    )


@resident_required
def board(request: HttpRequest) -> HttpResponse:
    """The points board (能量广场) of the resident's grid, this month."""
    _s, _e, month = sel.month_bounds(request.GET.get("month"))
    household = portal_household(user=request.user)
    volunteer = sel.my_volunteer(request.user)
    return render(
        request,
        "volunteers/portal/board.html",
        {
            "rows": sel.board_for_resident(request.user, month=month),
            "month": month,
            "household": household,
            "is_volunteer": volunteer is not None and volunteer.status == VolunteerStatus.APPROVED,
        },
    )


@resident_required
def store(request: HttpRequest) -> HttpResponse:
    """What the rewards store offers near the resident; volunteers go on to redeem."""
    household = portal_household(user=request.user)
    volunteer = sel.my_volunteer(request.user)
    rewards = list(sel.store_for(household.grid)) if household else []
    return render(
        request,
        "volunteers/portal/store.html",
        {
            "rewards": rewards,
            "is_volunteer": volunteer is not None and volunteer.status == VolunteerStatus.APPROVED,
        },
    )
