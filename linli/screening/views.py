"""Workbench pages of screening campaigns (/w/screening/): the campaigns, a board per grid,
the grid worker's phone list and one target. Thin: scoped selector (404 outside scope),
service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import AreaKind
from linli.areas.selectors import areas_visible
from linli.core.feedback import add_service_errors, flash_error
from linli.core.scoping import scope_for
from linli.emergency.models import Measure
from linli.emergency.selectors import events_for_area, events_visible
from linli.linkage.models import WatchList
from linli.register.models import Building, Tag
from linli.screening import forms as f
from linli.screening import selectors as sel
from linli.screening import services as svc
from linli.screening.models import OUTCOMES, CampaignSource, ScreeningTarget, TargetStatus
from linli.workbench.views.common import paginate, perm_required, pk_or_404


@perm_required(Perm.VIEW_SCREENING)
def campaign_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    qs = sel.campaigns_visible(user)
    event_id = request.GET.get("event")
    if event_id:
        qs = qs.filter(event_id=pk_or_404(event_id))
    return render(
        request,
        "screening/campaign_list.html",
        {
            "page": paginate(request, qs),
            "can_create": not scope_for(user, Perm.MANAGE_SCREENING).is_empty,
            "mine": sel.my_targets(user).count(),
        },
    )


@perm_required(Perm.MANAGE_SCREENING)
def campaign_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = f.CampaignForm(
        request.POST or None,
        initial={"event": request.GET.get("event") or None},
        areas=areas_visible(user, Perm.MANAGE_SCREENING)
        .filter(kind__in=[AreaKind.SUBDISTRICT, AreaKind.COMMUNITY, AreaKind.GRID])
        .order_by("path"),
        watch_lists=WatchList.objects.restrict(user, Perm.MATCH_LISTS),
        buildings=Building.objects.restrict(user, Perm.MANAGE_SCREENING).select_related("estate"),
        tags=Tag.objects.filter(is_active=True),
        events=events_visible(user).active(),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            campaign = svc.campaign_create(actor=user, **d)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The campaign is started with %(n)s people to reach.")
                % {"n": campaign.targets.count()},
            )
            return redirect("screening:campaign_detail", pk=campaign.pk)
    return render(request, "screening/campaign_form.html", {"form": form})


@perm_required(Perm.VIEW_SCREENING)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The board: per grid, how many reached / not reachable / moved away / left, and who is
    left, by name."""
    user: Any = request.user
    campaign = get_object_or_404(sel.campaigns_visible(user), pk=pk)
    board = sel.campaign_board(user=user, campaign=campaign)
    return render(
        request,
        "screening/campaign_detail.html",
        {"campaign": campaign, "board": board, "left": paginate(request, board["left"])},
    )


@perm_required(Perm.WORK_SCREENING)
def my_targets(request: HttpRequest) -> HttpResponse:
    """The grid worker's phone page: the people still to reach, big buttons on each."""
    user: Any = request.user
    page = paginate(request, sel.my_targets(user), per_page=20)
    return render(
        request,
        "screening/my_targets.html",
        {"page": page, "outcomes": OUTCOMES, "new_key": f.AttemptForm.new_key},
    )


def _target(user: Any, pk: int) -> ScreeningTarget:
    return get_object_or_404(sel.targets_visible(user), pk=pk)


def _may_start_measure(user: Any, target: ScreeningTarget) -> bool:
    """A reached person from a risk list may be put under a measure from here."""
    return bool(
        target.person_id
        and target.status == TargetStatus.REACHED
        and target.campaign.source == CampaignSource.WATCH_LIST
        and scope_for(user, Perm.ACT_EMERGENCY).covers(target.grid)
        and any(e.has(Measure.QUARANTINE) for e in events_for_area(target.grid))
    )


@perm_required(Perm.VIEW_SCREENING)
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    target = _target(user, pk)
    return render(
        request,
        "screening/target_detail.html",
        {
            "t": target,
            "attempts": target.attempts.select_related("actor"),
            "outcomes": OUTCOMES,
            "new_key": f.AttemptForm.new_key(),
            "is_assignee": target.assignee_id == user.pk,
            "start_measure": _may_start_measure(user, target),
            "stages": [
                {"key": "screened", "done": target.status != TargetStatus.PENDING},
                {"key": "verified", "done": target.verified_at is not None},
            ],
        },
    )


@require_POST
@perm_required(Perm.VIEW_SCREENING)
def target_record(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    target = _target(user, pk)
    form = f.AttemptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose reached, not reachable or moved away."))
    else:
        try:
            svc.target_record(actor=user, target=target, **form.cleaned_data)
        except ValidationError as exc:
            flash_error(request, exc)
            return redirect("screening:target_detail", pk=target.pk)
        except PermissionDenied:
            raise
        else:
            target.refresh_from_db()
            messages.success(
                request,
                _("%(name)s: %(status)s.")
                % {"name": target.name, "status": target.get_status_display()},
            )
    back = request.POST.get("back")
    if back == "mine":
        return redirect("screening:my_targets")
    return redirect("screening:target_detail", pk=target.pk)


@require_POST
@perm_required(Perm.VIEW_SCREENING)
def target_verify(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    target = _target(user, pk)
    try:
        svc.target_verify(actor=user, target=target)
    except ValidationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Verified."))
    return redirect("screening:target_detail", pk=target.pk)


@require_POST
@perm_required(Perm.VIEW_SCREENING)
def target_call(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal the phone to the assigned worker (audited) and show the call button."""
    user: Any = request.user
    target = _target(user, pk)
    try:
        number = svc.target_reveal_phone(actor=user, target=target)
    except ValidationError as exc:
        flash_error(request, exc)
        return redirect("screening:target_detail", pk=target.pk)
    return render(request, "screening/target_call.html", {"t": target, "number": number})
