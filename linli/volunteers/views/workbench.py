"""Workbench pages for volunteers (/w/volunteers/): registrations, volunteers, activities,
claims, the store, redemptions, rankings, points rules. Thin: a selector or a service each."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.feedback import add_service_errors, flash_error
from linli.core.scoping import scope_for
from linli.volunteers import selectors as sel
from linli.volunteers import services as svc
from linli.volunteers.forms import (
    ActivityForm,
    ReasonForm,
    RegisterForm,
    RestockForm,
    RewardForm,
    RuleForm,
)
from linli.volunteers.models import PointsClaim, PointsEntry, SourceType, VolunteerStatus
from linli.workbench.views.common import paginate, perm_required, pk_or_404


def _areas(user: Any, perm: Perm) -> Any:
    return Area.objects.restrict(user, perm).filter(kind__in=[AreaKind.GRID, AreaKind.COMMUNITY])


@perm_required(Perm.VIEW_VOLUNTEERS)
def home(request: HttpRequest) -> HttpResponse:
    """What is waiting: registrations, claims, rewards to hand out."""
    user: Any = request.user
    return render(
        request,
        "volunteers/home.html",
        {
            "pending": sel.registrations_pending(user).count(),
            "claims": sel.claims_pending(user).count(),
            "handouts": sel.redemptions_open(user).count(),
            "volunteers": sel.volunteers_visible(user)
            .filter(status=VolunteerStatus.APPROVED)
            .count(),
        },
    )


@perm_required(Perm.APPROVE_VOLUNTEERS)
def registrations(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    page = paginate(request, sel.registrations_pending(user))
    return render(request, "volunteers/registrations.html", {"page": page})


@never_cache
@require_POST
@perm_required(Perm.VIEW_VOLUNTEERS)
def volunteer_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject an application; a new account's password is shown once."""
    user: Any = request.user
    # Those who may not approve here find nothing (404), like any object outside their scope.
    volunteer = get_object_or_404(sel.registrations_pending(user), pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        if request.POST.get("decision") == "approve":
            volunteer, generated = svc.volunteer_approve(actor=user, volunteer=volunteer)
            if generated:
                return render(
                    request,
                    "volunteers/approved.html",
                    {"volunteer": volunteer, "generated": generated},
                )
            messages.success(request, _("%(name)s is now a volunteer.") % {"name": volunteer})
        else:
            svc.volunteer_reject(
                actor=user, volunteer=volunteer, reason=form.cleaned_data.get("reason", "")
            )
            messages.success(request, _("The application was rejected."))
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:registrations")


@perm_required(Perm.VIEW_VOLUNTEERS)
def volunteer_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    qs = sel.volunteers_visible(user).order_by("status", "name", "id")
    status = request.GET.get("status", "")
    if status in VolunteerStatus.values:
        qs = qs.filter(status=status)
    page = paginate(request, qs)
    totals = sel.balances([v.pk for v in page.object_list])
    rows = [{"v": v, "balance": totals.get(v.pk, 0)} for v in page.object_list]
    return render(
        request,
        "volunteers/volunteer_list.html",
        {"page": page, "rows": rows, "status": status, "statuses": VolunteerStatus.choices},
    )


@never_cache
@perm_required(Perm.MANAGE_VOLUNTEERS)
def volunteer_create(request: HttpRequest) -> HttpResponse:
    """A worker registers a volunteer; the community approves it."""
    user: Any = request.user
    form = RegisterForm(request.POST or None, areas=_areas(user, Perm.MANAGE_VOLUNTEERS))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            volunteer = svc.volunteer_register(
                actor=user,
                name=d["name"],
                phone=d["phone"],
                area=d["area"],
                kind=d["kind"],
                skills=d["skills"],
                availability=d["availability"],
                name_shown=d["name_shown"],
                employer=d["employer"],
                residence_community=d["residence_community"],
                paired_community=d["paired_community"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("Registered; the community will review it."))
            return redirect("volunteers:volunteer_detail", pk=volunteer.pk)
    return render(request, "volunteers/volunteer_form.html", {"form": form})


@perm_required(Perm.VIEW_VOLUNTEERS)
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One volunteer: details, balance, ledger, claims and their service timeline."""
    user: Any = request.user
    volunteer = get_object_or_404(
        sel.volunteers_visible(user).select_related("residence_community", "paired_community"),
        pk=pk,
    )
    approver = scope_for(user, Perm.APPROVE_VOLUNTEERS)
    return render(
        request,
        "volunteers/volunteer_detail.html",
        {
            "v": volunteer,
            "balance": svc.balance(volunteer),
            "entries": PointsEntry.objects.filter(volunteer=volunteer).select_related(
                "reviewed_by"
            )[:100],
            "claims": volunteer.claims.order_by("-created_at")[:50],
            "timeline": sel.volunteer_timeline(user, volunteer)[:100],
            "may_review": any(
                approver.covers(a)
                for a in (volunteer.area, volunteer.residence_community, volunteer.paired_community)
            ),
            "may_manage": scope_for(user, Perm.MANAGE_VOLUNTEERS).covers(volunteer.area),
        },
    )


@require_POST
@perm_required(Perm.VIEW_VOLUNTEERS)
def volunteer_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Suspend or reinstate an approved volunteer."""
    user: Any = request.user
    # Those who may not approve here find nothing (404), like any object outside their scope.
    volunteer = get_object_or_404(
        sel.Volunteer.objects.restrict(user, Perm.APPROVE_VOLUNTEERS), pk=pk
    )
    try:
        if request.POST.get("decision") == "reinstate":
            svc.volunteer_reinstate(actor=user, volunteer=volunteer)
            messages.success(request, _("The volunteer was reinstated."))
        else:
            svc.volunteer_suspend(
                actor=user, volunteer=volunteer, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("The volunteer was suspended."))
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:volunteer_detail", pk=volunteer.pk)


@require_POST
@perm_required(Perm.MANAGE_VOLUNTEERS)
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Reverse an earned entry posted in error (a new, opposite entry)."""
    user: Any = request.user
    entry = get_object_or_404(PointsEntry.objects.restrict(user, Perm.MANAGE_VOLUNTEERS), pk=pk)
    try:
        svc.points_reverse(actor=user, entry=entry, reason=request.POST.get("reason", ""))
        messages.success(request, _("The points were reversed."))
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:volunteer_detail", pk=entry.volunteer_id)


# --- activities ----------------------------------------------------------------------------


@perm_required(Perm.VIEW_VOLUNTEERS)
def activity_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    page = paginate(request, sel.activities_visible(user))
    return render(request, "volunteers/activity_list.html", {"page": page})


@never_cache
@perm_required(Perm.MANAGE_VOLUNTEERS)
def activity_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = ActivityForm(request.POST or None, areas=_areas(user, Perm.MANAGE_VOLUNTEERS))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            activity = svc.activity_create(
                actor=user,
                area=d["area"],
                title=d["title"],
                place=d["place"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                capacity=d["capacity"],
                description=d["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("The activity was announced."))
            return redirect("volunteers:activity_detail", pk=activity.pk)
    return render(request, "volunteers/activity_form.html", {"form": form})


@perm_required(Perm.VIEW_VOLUNTEERS)
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The organiser's page: sign-ups, check-in buttons and the code volunteers type."""
    user: Any = request.user
    activity = get_object_or_404(sel.activities_visible(user), pk=pk)
    may_manage = scope_for(user, Perm.MANAGE_VOLUNTEERS).covers(activity.area)
    qr = ""
    if may_manage:
        link = request.build_absolute_uri(
            reverse("volunteers:me_check_in", args=[activity.pk])
            + "?"
            + urlencode({"code": activity.check_in_code})
        )
        # An inline SVG drawn here: no image file, nothing fetched.
        qr = segno.make(link, error="m").svg_inline(scale=5, border=2)
    return render(
        request,
        "volunteers/activity_detail.html",
        {
            "a": activity,
            "signups": activity.signups.select_related("volunteer").order_by("created_at"),
            "may_manage": may_manage,
            "qr": mark_safe(qr),  # noqa: S308 (generated SVG paths, no user text)
        },
    )


@require_POST
@perm_required(Perm.MANAGE_VOLUNTEERS)
def signup_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    signup = get_object_or_404(
        sel.Signup.objects.restrict(user, Perm.MANAGE_VOLUNTEERS).select_related("activity"),
        pk=pk,
    )
    try:
        svc.signup_check_in(actor=user, signup=signup)
        messages.success(request, _("%(name)s was checked in.") % {"name": signup.volunteer})
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:activity_detail", pk=signup.activity_id)


# --- claims --------------------------------------------------------------------------------


@perm_required(Perm.MANAGE_VOLUNTEERS)
def claim_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    page = paginate(request, sel.claims_pending(user))
    _link_orders(user, list(page.object_list))
    return render(request, "volunteers/claims.html", {"page": page})


def _link_orders(user: Any, claims: list[PointsClaim]) -> None:
    """Give each claim for a work order the order's page (``order_url``) when the reviewer may
    see the order: its trace (note, photos, the rating) is the evidence the claim points to."""
    ids = [c.source_id for c in claims if c.source_type == SourceType.ORDER]
    if not ids:
        return
    # Imported here: linli.orders builds on this app (it opens the claims), not the reverse.
    from linli.orders.selectors import orders_visible

    visible = set(orders_visible(user).filter(pk__in=ids).values_list("pk", flat=True))
    for c in claims:
        if c.source_type == SourceType.ORDER and c.source_id in visible:
            c.order_url = reverse("orders:order_detail", args=[c.source_id])  # type: ignore[attr-defined]


@perm_required(Perm.VIEW_VOLUNTEERS)
def claim_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A claim's evidence photo, for those who may see the claim (404 for anyone else)."""
    user: Any = request.user
    claim = get_object_or_404(
        PointsClaim.objects.restrict(user, Perm.VIEW_VOLUNTEERS).filter(photo__isnull=False),
        pk=pk,
    )
    assert claim.photo is not None
    response = HttpResponse(bytes(claim.photo), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@perm_required(Perm.MANAGE_VOLUNTEERS)
def claim_review(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    claim = get_object_or_404(sel.claims_pending(user), pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        svc.claim_review(
            actor=user, claim=claim, approve=approve, reason=request.POST.get("reason", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request,
            _("%(points)s points posted to %(name)s.")
            % {"points": claim.points, "name": claim.volunteer}
            if approve
            else _("The claim was rejected."),
        )
    return redirect("volunteers:claim_list")


# --- the store -----------------------------------------------------------------------------


@never_cache
@perm_required(Perm.MANAGE_VOLUNTEERS)
def reward_list(request: HttpRequest) -> HttpResponse:
    """The store's catalogue in the user's jurisdiction; add items and stock."""
    user: Any = request.user
    form = RewardForm(request.POST or None, areas=_areas(user, Perm.MANAGE_VOLUNTEERS))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.reward_create(
                actor=user,
                area=d["area"],
                name=d["name"],
                price=d["price"],
                stock=d["stock"],
                description=d["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("The reward was added to the store."))
            return redirect("volunteers:reward_list")
    page = paginate(request, sel.rewards_managed(user))
    return render(request, "volunteers/rewards.html", {"page": page, "form": form})


@require_POST
@perm_required(Perm.MANAGE_VOLUNTEERS)
def reward_restock(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    reward = get_object_or_404(sel.rewards_managed(user), pk=pk)
    form = RestockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a whole number."))
    else:
        try:
            svc.reward_restock(actor=user, reward=reward, add=form.cleaned_data["add"])
            messages.success(request, _("The stock was updated."))
        except (ValidationError, PermissionDenied) as exc:
            flash_error(request, exc)
    return redirect("volunteers:reward_list")


@perm_required(Perm.MANAGE_VOLUNTEERS)
def redemption_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    page = paginate(request, sel.redemptions_open(user))
    return render(request, "volunteers/redemptions.html", {"page": page})


@require_POST
@perm_required(Perm.MANAGE_VOLUNTEERS)
def redemption_handle(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm a pick-up, or cancel (the points come back)."""
    user: Any = request.user
    redemption = get_object_or_404(sel.redemptions_open(user), pk=pk)
    try:
        if request.POST.get("decision") == "cancel":
            svc.redemption_cancel(
                actor=user, redemption=redemption, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Cancelled; the points were returned."))
        else:
            svc.redemption_hand_over(actor=user, redemption=redemption)
            messages.success(request, _("Handed over."))
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:redemption_list")


# --- rankings and rules --------------------------------------------------------------------


@perm_required(Perm.VIEW_VOLUNTEERS)
def rankings(request: HttpRequest) -> HttpResponse:
    """Points earned per month, ranked, for a grid or a community in the user's scope."""
    user: Any = request.user
    areas = list(sel.ranking_areas(user).order_by("path"))
    chosen = None
    if request.GET.get("area"):
        chosen = next((a for a in areas if a.pk == pk_or_404(request.GET["area"])), None)
        if chosen is None:
            from django.http import Http404

            raise Http404
    chosen = chosen or (areas[0] if areas else None)
    _start, _end, month = sel.month_bounds(request.GET.get("month"))
    rows = sel.ranking(user, area=chosen, month=month) if chosen else []
    return render(
        request,
        "volunteers/rankings.html",
        {"areas": areas, "chosen": chosen, "month": month, "rows": rows},
    )


@never_cache
@perm_required(Perm.VIEW_VOLUNTEERS)
def rule_list(request: HttpRequest) -> HttpResponse:
    """The points rules in force; the community and above configure them."""
    user: Any = request.user
    may_edit = not scope_for(user, Perm.APPROVE_VOLUNTEERS).is_empty
    form = RuleForm(
        request.POST or None, areas=Area.objects.restrict(user, Perm.APPROVE_VOLUNTEERS)
    )
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                svc.rule_create(
                    actor=user,
                    area=d["area"],
                    kind=d["kind"],
                    points=d["points"],
                    min_stars=d["min_stars"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error("area", str(exc))
            else:
                messages.success(request, _("The rule was saved."))
                return redirect("volunteers:rule_list")
    rules = sel.rules_visible(user).filter(is_active=True)
    return render(
        request, "volunteers/rules.html", {"rules": rules, "form": form, "may_edit": may_edit}
    )
