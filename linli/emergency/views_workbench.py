"""Workbench pages of emergency mode (/w/e/). Thin: resolve the object through a scoped
selector (404 outside scope), call a service, render. Refusals of a visible object answer 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import AreaKind
from linli.areas.selectors import areas_visible
from linli.core.feedback import add_service_errors, flash_error
from linli.core.scoping import scope_for
from linli.emergency import certificates
from linli.emergency import forms as f
from linli.emergency import selectors as sel
from linli.emergency import services as em
from linli.emergency.measures import links_for as measure_links
from linli.emergency.models import (
    ArrivalDecision,
    ArrivalSource,
    EmergencyEvent,
    EventStatus,
    Measure,
    QuarantineStatus,
    TaskStatus,
)
from linli.register.models import Person
from linli.workbench.views.common import paginate, perm_required, pk_or_404, staff_required

ARRIVAL_SALT = "linli.emergency.arrival"


def arrival_token(event: EmergencyEvent, grid_id: int) -> str:
    """The signed part of a gate poster's URL: which event and which grid it registers into."""
    return signing.dumps({"e": event.pk, "g": grid_id}, salt=ARRIVAL_SALT, compress=True)


def _may(user: Any, perm: Perm, areas: Any) -> bool:
    scope = scope_for(user, perm)
    return all(scope.covers(a) for a in areas)


def _event(user: Any, pk: int) -> EmergencyEvent:
    return get_object_or_404(sel.events_visible(user), pk=pk)


@perm_required(Perm.VIEW_EMERGENCY)
def event_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    events = sel.events_visible(user).prefetch_related("areas")
    return render(
        request,
        "emergency/event_list.html",
        {
            "active": [e for e in events if e.status == EventStatus.ACTIVE],
            "ended": [e for e in events if e.status == EventStatus.ENDED][:50],
            "can_declare": not scope_for(user, Perm.MANAGE_EMERGENCY).is_empty,
        },
    )


def _declarable_areas(user: Any) -> Any:
    return areas_visible(user, Perm.MANAGE_EMERGENCY).exclude(kind=AreaKind.CITY).order_by("path")


@perm_required(Perm.MANAGE_EMERGENCY)
def event_declare(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = f.EventForm(request.POST or None, area_choices=_declarable_areas(user))
    if request.method == "POST" and form.is_valid():
        try:
            event = em.event_declare(
                actor=user,
                areas=list(form.cleaned_data["areas"]),
                is_drill=form.cleaned_data["is_drill"],
                **form.service_kwargs(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The event is declared; its areas are in emergency mode."))
            return redirect("emergency:event_detail", pk=event.pk)
    return render(request, "emergency/event_form.html", {"form": form, "event": None})


@perm_required(Perm.VIEW_EMERGENCY)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The event's dashboard per grid: under quarantine, checked in today, missing, alerts,
    and the closed loop."""
    user: Any = request.user
    event = _event(user, pk)
    covered = list(event.areas.all())
    board = sel.event_dashboard(user=user, event=event)
    return render(
        request,
        "emergency/event_detail.html",
        {
            "event": event,
            "covered": covered,
            "board": board,
            "can_manage": _may(user, Perm.MANAGE_EMERGENCY, covered),
            "can_act": not scope_for(user, Perm.ACT_EMERGENCY).is_empty,
            "risk_areas": event.risk_areas.all(),
            "measure_labels": [Measure(m).label for m in event.measures],
            "measure_links": measure_links(
                event, allowed=lambda perm: not scope_for(user, perm).is_empty
            ),
        },
    )


@perm_required(Perm.VIEW_EMERGENCY)
def event_change(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    event = _event(user, pk)
    if not _may(user, Perm.MANAGE_EMERGENCY, event.areas.all()):
        raise PermissionDenied
    if event.status != EventStatus.ACTIVE:
        messages.error(request, _("This event has ended; it cannot change."))
        return redirect("emergency:event_detail", pk=event.pk)
    form = f.EventForm(request.POST or None, editing=True, initial=f.EventForm.initial_from(event))
    if request.method == "POST" and form.is_valid():
        try:
            em.event_change(actor=user, event=event, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The event is changed."))
            return redirect("emergency:event_detail", pk=event.pk)
    return render(request, "emergency/event_form.html", {"form": form, "event": event})


@perm_required(Perm.VIEW_EMERGENCY)
def event_end(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    event = _event(user, pk)
    if not _may(user, Perm.MANAGE_EMERGENCY, event.areas.all()):
        raise PermissionDenied
    if request.method == "POST" and request.POST.get("confirm") == "1":
        try:
            em.event_end(actor=user, event=event)
        except ValidationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("The event has ended; its measures are closed."))
        return redirect("emergency:event_detail", pk=event.pk)
    return render(request, "emergency/event_end.html", {"event": event})


@perm_required(Perm.VIEW_EMERGENCY)
def risk_areas(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    event = _event(user, pk)
    can_manage = _may(user, Perm.MANAGE_EMERGENCY, event.areas.all())
    form = f.RiskAreaForm(request.POST or None, initial={"from_date": timezone.localdate()})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                em.risk_area_add(actor=user, event=event, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The risk area is added."))
                return redirect("emergency:risk_areas", pk=event.pk)
    return render(
        request,
        "emergency/risk_areas.html",
        {
            "event": event,
            "risk_areas": event.risk_areas.all(),
            "form": form,
            "can_manage": can_manage,
        },
    )


@perm_required(Perm.VIEW_EMERGENCY)
def risk_area_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    risk = get_object_or_404(sel.risk_areas_visible(user), pk=pk)
    if not _may(user, Perm.MANAGE_EMERGENCY, risk.event.areas.all()):
        raise PermissionDenied
    initial = {
        k: getattr(risk, k) for k in ("name", "region_code", "level", "from_date", "to_date")
    }
    form = f.RiskAreaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            em.risk_area_change(actor=user, risk_area=risk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The risk area is changed."))
            return redirect("emergency:risk_areas", pk=risk.event_id)
    return render(request, "emergency/risk_area_edit.html", {"risk": risk, "form": form})


@perm_required(Perm.VIEW_EMERGENCY)
def arrival_list(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    event = _event(user, pk)
    qs = sel.arrivals_visible(user).filter(event=event)
    decision = request.GET.get("decision", "")
    if decision in ArrivalDecision.values:
        qs = qs.filter(decision=decision)
    return render(
        request,
        "emergency/arrival_list.html",
        {
            "event": event,
            "page": paginate(request, qs),
            "decision": decision,
            "decisions": ArrivalDecision.choices,
            "can_act": not scope_for(user, Perm.ACT_EMERGENCY).is_empty,
            "posters": sel.event_grids(user, event),
        },
    )


@perm_required(Perm.VIEW_EMERGENCY)
def arrival_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A worker registers an arrival in one of their grids the event covers."""
    user: Any = request.user
    event = _event(user, pk)
    grids = [
        g for g in sel.event_grids(user, event) if scope_for(user, Perm.ACT_EMERGENCY).covers(g)
    ]
    if not grids:
        raise PermissionDenied
    form = f.ArrivalForm(request.POST or None, event=event)
    grid_id = request.POST.get("grid") or (str(grids[0].pk) if len(grids) == 1 else "")
    if request.method == "POST" and form.is_valid():
        grid = next((g for g in grids if str(g.pk) == grid_id), None)
        if grid is None:
            form.add_error(None, _("Choose the grid where the person is staying."))
        else:
            d = form.cleaned_data
            try:
                arrival = em.arrival_register(
                    actor=user,
                    event=event,
                    grid=grid,
                    name=d["name"],
                    national_id=d["national_id"],
                    phone=d["phone"],
                    risk_area=d["risk_area"],
                    from_text=d["from_text"],
                    arrived_on=d["arrived_on"],
                    travel_mode=d["travel_mode"],
                    address=d["address"],
                    source=ArrivalSource.WORKER,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The arrival is registered."))
                return redirect("emergency:arrival_detail", pk=arrival.pk)
    return render(
        request,
        "emergency/arrival_form.html",
        {"event": event, "form": form, "grids": grids, "grid_id": grid_id},
    )


@perm_required(Perm.VIEW_EMERGENCY)
def arrival_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One arrival: details (masked), its stage in the closed loop; verify or decide."""
    user: Any = request.user
    arrival = get_object_or_404(sel.arrivals_visible(user), pk=pk)
    can_act = scope_for(user, Perm.ACT_EMERGENCY).covers(arrival.grid)
    form = f.DecideForm(request.POST or None)
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "verify":
                em.arrival_verify(actor=user, arrival=arrival)
                messages.success(request, _("The registration is verified."))
                return redirect("emergency:arrival_detail", pk=arrival.pk)
            if form.is_valid():
                em.arrival_decide(
                    actor=user,
                    arrival=arrival,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("The decision is recorded."))
                return redirect("emergency:arrival_detail", pk=arrival.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
    quarantine = sel.quarantines_visible(user).filter(arrival=arrival).first()
    return render(
        request,
        "emergency/arrival_detail.html",
        {
            "arrival": arrival,
            "quarantine": quarantine,
            "stages": sel.person_stages(arrival=arrival, quarantine=quarantine),
            "form": form,
            "can_act": can_act,
        },
    )


@perm_required(Perm.VIEW_EMERGENCY)
def quarantine_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    qs = sel.quarantines_visible(user)
    status = request.GET.get("status", QuarantineStatus.ACTIVE)
    if status in QuarantineStatus.values:
        qs = qs.filter(status=status)
    if request.GET.get("event"):
        qs = qs.filter(event_id=pk_or_404(request.GET["event"]))
    if request.GET.get("grid"):
        qs = qs.filter(grid_id=pk_or_404(request.GET["grid"]))
    today = timezone.localdate()
    if request.GET.get("missing") == "1":
        qs = qs.filter(starts_on__lte=today, planned_end__gt=today).exclude(check_ins__day=today)
    q = (request.GET.get("q") or "").strip()[:50]
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(phone_masked__endswith=q) | Q(address__contains=q))
    page = paginate(request, qs)
    checked = set(
        sel.quarantines_visible(user)
        .filter(pk__in=[x.pk for x in page], check_ins__day=today)
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "emergency/quarantine_list.html",
        {
            "page": page,
            "status": status,
            "statuses": QuarantineStatus.choices,
            "checked": checked,
            "q": q,
            "today": today,
            "query": request.GET.urlencode(),
        },
    )


def _quarantine(user: Any, pk: int) -> Any:
    return get_object_or_404(sel.quarantines_visible(user), pk=pk)


@perm_required(Perm.VIEW_EMERGENCY)
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    q = _quarantine(user, pk)
    today = timezone.localdate()
    check_ins = list(sel.quarantine_check_ins(user=user, quarantine=q))
    missing = em.missing_days(q, today)
    cert = getattr(q, "certificate", None) if q.status == QuarantineStatus.RELEASED else None
    return render(
        request,
        "emergency/quarantine_detail.html",
        {
            "q": q,
            "timeline": sel.quarantine_timeline(user=user, quarantine=q)[:200],
            "check_ins": check_ins,
            "missing": missing,
            "can_act": scope_for(user, Perm.ACT_EMERGENCY).covers(q.grid),
            "is_active": q.status == QuarantineStatus.ACTIVE,
            "can_release": q.status == QuarantineStatus.ACTIVE
            and today >= q.planned_end
            and not missing,
            "stages": sel.person_stages(arrival=q.arrival, quarantine=q),
            "tasks": sel.tasks_visible(user).filter(quarantine=q),
            "certificate": cert,
            "cert_qr": certificates.qr_svg(cert.payload) if cert else "",
            "checkin_form": f.WorkerCheckInForm(initial={"day": today}),
            "extend_form": f.ExtendForm(),
            "transfer_form": f.TransferForm(),
            "today": today,
        },
    )


def _acting_on(user: Any, pk: int) -> Any:
    q = _quarantine(user, pk)
    if not scope_for(user, Perm.ACT_EMERGENCY).covers(q.grid):
        raise PermissionDenied
    return q


@perm_required(Perm.VIEW_EMERGENCY)
def checkin_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A worker records a check-in on the person's behalf (today, or a missed earlier day)."""
    user: Any = request.user
    q = _acting_on(user, pk)
    form = f.WorkerCheckInForm(request.POST or None, initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            check = em.checkin_record(
                actor=user,
                quarantine=q,
                temperature=d["temperature"],
                symptoms=d["symptoms"],
                note=d["note"],
                day=d["day"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if check.is_alert:
                messages.warning(request, _("Recorded. A health alert and a task were raised."))
            else:
                messages.success(request, _("The check-in is recorded."))
            return redirect("emergency:quarantine_detail", pk=q.pk)
    return render(request, "emergency/checkin_form.html", {"q": q, "form": form})


@perm_required(Perm.VIEW_EMERGENCY)
def quarantine_extend(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    q = _acting_on(user, pk)
    form = f.ExtendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            em.quarantine_extend(actor=user, quarantine=q, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The measure is extended."))
            return redirect("emergency:quarantine_detail", pk=q.pk)
    return render(
        request,
        "emergency/simple_form.html",
        {
            "q": q,
            "form": form,
            "title": _("Extend the measure"),
            "action": reverse("emergency:quarantine_extend", args=[q.pk]),
        },
    )


@perm_required(Perm.VIEW_EMERGENCY)
def quarantine_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    q = _acting_on(user, pk)
    form = f.TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            em.quarantine_transfer(actor=user, quarantine=q, to=form.cleaned_data["to"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The transfer is recorded."))
            return redirect("emergency:quarantine_detail", pk=q.pk)
    return render(
        request,
        "emergency/simple_form.html",
        {
            "q": q,
            "form": form,
            "title": _("Transfer"),
            "action": reverse("emergency:quarantine_transfer", args=[q.pk]),
        },
    )


@require_POST
@perm_required(Perm.VIEW_EMERGENCY)
def quarantine_release(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    q = _acting_on(user, pk)
    try:
        em.quarantine_release(actor=user, quarantine=q)
    except ValidationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Released. The release certificate is ready."))
    return redirect("emergency:quarantine_detail", pk=q.pk)


@perm_required(Perm.VIEW_EMERGENCY)
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    q = _quarantine(user, pk)
    cert = getattr(q, "certificate", None)
    if cert is None:
        raise PermissionDenied
    response = HttpResponse(certificates.certificate_document(cert), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="release-{cert.number}.pdf"'
    return response


@perm_required(Perm.VIEW_EMERGENCY)
def task_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    status = request.GET.get("status", TaskStatus.OPEN)
    qs = sel.tasks_visible(user)
    if status in TaskStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "emergency/task_list.html",
        {
            "page": paginate(request, qs),
            "status": status,
            "statuses": TaskStatus.choices,
            "form": f.TaskDoneForm(),
        },
    )


@perm_required(Perm.VIEW_EMERGENCY)
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    task = get_object_or_404(sel.tasks_visible(user), pk=pk)
    if not scope_for(user, Perm.ACT_EMERGENCY).covers(task.grid):
        raise PermissionDenied
    if request.method == "POST":
        form = f.TaskDoneForm(request.POST)
        if form.is_valid():
            try:
                em.task_done(actor=user, task=task, note=form.cleaned_data["note"])
            except ValidationError as exc:
                flash_error(request, exc)
            else:
                messages.success(request, _("The task is done."))
    return redirect(reverse("emergency:task_list"))


@staff_required
def poster(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable gate poster per grid: a QR code leading to the arrival form (signed URL)."""
    user: Any = request.user
    grid = get_object_or_404(areas_visible(user, Perm.VIEW_EMERGENCY), pk=pk, kind=AreaKind.GRID)
    items = []
    for event in sel.events_for_area(grid):
        if Measure.ARRIVALS not in event.measures:
            continue
        url = request.build_absolute_uri(
            reverse("emergency:arrive", kwargs={"token": arrival_token(event, grid.pk)})
        )
        items.append({"event": event, "url": url, "qr": certificates.qr_svg(url, scale=6)})
    return render(request, "emergency/poster.html", {"grid": grid, "items": items})


@perm_required(Perm.VIEW_EMERGENCY)
def person_measure(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a person of the register under a measure of an event covering their grid."""
    user: Any = request.user
    person = get_object_or_404(Person.objects.restrict(user, Perm.VIEW_EMERGENCY), pk=pk)
    if not scope_for(user, Perm.ACT_EMERGENCY).covers(person.grid):
        raise PermissionDenied
    events = EmergencyEvent.objects.filter(
        pk__in=[e.pk for e in sel.events_for_area(person.grid) if e.has(Measure.QUARANTINE)]
    )
    form = f.PersonMeasureForm(request.POST or None, events=events)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            q = em.quarantine_start(
                actor=user,
                event=d["event"],
                person=person,
                kind=d["kind"],
                reason=d["reason"],
                starts_on=d["starts_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The measure has started."))
            return redirect("emergency:quarantine_detail", pk=q.pk)
    current = sel.quarantines_visible(user).filter(person=person).first()
    return render(
        request,
        "emergency/person_measure.html",
        {"person": person, "form": form, "has_events": events.exists(), "current": current},
    )
