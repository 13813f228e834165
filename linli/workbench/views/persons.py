"""Person pages: search, details with audited reveal, create, edit, and register events
(move out, record a death, move house)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.feedback import add_service_errors
from linli.register import selectors as reg_sel
from linli.register import services as reg
from linli.register.models import HouseholdStatus, Person, PersonStatus
from linli.workbench import forms as wb_forms
from linli.workbench import selectors as wb_sel
from linli.workbench.views.common import (
    breadcrumb,
    is_htmx,
    may,
    paginate,
    pk_or_404,
    staff_required,
)

FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "national_id": gettext_lazy("National ID"),
    "phone": gettext_lazy("Phone"),
    "residency": gettext_lazy("Residency"),
    "relation": gettext_lazy("Relation to householder"),
    "hukou_address": gettext_lazy("Hukou address"),
    "current_address": gettext_lazy("Current address as written"),
    "notes": gettext_lazy("Notes"),
}
SOURCE_LABELS = {
    "worker": gettext_lazy("Entered by staff"),
    "resident": gettext_lazy("Corrected by the resident"),
    "import": gettext_lazy("Imported"),
    "demo": gettext_lazy("Demo data"),
}
REVEAL_FIELDS = {"national_id": gettext_lazy("National ID"), "phone": gettext_lazy("Phone")}


def _person(user: Any, pk: int) -> Person:
    return get_object_or_404(
        reg_sel.persons_visible(user).select_related("household__dwelling", "grid"), pk=pk
    )


@staff_required
def person_list(request: HttpRequest) -> HttpResponse:
    """Search the register; htmx swaps only the results table, plain GET works without JS."""
    user: Any = request.user
    # Upper levels first: for a district the first 300 are its subdistricts and communities.
    areas = wb_sel.areas_visible(user).exclude(kind=AreaKind.CITY).order_by("depth", "path")[:300]
    form = wb_forms.PersonFilterForm(request.GET or None, areas=areas)
    filters: dict[str, Any] = {"q": "", "tag": "", "status": PersonStatus.LIVING, "residency": ""}
    area_id = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters.update(q=data["q"], tag=data["tag"], residency=data["residency"])
        status = data["status"] or PersonStatus.LIVING
        filters["status"] = "" if status == "all" else status
        area_id = data["area"]
    qs = reg_sel.person_search(user=user, area_id=area_id, **filters).prefetch_related(
        "person_tags__tag"
    )
    page = paginate(request, qs, capped=True)
    context = {"form": form, "page": page, "searched": bool(filters["q"])}
    if is_htmx(request) and request.headers.get("HX-Target") == "results":
        return render(request, "workbench/persons/_results.html", context)
    return render(request, "workbench/persons/list.html", context)


@staff_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's details (masked), provenance, tags, household link and timeline."""
    user: Any = request.user
    person = _person(user, pk)
    by_ids = {e.get("by") for e in person.provenance.values() if e.get("by")}
    by_label = {u.pk: u.label for u in User.objects.filter(pk__in=by_ids)}
    provenance = [
        {
            "field": FIELD_LABELS.get(name, name),
            "source": SOURCE_LABELS.get(entry.get("source", ""), entry.get("source", "")),
            "confirmed_at": parse_datetime(entry.get("confirmed_at") or ""),
            "by": by_label.get(entry.get("by"), ""),
        }
        for name, entry in person.provenance.items()
    ]
    context = {
        "person": person,
        "crumbs": breadcrumb(user, person.grid),
        "tags": [pt.tag for pt in person.person_tags.select_related("tag")],
        "provenance": provenance,
        "timeline": reg_sel.person_timeline(user=user, person=person)[:100],
        "can_reveal": may(user, Perm.REVEAL_PII, person.grid),
        "can_change": may(user, Perm.CHANGE_REGISTER, person.grid),
        "is_living": person.status == PersonStatus.LIVING,
    }
    return render(request, "workbench/persons/detail.html", context)


@never_cache
@staff_required
def person_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Ask for a reason, then show the full national ID or phone (person_reveal audits it)."""
    user: Any = request.user
    if field not in REVEAL_FIELDS:
        raise Http404
    person = _person(user, pk)
    if not may(user, Perm.REVEAL_PII, person.grid):
        raise PermissionDenied
    form = wb_forms.RevealForm(request.POST or None)
    value = None
    if request.method == "POST" and form.is_valid():
        try:
            value = reg.person_reveal(
                actor=user, person=person, field=field, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    context = {
        "person": person,
        "field": field,
        "field_label": REVEAL_FIELDS[field],
        "form": form,
        "value": value,
    }
    template = (
        "workbench/persons/_reveal.html" if is_htmx(request) else "workbench/persons/reveal.html"
    )
    return render(request, template, context)


@require_POST
@staff_required
def person_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The worker saw the person: every field is confirmed as it stands."""
    user: Any = request.user
    person = _person(user, pk)
    reg.person_confirm(actor=user, person=person)
    messages.success(request, _("Details confirmed."))
    return redirect("workbench:person_detail", pk=person.pk)


@staff_required
def person_create(request: HttpRequest) -> HttpResponse:
    """Register a person in a household (?household=) or directly in a grid (?grid=)."""
    user: Any = request.user
    source = request.POST if request.method == "POST" else request.GET
    household = None
    grid = None
    grids = Area.objects.restrict(user, Perm.CHANGE_REGISTER).filter(kind=AreaKind.GRID)
    if source.get("household"):
        household = get_object_or_404(
            reg_sel.households_visible(user).filter(status=HouseholdStatus.ACTIVE),
            pk=pk_or_404(source["household"]),
        )
        if not may(user, Perm.CHANGE_REGISTER, household.grid):
            raise PermissionDenied
    elif source.get("grid"):
        grid = get_object_or_404(
            wb_sel.areas_visible(user).filter(kind=AreaKind.GRID), pk=pk_or_404(source["grid"])
        )
        if not may(user, Perm.CHANGE_REGISTER, grid):
            raise PermissionDenied
    initial = {"grid": grid.pk} if grid else {}
    form = wb_forms.PersonCreateForm(
        request.POST or None, with_household=household is not None, grids=grids, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = reg.person_create(
                actor=user,
                name=data["name"],
                national_id=data["national_id"].strip(),
                phone=data["phone"].strip(),
                residency=data["residency"],
                household=household,
                grid=data.get("grid"),
                relation=data.get("relation", ""),
                notes=data["notes"],
                hukou_address=data["hukou_address"],
                current_address=data["current_address"],
                tags=data["tags"],
                occurred_on=data["occurred_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": person.name})
            if household is not None:
                return redirect("workbench:household_detail", pk=household.pk)
            return redirect("workbench:person_detail", pk=person.pk)
    crumbs_area = household.grid if household else grid
    context = {
        "form": form,
        "household": household,
        "crumbs": breadcrumb(user, crumbs_area) if crumbs_area else [],
    }
    return render(request, "workbench/persons/create.html", context)


@staff_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a person's details and tags (person_update, person_tag_set) in one step."""
    user: Any = request.user
    person = _person(user, pk)
    if not may(user, Perm.CHANGE_REGISTER, person.grid):
        raise PermissionDenied
    initial = {
        "name": person.name,
        "residency": person.residency,
        "relation": person.relation,
        "notes": person.notes,
        "hukou_address": person.hukou_address,
        "current_address": person.current_address,
        "tags": list(person.tags.all()),
    }
    form = wb_forms.PersonEditForm(
        request.POST or None, initial=initial, with_household=person.household_id is not None
    )
    if request.method == "POST" and form.is_valid():
        try:
            # Details and tags are one change from the worker's view: all or nothing.
            with transaction.atomic():
                reg.person_update(actor=user, person=person, data=form.update_data())
                reg.person_tag_set(actor=user, person=person, tags=form.cleaned_data["tags"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("workbench:person_detail", pk=person.pk)
    context = {"form": form, "person": person, "crumbs": breadcrumb(user, person.grid)}
    return render(request, "workbench/persons/edit.html", context)


def _event_page(
    request: HttpRequest,
    person: Person,
    form: wb_forms.StyledForm,
    *,
    title: str,
    button: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    user: Any = request.user
    context = {
        "person": person,
        "form": form,
        "title": title,
        "button": button,
        "crumbs": breadcrumb(user, person.grid),
        **(extra or {}),
    }
    return render(request, "workbench/persons/event_form.html", context)


def _changeable_person(request: HttpRequest, pk: int) -> Person:
    user: Any = request.user
    person = _person(user, pk)
    if not may(user, Perm.CHANGE_REGISTER, person.grid):
        raise PermissionDenied
    return person


def _after_event(person: Person, household_id: int | None) -> HttpResponse:
    if household_id:
        return redirect("workbench:household_detail", pk=household_id)
    return redirect("workbench:person_detail", pk=person.pk)


@staff_required
def person_move_out(request: HttpRequest, pk: int) -> HttpResponse:
    """The person left the community (person_move_out)."""
    user: Any = request.user
    person = _changeable_person(request, pk)
    form = wb_forms.MoveOutForm(request.POST or None)
    household_id = person.household_id
    if request.method == "POST" and form.is_valid():
        try:
            reg.person_move_out(
                actor=user,
                person=person,
                occurred_on=form.cleaned_data["occurred_on"],
                destination=form.cleaned_data["destination"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s is recorded as moved out.") % {"name": person.name}
            )
            return _after_event(person, household_id)
    return _event_page(request, person, form, title=_("Move out"), button=_("Record the move out"))


@staff_required
def person_death(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a death (person_record_death)."""
    user: Any = request.user
    person = _changeable_person(request, pk)
    form = wb_forms.EventDateForm(request.POST or None)
    form.fields["occurred_on"].label = _("Date of death")
    household_id = person.household_id
    if request.method == "POST" and form.is_valid():
        try:
            reg.person_record_death(
                actor=user, person=person, occurred_on=form.cleaned_data["occurred_on"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The death of %(name)s is recorded.") % {"name": person.name}
            )
            return _after_event(person, household_id)
    return _event_page(
        request, person, form, title=_("Record a death"), button=_("Record the death")
    )


@staff_required
def person_move_house(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the person into another household in scope, found by address or householder."""
    user: Any = request.user
    person = _changeable_person(request, pk)
    q = request.GET.get("q", "").strip()
    candidates = reg_sel.households_visible(user).filter(status=HouseholdStatus.ACTIVE)
    if person.household_id:
        candidates = candidates.exclude(pk=person.household_id)
    found = (
        candidates.filter(
            Q(dwelling__address__contains=q) | Q(householder__name__contains=q)
        ).order_by("dwelling__address")[:20]
        if q
        else candidates.none()
    )
    form = wb_forms.MoveHouseForm(request.POST or None)
    target = None
    if request.method == "GET" and request.GET.get("to"):
        target = candidates.filter(pk=pk_or_404(request.GET["to"])).first()
    if request.method == "POST":
        if form.is_valid():
            target = get_object_or_404(candidates, pk=form.cleaned_data["to_household"])
            try:
                reg.person_move_house(
                    actor=user,
                    person=person,
                    to_household=target,
                    relation=form.cleaned_data["relation"],
                    occurred_on=form.cleaned_data["occurred_on"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("%(name)s has moved house.") % {"name": person.name})
                return redirect("workbench:household_detail", pk=target.pk)
        elif form.data.get("to_household"):
            target = candidates.filter(pk=pk_or_404(str(form.data["to_household"]))).first()
    context = {"q": q, "found": found, "target": target}
    if is_htmx(request) and request.headers.get("HX-Target") == "found":
        return render(
            request, "workbench/persons/_household_choices.html", {**context, "person": person}
        )
    return _event_page(
        request,
        person,
        form,
        title=_("Move house"),
        button=_("Record the move"),
        extra={"move_house": True, **context},
    )
