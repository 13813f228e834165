"""Views of the resident portal (居民端): sign in by SMS code, see one's own household,
propose corrections. Thin: parse the form, call an accounts/register service or a portal
selector, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.services import otp_request, otp_verify
from linli.core.identity import mask_phone
from linli.portal.forms import CodeForm, CorrectionForm, PhoneForm
from linli.portal.selectors import (
    portal_corrections,
    portal_household,
    portal_member,
    portal_members,
)
from linli.register.services import correction_propose

# The phone being signed in with, between the two steps. Kept server-side in the session.
SESSION_PHONE = "portal_otp_phone"

View = Callable[..., HttpResponse]


def resident_required(view: View) -> View:
    """Let residents through; send strangers to the portal sign-in, staff to the workbench's."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("portal:login"))
        if getattr(user, "person_id", None) is None:
            # Staff accounts have no household; their place is the workbench.
            return redirect("workbench:login")
        return view(request, *args, **kwargs)

    return wrapper


def _is_resident(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and getattr(request.user, "person_id", None))


def login_phone(request: HttpRequest) -> HttpResponse:
    """Step 1: ask for the phone and send a code if it is registered (same answer either way)."""
    if _is_resident(request):
        return redirect("portal:home")
    if request.method == "POST":
        form = PhoneForm(request.POST)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            try:
                otp_request(phone=phone, ip=request.META.get("REMOTE_ADDR"))
            except ValidationError:
                # The form already checked the number, so the only refusal left is the
                # per-phone rate limit.
                form.add_error(
                    "phone",
                    _(
                        "A code was sent to this number less than a minute ago. "
                        "Please wait a minute before asking for another."
                    ),
                )
                request.session[SESSION_PHONE] = phone
            else:
                request.session[SESSION_PHONE] = phone
                return redirect("portal:login_verify")
    else:
        form = PhoneForm(initial={"phone": request.session.get(SESSION_PHONE, "")})
    return render(
        request,
        "portal/login.html",
        {"form": form, "has_pending": bool(request.session.get(SESSION_PHONE))},
    )


def login_verify(request: HttpRequest) -> HttpResponse:
    """Step 2: check the code and sign the resident in."""
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect("portal:login")
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                user = otp_verify(phone=phone, code=form.cleaned_data["code"])
            except ValidationError:
                form.add_error(
                    "code",
                    _(
                        "The code is wrong or has expired. Check the latest SMS, "
                        "or ask for a new code."
                    ),
                )
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session.pop(SESSION_PHONE, None)
                return redirect("portal:home")
    else:
        form = CodeForm()
    return render(
        request,
        "portal/verify.html",
        {"form": form, "phone": phone, "phone_masked": mask_phone(phone)},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out and go back to the sign-in page."""
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("portal:login")


@resident_required
def home(request: HttpRequest) -> HttpResponse:
    """My household: the dwelling, its members (masked) and the corrections proposed."""
    household = portal_household(user=request.user)
    return render(
        request,
        "portal/home.html",
        {
            "household": household,
            "members": portal_members(user=request.user),
            "corrections": portal_corrections(user=request.user),
        },
    )


@resident_required
def correct(request: HttpRequest, person_id: int) -> HttpResponse:
    """Propose a correction for a member of one's own household (404 for anyone else)."""
    person = portal_member(user=request.user, person_id=person_id)
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changes = {}
            if data["name"] and data["name"] != person.name:
                changes["name"] = data["name"]
            if data["phone"]:
                changes["phone"] = data["phone"]
            if not changes and not data["note"]:
                form.add_error(None, _("What you typed is the same as what is recorded."))
            else:
                try:
                    correction_propose(
                        actor=request.user, person=person, changes=changes, note=data["note"]
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(
                        request,
                        _("Thank you. Your correction was sent to your grid worker for review."),
                    )
                    return redirect(reverse("portal:home") + "#corrections")
    else:
        form = CorrectionForm()
    # Show what is recorded as the hint, so the resident only types what differs.
    form.fields["name"].widget.attrs["placeholder"] = person.name
    return render(request, "portal/correct.html", {"form": form, "person": person})
