"""Resident pages of passes (/p/passes/): my passes with their QR codes, and applying for a
visitor's pass. Everything shown is the resident's own (their person, household, or visitors
they invited); anything else answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.feedback import add_service_errors
from linli.emergency.certificates import qr_svg
from linli.emergency.models import Measure
from linli.passes import forms as f
from linli.passes import selectors as sel
from linli.passes import services as ps
from linli.passes.models import PassStatus
from linli.portal.views import resident_required
from linli.register.models import Person


def _me(request: HttpRequest) -> Person:
    user: Any = request.user
    return Person.objects.select_related("grid").get(pk=user.person_id)


@resident_required
def home(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    passes = sel.resident_passes(request.user).order_by("-created_at")
    return render(
        request,
        "passes/portal_home.html",
        {
            "passes": passes,
            "measure_on": ps.measure_on(me.grid, Measure.PASSES),
            "valid": PassStatus.APPROVED,
        },
    )


@resident_required
def visitor_new(request: HttpRequest) -> HttpResponse:
    """Apply for a visitor's pass (the grid's worker decides; the code appears here then)."""
    me = _me(request)
    now = timezone.localtime().replace(second=0, microsecond=0)
    initial = {
        "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + dt.timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"),
    }
    form = f.VisitorPassForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            p = ps.visitor_pass_apply(
                actor=request.user,
                host=me,
                visitor_name=data["visitor_name"],
                visitor_phone=data["visitor_phone"],
                reason=data["reason"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Applied. The grid worker decides soon; the code appears here then.")
            )
            return redirect("passes:portal_pass", pk=p.pk)
    return render(request, "passes/portal_visitor.html", {"form": form})


@resident_required
def pass_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One pass: its status and, while valid, the QR code to show (or forward to a visitor)."""
    p = get_object_or_404(sel.resident_passes(request.user), pk=pk)
    token = svg = ""
    if p.status == PassStatus.APPROVED:
        token = ps.pass_token(p)
        svg = qr_svg(token, scale=5)
    return render(request, "passes/portal_pass.html", {"p": p, "token": token, "svg": svg})
