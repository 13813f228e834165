"""Health pages: test rounds and their coverage, sampling-site entry on a phone, results,
imports, vaccination coverage, a person's health record, positive-result alerts (/w/health/),
and the resident's own records (/p/health/). Thin: resolve objects through scoped selectors
(404 outside scope), call a service, render."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.areas.selectors import areas_visible
from linli.core.feedback import add_service_errors, flash_error
from linli.core.scoping import scope_for
from linli.emergency import selectors as em_sel
from linli.health import forms as f
from linli.health import runs
from linli.health import selectors as sel
from linli.health import services as svc
from linli.health.importing import import_file
from linli.health.models import (
    AlertStatus,
    HealthSource,
    ImportRun,
    ImportRunStatus,
    RoundStatus,
    TestResult,
)
from linli.portal.views import resident_required
from linli.workbench.views.common import paginate, perm_required, pk_or_404, progress_partial

REJECTS_KEY = "health_rejected_rows"


def _round(user: Any, pk: int) -> Any:
    return get_object_or_404(sel.rounds_visible(user), pk=pk)


def _may(user: Any, perm: Perm, area: Any) -> bool:
    return scope_for(user, perm).covers(area)


@perm_required(Perm.VIEW_HEALTH)
def round_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    rounds = sel.rounds_visible(user)
    if request.GET.get("event"):
        rounds = rounds.filter(event_id=pk_or_404(request.GET["event"]))
    return render(
        request,
        "health/round_list.html",
        {
            "page": paginate(request, rounds),
            "can_open": not scope_for(user, Perm.MANAGE_TEST_ROUNDS).is_empty,
            "alerts": sel.open_alerts(user).count(),
        },
    )


@perm_required(Perm.MANAGE_TEST_ROUNDS)
def round_open(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    areas = list(areas_visible(user, Perm.MANAGE_TEST_ROUNDS).exclude(kind="city").order_by("path"))
    events = list(em_sel.events_visible(user).active())
    form = f.RoundForm(request.POST or None, areas=areas, events=events)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        area = next(a for a in areas if str(a.pk) == d["area"])
        event = next((e for e in events if str(e.pk) == d["event"]), None)
        try:
            rnd = svc.round_open(
                actor=user,
                name=d["name"],
                area=area,
                date=d["date"],
                sites=d["sites"].splitlines(),
                event=event,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The round is open."))
            return redirect("health:round_detail", pk=rnd.pk)
    return render(request, "health/round_form.html", {"form": form})


@perm_required(Perm.VIEW_HEALTH)
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    rnd = _round(user, pk)
    by = "building" if request.GET.get("by") == "building" else "grid"
    return render(
        request,
        "health/round_detail.html",
        {
            "round": rnd,
            "sites": sel.sites_of(user, rnd),
            "board": sel.round_coverage(user=user, rnd=rnd, by=by),
            "can_record": not scope_for(user, Perm.RECORD_HEALTH).is_empty,
            "can_close": _may(user, Perm.MANAGE_TEST_ROUNDS, rnd.area)
            and rnd.status == RoundStatus.OPEN,
        },
    )


@perm_required(Perm.VIEW_HEALTH)
def round_missing(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    rnd = _round(user, pk)
    grid = pk_or_404(request.GET["grid"]) if request.GET.get("grid") else None
    building = pk_or_404(request.GET["building"]) if request.GET.get("building") else None
    people = sel.round_missing(user=user, rnd=rnd, grid_id=grid, building_id=building)
    return render(
        request,
        "health/missing.html",
        {"round": rnd, "page": paginate(request, people), "title": _("Not tested in this round")},
    )


@require_POST
@perm_required(Perm.VIEW_HEALTH)
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    rnd = _round(user, pk)
    if not _may(user, Perm.MANAGE_TEST_ROUNDS, rnd.area):
        raise PermissionDenied
    try:
        svc.round_close(actor=user, round=rnd)
        messages.success(request, _("The round is closed."))
    except ValidationError as exc:
        flash_error(request, exc)
    return redirect("health:round_detail", pk=rnd.pk)


@perm_required(Perm.RECORD_HEALTH)
def sampling(request: HttpRequest, pk: int) -> HttpResponse:
    """The sampling-site page on a phone: find the person, tap "sampled"."""
    user: Any = request.user
    rnd = _round(user, pk)
    sites = list(sel.sites_of(user, rnd))
    site = next((s for s in sites if str(s.pk) == request.GET.get("site", "")), None)
    if request.method == "POST":
        site = next((s for s in sites if str(s.pk) == request.POST.get("site", "")), None)
        person = get_object_or_404(
            sel.round_people(user, rnd), pk=pk_or_404(request.POST.get("person"))
        )
        try:
            rec, created = svc.test_sample(
                actor=user, round=rnd, person=person, site=site, source=HealthSource.SITE
            )
        except ValidationError as exc:
            flash_error(request, exc)
        else:
            if created:
                messages.success(request, _("%(name)s: sampled.") % {"name": person.name})
            else:
                messages.info(
                    request,
                    _("%(name)s was already sampled in this round at %(at)s.")
                    % {"name": person.name, "at": rec.sampled_at.strftime("%H:%M")},
                )
        url = request.path + (f"?site={site.pk}" if site else "")
        return redirect(url)
    q = request.GET.get("q", "")
    found = sel.sampling_search(user=user, rnd=rnd, q=q)
    done = set(
        sel.records_visible(user)
        .filter(round=rnd, person__in=[p.pk for p in found])
        .values_list("person_id", flat=True)
    )
    ctx = {"round": rnd, "sites": sites, "site": site, "q": q, "found": found, "done": done}
    if request.headers.get("HX-Request") == "true":
        return render(request, "health/_sampling_results.html", ctx)
    ctx["count"] = sel.records_visible(user).filter(round=rnd).count()
    return render(request, "health/sampling.html", ctx)


@perm_required(Perm.RECORD_HEALTH)
def results(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter results: one person at a time, or tick several and give them one result."""
    user: Any = request.user
    rnd = _round(user, pk)
    pending = sel.records_visible(user).filter(round=rnd, result=TestResult.PENDING)
    if request.method == "POST":
        result = request.POST.get("result", "")
        ids = [pk_or_404(x) for x in request.POST.getlist("record")]
        chosen = list(pending.filter(pk__in=ids))
        if not chosen or result not in (TestResult.NEGATIVE, TestResult.POSITIVE):
            messages.error(request, _("Tick at least one person and choose a result."))
        else:
            try:
                n = svc.test_results_record(
                    actor=user,
                    round=rnd,
                    rows=[svc.ResultRow(person=r.person, result=result) for r in chosen],
                    source=HealthSource.ENTRY,
                )
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("%(n)d results recorded.") % {"n": n["changed"]})
        return redirect("health:results", pk=rnd.pk)
    return render(
        request,
        "health/results.html",
        {"round": rnd, "page": paginate(request, pending.order_by("grid__path", "person__name"))},
    )


@perm_required(Perm.RECORD_HEALTH)
def import_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    rounds = list(sel.rounds_visible(user)[:50])
    form = f.ImportForm(request.POST or None, request.FILES or None, rounds=rounds)
    outcome = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        rnd = next((r for r in rounds if str(r.pk) == d["round"]), None)
        upload = d["file"]
        if upload.size > runs.INLINE_MAX_BYTES:
            # A large file goes to the background worker: its page shows the progress.
            run = runs.import_run_queue(
                actor=user,
                chunks=upload.chunks(),
                file_name=upload.name,
                kind=d["kind"],
                round=rnd if d["kind"] == "results" else None,
            )
            return redirect("health:import_run", pk=run.pk)
        outcome = import_file(
            actor=user,
            kind=d["kind"],
            data=upload.read(),
            filename=upload.name,
            round=rnd if d["kind"] == "results" else None,
        )
        if outcome.written:
            messages.success(
                request,
                _("Imported: %(changed)d new or changed, %(same)d already recorded.")
                % {"changed": outcome.changed, "same": outcome.unchanged},
            )
            return redirect("health:import")
        if outcome.refused:
            request.session[REJECTS_KEY] = base64.b64encode(outcome.refused_workbook()).decode()
    recent = sel.import_runs(user=user)[:5]
    return render(request, "health/import.html", {"form": form, "outcome": outcome, "runs": recent})


def _run_context(run: ImportRun) -> dict[str, Any]:
    working = run.status in (ImportRunStatus.QUEUED, ImportRunStatus.RUNNING)
    return {"run": run, "progress": runs.import_run_progress(run), "working": working}


@perm_required(Perm.RECORD_HEALTH)
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """A file being imported in the background: its progress (the worker may leave and come
    back), then what it did or why nothing was imported."""
    run = get_object_or_404(sel.import_runs(user=request.user), pk=pk)
    has_file = run.status == ImportRunStatus.REFUSED and runs.refused_path(run.pk).exists()
    return render(request, "health/import_run.html", {**_run_context(run), "has_file": has_file})


@perm_required(Perm.RECORD_HEALTH)
def import_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it); the page reloads when the status moved on."""
    run = get_object_or_404(sel.import_runs(user=request.user), pk=pk)
    context = _run_context(run)
    return progress_partial(
        request,
        "health/_import_progress.html",
        context,
        status=run.status,
        working=context["working"],
    )


@perm_required(Perm.RECORD_HEALTH)
def import_run_rejects(request: HttpRequest, pk: int) -> HttpResponse:
    """The refused rows of a background run, with reasons (its worker's only)."""
    run = get_object_or_404(sel.import_runs(user=request.user), pk=pk)
    path = runs.refused_path(run.pk)
    if run.status != ImportRunStatus.REFUSED or not path.exists():
        raise Http404
    response = HttpResponse(
        path.read_bytes(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="rejected-rows.xlsx"'
    return response


@perm_required(Perm.RECORD_HEALTH)
def import_rejects(request: HttpRequest) -> HttpResponse:
    """The refused rows of this worker's last import, with reasons (kept in their session)."""
    data = request.session.get(REJECTS_KEY)
    if not data:
        raise Http404
    response = HttpResponse(
        base64.b64decode(data),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="rejected-rows.xlsx"'
    return response


def _area_param(request: HttpRequest, user: Any) -> Area | None:
    if not request.GET.get("area"):
        return None
    return get_object_or_404(
        areas_visible(user, Perm.VIEW_HEALTH), pk=pk_or_404(request.GET["area"])
    )


@perm_required(Perm.VIEW_HEALTH)
def coverage(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    area = _area_param(request, user)
    by = "building" if request.GET.get("by") == "building" else "grid"
    return render(
        request,
        "health/coverage.html",
        {"area": area, "board": sel.vaccination_coverage(user=user, area=area, by=by)},
    )


@perm_required(Perm.VIEW_HEALTH)
def unvaccinated(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    area = _area_param(request, user)
    grid = pk_or_404(request.GET["grid"]) if request.GET.get("grid") else None
    building = pk_or_404(request.GET["building"]) if request.GET.get("building") else None
    people = sel.unvaccinated(user=user, area=area, grid_id=grid, building_id=building)
    return render(
        request,
        "health/missing.html",
        {"round": None, "page": paginate(request, people), "title": _("No vaccination recorded")},
    )


@perm_required(Perm.VIEW_HEALTH)
def person_health(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's tests and vaccinations; workers who may record add a dose here."""
    user: Any = request.user
    person = get_object_or_404(sel.persons_for_health(user), pk=pk)
    can_record = _may(user, Perm.RECORD_HEALTH, person.grid)
    vaccinations = sel.vaccinations_visible(user).filter(person=person)
    # The next dose is what a worker records almost every time: offer it.
    form = f.VaccinationForm(request.POST or None, initial={"dose": len(vaccinations) + 1})
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                _vac, created = svc.vaccination_record(
                    actor=user,
                    person=person,
                    dose=d["dose"],
                    product=d["product"],
                    vaccinated_on=d["vaccinated_on"],
                    site=d["site"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Dose %(dose)d recorded.") % {"dose": d["dose"]}
                    if created
                    else _("This dose was already recorded."),
                )
                return redirect("health:person", pk=person.pk)
    return render(
        request,
        "health/person.html",
        {
            "person": person,
            "records": sel.records_visible(user).filter(person=person),
            "vaccinations": vaccinations,
            "form": form,
            "can_record": can_record,
        },
    )


@perm_required(Perm.VIEW_HEALTH)
def alert_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    status = request.GET.get("status", AlertStatus.OPEN)
    qs = sel.alerts_visible(user)
    if status in AlertStatus.values:
        qs = qs.filter(status=status)
    return render(
        request, "health/alert_list.html", {"page": paginate(request, qs), "status": status}
    )


@perm_required(Perm.VIEW_HEALTH)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A positive result: reach the person, then start a measure or say what was done."""
    user: Any = request.user
    alert = get_object_or_404(sel.alerts_visible(user), pk=pk)
    can_act = _may(user, Perm.RECORD_HEALTH, alert.grid)
    events = [
        e
        for e in em_sel.events_for_area(alert.grid)
        if e.has("quarantine") and _may(user, Perm.ACT_EMERGENCY, alert.grid)
    ]
    form = f.AlertForm(request.POST or None)
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied
        if form.is_valid():
            try:
                if request.POST.get("action") == "measure" and events:
                    if not form.cleaned_data["kind"]:
                        raise ValidationError({"kind": _("Choose a kind of quarantine.")})
                    svc.alert_start_measure(
                        actor=user, alert=alert, event=events[0], kind=form.cleaned_data["kind"]
                    )
                    messages.success(request, _("Measure started."))
                else:
                    svc.alert_done(actor=user, alert=alert, note=form.cleaned_data["note"])
                    messages.success(request, _("The alert is done."))
                return redirect("health:alert_detail", pk=alert.pk)
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, PermissionDenied):
                    raise
                add_service_errors(form, exc)
    return render(
        request,
        "health/alert_detail.html",
        {"alert": alert, "form": form, "can_act": can_act, "event": events[0] if events else None},
    )


@resident_required
def portal_mine(request: HttpRequest) -> HttpResponse:
    """我的检测与接种: the signed-in resident's own test results and vaccinations."""
    person_id: int = getattr(request.user, "person_id", 0) or 0
    return render(
        request,
        "health/portal_mine.html",
        {
            "records": sel.own_records([person_id]),
            "vaccinations": sel.own_vaccinations([person_id]),
        },
    )
