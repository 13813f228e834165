"""The volunteer's own menu (/w/volunteers/me/): my activities, my points, the store.

Mobile-first pages for an approved volunteer, whether they signed in at the workbench (an
account made on approval) or on the portal with their phone. Everything starts from the
volunteer's own record; anything else answers 404.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.core.feedback import add_service_errors, flash_error
from linli.core.images import MAX_UPLOAD_BYTES as photo_limit
from linli.volunteers import selectors as sel
from linli.volunteers import services as svc
from linli.volunteers.forms import CheckInCodeForm, ClaimForm
from linli.volunteers.models import (
    PointsEntry,
    Redemption,
    RedemptionStatus,
    SourceType,
    Volunteer,
    VolunteerStatus,
)

View = Callable[..., HttpResponse]


def volunteer_required(view: View) -> View:
    """Approved volunteers only; others get 404 (the me-home explains instead)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            volunteer = svc.acting_volunteer(request.user)
        except PermissionDenied:
            raise Http404 from None
        return view(request, volunteer, *args, **kwargs)

    return wrapper


@never_cache
def me(request: HttpRequest) -> HttpResponse:
    """The volunteer's menu: balance, next activities, open claims; or where their
    application stands."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    volunteer = sel.my_volunteer(request.user)
    if volunteer is None or volunteer.status != VolunteerStatus.APPROVED:
        return render(request, "volunteers/me/not_yet.html", {"v": volunteer})
    signups = sel.my_signups(volunteer)
    upcoming = [
        s
        for s in signups.values()
        if s.activity.ends_at >= timezone.now() and s.status != "cancelled"
    ]
    return render(
        request,
        "volunteers/me/home.html",
        {
            "v": volunteer,
            "balance": svc.balance(volunteer),
            "upcoming": sorted(upcoming, key=lambda s: s.activity.starts_at),
            "pending_claims": volunteer.claims.filter(status="pending").count(),
            "reserved": volunteer.redemptions.filter(status=RedemptionStatus.RESERVED).count(),
        },
    )


@volunteer_required
def activities(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    """Activities open to me, with my sign-up, check-in and claim for each."""
    now = timezone.now()
    mine = sel.my_signups(volunteer)
    upcoming = list(
        sel.my_activities(volunteer).filter(ends_at__gte=now).order_by("starts_at")[:50]
    )
    past = list(
        sel.my_activities(volunteer)
        .filter(ends_at__lt=now, pk__in=list(mine))
        .order_by("-starts_at")[:50]
    )
    claims = {
        c.source_id: c
        for c in volunteer.claims.filter(source_type=SourceType.ACTIVITY).exclude(status="rejected")
    }
    rows = [
        {"a": a, "s": mine.get(a.pk), "claim": claims.get(mine[a.pk].pk) if a.pk in mine else None}
        for a in [*upcoming, *past]
    ]
    return render(
        request,
        "volunteers/me/activities.html",
        {"v": volunteer, "rows": rows, "code_form": CheckInCodeForm()},
    )


@require_POST
@volunteer_required
def signup(request: HttpRequest, volunteer: Volunteer, pk: int) -> HttpResponse:
    activity = sel.my_activity(volunteer, pk)
    try:
        svc.signup_create(actor=request.user, activity=activity)
        messages.success(request, _("You are signed up for %(title)s.") % {"title": activity})
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:me_activities")


@require_POST
@volunteer_required
def signup_cancel(request: HttpRequest, volunteer: Volunteer, pk: int) -> HttpResponse:
    """Give up my place before I am checked in."""
    s = sel.my_signup(volunteer, pk)
    try:
        svc.signup_cancel(actor=request.user, signup=s)
        messages.success(request, _("Your place was given up."))
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:me_activities")


@never_cache
@volunteer_required
def check_in(request: HttpRequest, volunteer: Volunteer, pk: int) -> HttpResponse:
    """Check myself in with the code the organiser shows. Scanning the organiser's QR code
    opens this page with the code filled in; one tap checks in."""
    activity = sel.my_activity(volunteer, pk)
    if request.method != "POST":
        form = CheckInCodeForm(initial={"code": request.GET.get("code", "")[:8]})
        return render(
            request, "volunteers/me/check_in.html", {"v": volunteer, "a": activity, "form": form}
        )
    form = CheckInCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type the check-in code the organiser shows."))
        return redirect("volunteers:me_activities")
    try:
        svc.signup_self_check_in(
            actor=request.user, activity=activity, code=form.cleaned_data["code"]
        )
        messages.success(request, _("You are checked in. Thank you!"))
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:me_activities")


@never_cache
@volunteer_required
def claim(request: HttpRequest, volunteer: Volunteer, pk: int) -> HttpResponse:
    """Claim points for an activity I was checked in at: say what I did."""
    s = sel.my_signup(volunteer, pk)
    form = ClaimForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("photo")
        try:
            if upload is not None and upload.size > photo_limit:
                raise ValidationError({"photo": _("The photo is too large (at most 8 MB).")})
            c = svc.claim_for_signup(
                actor=request.user,
                signup=s,
                note=form.cleaned_data["note"],
                photo=upload.read() if upload is not None else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Your claim for %(points)s points was sent for review.") % {"points": c.points},
            )
            return redirect("volunteers:me_points")
    rule = s.activity.rule or svc.rule_for("activity_hour", s.activity.area)
    return render(
        request, "volunteers/me/claim.html", {"v": volunteer, "s": s, "form": form, "rule": rule}
    )


@volunteer_required
def points(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    """My balance, my ledger and my claims."""
    return render(
        request,
        "volunteers/me/points.html",
        {
            "v": volunteer,
            "balance": svc.balance(volunteer),
            "entries": PointsEntry.objects.filter(volunteer=volunteer)[:100],
            "claims": volunteer.claims.order_by("-created_at")[:50],
            "timeline": volunteer.events.select_related("actor")[:50],
        },
    )


@never_cache
@volunteer_required
def store(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    """The rewards I can redeem, my reservations; each form carries a one-time key."""
    rewards = list(sel.store_for(volunteer))
    return render(
        request,
        "volunteers/me/store.html",
        {
            "v": volunteer,
            "balance": svc.balance(volunteer),
            "rows": [{"r": r, "key": secrets.token_urlsafe(16)} for r in rewards],
            "redemptions": volunteer.redemptions.select_related("reward")[:30],
        },
    )


@require_POST
@volunteer_required
def redeem(request: HttpRequest, volunteer: Volunteer, pk: int) -> HttpResponse:
    reward = sel.store_for(volunteer).filter(pk=pk).first()
    if reward is None:
        raise Http404
    try:
        r = svc.redemption_create(
            actor=request.user, reward=reward, request_key=request.POST.get("request_key", "")
        )
        messages.success(
            request,
            _("%(name)s is reserved for you. Pick it up at the community office.")
            % {"name": r.reward},
        )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:me_store")


@require_POST
@volunteer_required
def redemption_cancel(request: HttpRequest, volunteer: Volunteer, pk: int) -> HttpResponse:
    r = Redemption.objects.filter(volunteer=volunteer, pk=pk).first()
    if r is None:
        raise Http404
    try:
        svc.redemption_cancel(
            actor=request.user, redemption=r, reason=_("Cancelled by the volunteer")
        )
        messages.success(request, _("Cancelled; the points were returned."))
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return redirect("volunteers:me_store")
