"""Workbench pages of passes and checkpoints (/w/passes/). Thin: resolve the object through a
scoped selector (404 outside scope), call a service, render. Refusals of a visible object
answer 403."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import AreaKind
from linli.areas.selectors import areas_visible
from linli.core import signing
from linli.core.feedback import add_service_errors
from linli.core.scoping import scope_for
from linli.emergency.models import Measure
from linli.passes import forms as f
from linli.passes import selectors as sel
from linli.passes import services as ps
from linli.passes.models import PassKind, PassStatus, SwapStatus
from linli.passes.signing import accepted_keys
from linli.register.models import Estate, Household, Person, PersonStatus
from linli.workbench.views.common import paginate, perm_required, staff_required


def _may(user: Any, perm: Perm, area: Any) -> bool:
    return scope_for(user, perm).covers(area)


def _manage(user: Any, area: Any) -> None:
    if not _may(user, Perm.MANAGE_PASSES, area):
        raise PermissionDenied


@perm_required(Perm.VIEW_PASSES)
def home(request: HttpRequest) -> HttpResponse:
    """Checkpoints of the user's nodes, visitor passes waiting for a decision, links on."""
    user: Any = request.user
    checkpoints = sel.checkpoints_visible(user)
    waiting = sel.passes_visible(user).filter(status=PassStatus.APPLIED)
    return render(
        request,
        "passes/home.html",
        {
            "checkpoints": checkpoints,
            "waiting": waiting[:50],
            "waiting_count": waiting.count(),
            "can_manage": not scope_for(user, Perm.MANAGE_PASSES).is_empty,
        },
    )


def _checkpoint_form(request: HttpRequest) -> f.CheckpointForm:
    user: Any = request.user
    grids = areas_visible(user, Perm.MANAGE_PASSES).filter(kind=AreaKind.GRID).order_by("path")
    estates = Estate.objects.restrict(user, Perm.MANAGE_PASSES).order_by("name")
    return f.CheckpointForm(request.POST or None, estates=estates, grids=grids)


@perm_required(Perm.MANAGE_PASSES)
def checkpoint_create(request: HttpRequest) -> HttpResponse:
    form = _checkpoint_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            cp = ps.checkpoint_create(
                actor=request.user,
                estate=form.cleaned_data["estate"],
                grid=form.cleaned_data["grid"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Gate %(name)s added.") % {"name": cp.name})
            return redirect("passes:home")
    return render(request, "passes/checkpoint_form.html", {"form": form})


@perm_required(Perm.VIEW_PASSES)
def pass_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    status = request.GET.get("status", "")
    qs = sel.passes_visible(user)
    if status in PassStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "passes/pass_list.html",
        {"page": paginate(request, qs), "status": status, "statuses": PassStatus.choices},
    )


@perm_required(Perm.VIEW_PASSES)
def pass_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    p = get_object_or_404(sel.passes_visible(user), pk=pk)
    return render(
        request,
        "passes/pass_detail.html",
        {
            "p": p,
            "events": sel.pass_events(user, p).select_related("actor"),
            "can_manage": _may(user, Perm.MANAGE_PASSES, p.grid),
            "form": f.DecisionForm(),
            "scans": sel.scans_visible(user).filter(access_pass=p)[:20],
        },
    )


@perm_required(Perm.VIEW_PASSES)
@require_POST
def pass_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: Any = request.user
    p = get_object_or_404(sel.passes_visible(user), pk=pk)
    _manage(user, p.grid)
    note = str(request.POST.get("note", "")).strip()
    try:
        if action == "approve":
            ps.pass_decide(actor=user, access_pass=p, approve=True, note=note)
            messages.success(request, _("The pass is approved."))
        elif action == "refuse":
            ps.pass_decide(actor=user, access_pass=p, approve=False, note=note)
            messages.success(request, _("The pass is refused."))
        elif action == "revoke":
            ps.pass_revoke(actor=user, access_pass=p, reason=note)
            messages.success(request, _("The pass is revoked."))
        else:
            raise PermissionDenied
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    return redirect("passes:pass_detail", pk=p.pk)


@perm_required(Perm.MANAGE_PASSES)
def resident_pass_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a resident pass for a household of the user's nodes (whole or one member)."""
    user: Any = request.user
    household = get_object_or_404(Household.objects.restrict(user, Perm.MANAGE_PASSES), pk=pk)
    members = household.members.filter(status=PersonStatus.LIVING).order_by("pk")
    form = f.ResidentPassForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        holder = form.cleaned_data["holder"]
        person = members.filter(pk=int(holder)).first() if holder != "household" else None
        try:
            p = ps.resident_pass_issue(
                actor=user,
                person=person,
                household=household if person is None else None,
                valid_until=form.cleaned_data["valid_until"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The pass is issued."))
            return redirect("passes:pass_detail", pk=p.pk)
    return render(request, "passes/resident_pass_form.html", {"form": form, "household": household})


@perm_required(Perm.VIEW_PASSES)
def scan_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    qs = sel.scans_visible(user)
    checkpoint = request.GET.get("checkpoint", "")
    if checkpoint.isdigit():
        qs = qs.filter(checkpoint_id=int(checkpoint))
    return render(
        request,
        "passes/scan_list.html",
        {"page": paginate(request, qs), "checkpoints": sel.checkpoints_visible(user)},
    )


@perm_required(Perm.SCAN_PASSES)
def gate(request: HttpRequest, pk: int) -> HttpResponse:
    """The checkpoint phone page: scans or takes typed codes, checks them in the browser with
    the cached public keys and revocation list, queues scans while offline and sends each once
    (client id + Idempotency-Key) when the network is back."""
    user: Any = request.user
    cp = get_object_or_404(sel.checkpoints_visible(user, Perm.SCAN_PASSES), pk=pk)
    health_on = ps.measure_on(cp.grid, Measure.HEALTH_CODE)
    # The gate is in the user's scope; the colours are of every valid pass of its estate (a
    # resident of a sibling grid passes this gate too), by pass id only.
    colours = ps.health_colours_for_estate(cp.estate_id) if health_on else {}
    refused = ps.refused_passes(cp.estate_id)
    gate_data = {
        "checkpoint": cp.pk,
        "estate": cp.estate_id,
        "keys": {str(v): signing.b64(k) for v, k in accepted_keys().items()},
        "revoked": sorted(refused),
        # Of those, the passes closed with their event: the gate names that reason.
        "closed": sorted(pk for pk, status in refused.items() if status == PassStatus.CLOSED),
        "health_on": health_on,
        "colours": {str(k): v for k, v in colours.items()},
        "loaded_at": timezone.now().isoformat(),
    }
    return render(
        request,
        "passes/gate.html",
        {"cp": cp, "loaded_at": timezone.now(), "gate_json": json.dumps(gate_data)},
    )


@perm_required(Perm.VIEW_PASSES)
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    """A gate's duty roster: shifts from yesterday on, and a form to add one."""
    user: Any = request.user
    cp = get_object_or_404(sel.checkpoints_visible(user), pk=pk)
    can_manage = _may(user, Perm.MANAGE_PASSES, cp.grid)
    people = sel.gate_people(cp)
    form = f.ShiftForm(request.POST or None, people=people)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                ps.shift_create(
                    actor=user,
                    checkpoint=cp,
                    user=form.cleaned_data["user"],
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The shift is on the roster."))
                return redirect("passes:roster", pk=cp.pk)
    since = timezone.now() - dt.timedelta(days=1)
    shifts = sel.shifts_visible(user).filter(checkpoint=cp, ends_at__gte=since)
    swaps = sel.swaps_visible(user).filter(shift__checkpoint=cp, status=SwapStatus.ACCEPTED)
    return render(
        request,
        "passes/roster.html",
        {"cp": cp, "shifts": shifts, "swaps": swaps, "form": form, "can_manage": can_manage},
    )


@staff_required
def duty(request: HttpRequest) -> HttpResponse:
    """My duty: the shifts I stand, swaps asked of me, and the gates I scan at."""
    user: Any = request.user
    mine = sel.shifts_visible(user).filter(user=user).order_by("starts_at")
    asked = sel.swaps_visible(user).filter(to_user=user, status=SwapStatus.REQUESTED)
    gates = sel.checkpoints_visible(user, Perm.SCAN_PASSES).filter(is_active=True)
    return render(
        request,
        "passes/duty.html",
        {"shifts": mine, "asked": asked, "gates": gates, "now": timezone.now()},
    )


@staff_required
def shift_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Finish a shift (opens a volunteer's points claim) or ask someone to take it."""
    user: Any = request.user
    shift = get_object_or_404(sel.shifts_visible(user), pk=pk)
    people = sel.gate_people(shift.checkpoint).exclude(pk=shift.user_id)
    form = f.SwapForm(request.POST or None, people=people)
    if request.method == "POST":
        try:
            if action == "finish":
                _shift, claim, why = ps.shift_finish(actor=user, shift=shift)
                if claim is not None:
                    messages.success(request, _("Shift finished; the points claim is open."))
                else:
                    messages.success(request, _("Shift finished."))
                if why:
                    messages.warning(request, why)
                return redirect("passes:duty")
            if action == "swap" and form.is_valid():
                ps.swap_request(actor=user, shift=shift, to_user=form.cleaned_data["to_user"])
                messages.success(request, _("Asked; the swap waits for their answer."))
                return redirect("passes:duty")
            if action not in ("finish", "swap"):
                raise PermissionDenied
        except ValidationError as exc:
            add_service_errors(form, exc)
    return render(request, "passes/shift_action.html", {"shift": shift, "form": form})


@staff_required
@require_POST
def swap_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Answer a swap asked of me (accept/decline) or, as a worker, approve/refuse it."""
    user: Any = request.user
    swap = get_object_or_404(sel.swaps_visible(user), pk=pk)
    try:
        if action in ("accept", "decline"):
            ps.swap_answer(actor=user, swap=swap, accept=action == "accept")
        elif action in ("approve", "refuse"):
            _manage(user, swap.grid)
            ps.swap_decide(actor=user, swap=swap, approve=action == "approve")
        else:
            raise PermissionDenied
        messages.success(request, _("Done."))
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    if action in ("approve", "refuse"):
        return redirect("passes:roster", pk=swap.shift.checkpoint_id)
    return redirect("passes:duty")


@perm_required(Perm.MANAGE_PASSES)
def health_code(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a person's health code colour."""
    user: Any = request.user
    person = get_object_or_404(Person.objects.restrict(user, Perm.MANAGE_PASSES), pk=pk)
    current = sel.health_codes_visible(user).filter(person=person).first()
    form = f.HealthCodeForm(
        request.POST or None, initial={"colour": current.colour if current else ""}
    )
    if request.method == "POST" and form.is_valid():
        try:
            ps.health_code_set(
                actor=user,
                person=person,
                colour=form.cleaned_data["colour"],
                source=form.cleaned_data["source"] or _("Grid worker"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Health code saved."))
            return redirect("workbench:person_detail", pk=person.pk)
    return render(
        request,
        "passes/health_code.html",
        {"person": person, "form": form, "current": current, "kinds": PassKind},
    )
