"""Resident pages of emergency mode (/p/e/) and the public certificate check (/verify/).

No account is needed: a person proves their phone with a one-time code (accounts'
otp_request/otp_verify), and the session then remembers that phone for a few hours. A resident
signed in to the portal is recognised too. Everything shown is that person's own measure;
anything else answers 404.
"""

from __future__ import annotations

import base64
import time
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from linli.accounts.services import otp_request, otp_verify
from linli.areas.models import Area, AreaKind
from linli.core import crypto
from linli.core.feedback import add_service_errors
from linli.core.identity import mask_phone
from linli.emergency import certificates
from linli.emergency import forms as f
from linli.emergency import selectors as sel
from linli.emergency import services as em
from linli.emergency.measures import links_for
from linli.emergency.models import (
    ArrivalSource,
    EmergencyEvent,
    EventStatus,
    Measure,
    QuarantineKind,
    QuarantineStatus,
)
from linli.emergency.views_workbench import ARRIVAL_SALT

SESSION_PENDING = "emergency_phone_pending"
SESSION_PHONE = "emergency_phone"
PHONE_TTL_SECONDS = 6 * 3600


def _remember_phone(request: HttpRequest, number: str) -> None:
    """Keep the proven phone in the session, sealed (the session table holds no plaintext)."""
    request.session[SESSION_PHONE] = {
        "sealed": base64.b64encode(crypto.seal(number)).decode(),
        "at": time.time(),
    }


def _verified_phone(request: HttpRequest) -> str:
    """The phone proven by a code in this session (within its lifetime), or ""."""
    data = request.session.get(SESSION_PHONE) or {}
    if not data or time.time() - float(data.get("at", 0)) > PHONE_TTL_SECONDS:
        return ""
    try:
        return crypto.unseal(base64.b64decode(str(data.get("sealed", ""))))
    except (crypto.DecryptionError, ValueError):
        return ""


def _identity(request: HttpRequest) -> tuple[str, int | None]:
    """(phone blind index, register person id) of whoever is asking; empty when unknown."""
    number = _verified_phone(request)
    bidx = crypto.blind_index("phone", number) if number else ""
    user: Any = request.user
    person_id = getattr(user, "person_id", None) if user.is_authenticated else None
    return bidx, person_id


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.GET.get("next") or request.POST.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def phone(request: HttpRequest) -> HttpResponse:
    """Step 1: the mobile number; a code is sent to it (to any number, within the limits)."""
    nxt = _safe_next(request, reverse("emergency:portal_home"))
    form = f.PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["phone"]
        try:
            otp_request(phone=number, ip=request.META.get("REMOTE_ADDR"), any_phone=True)
        except ValidationError as exc:
            form.add_error("phone", exc.messages)
        else:
            request.session[SESSION_PENDING] = base64.b64encode(crypto.seal(number)).decode()
            return redirect(reverse("emergency:portal_code") + "?next=" + nxt)
    return render(request, "emergency/portal_phone.html", {"form": form, "next": nxt})


def code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the SMS proves the phone for this session."""
    nxt = _safe_next(request, reverse("emergency:portal_home"))
    try:
        number = crypto.unseal(base64.b64decode(request.session.get(SESSION_PENDING) or ""))
    except (crypto.DecryptionError, ValueError):
        number = ""
    if not number:
        return redirect(reverse("emergency:portal_phone") + "?next=" + nxt)
    form = f.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            otp_verify(phone=number, code=form.cleaned_data["code"], sign_in=False)
        except ValidationError:
            form.add_error(
                "code",
                _("The code is wrong or has expired. Check the latest SMS, or ask for a new code."),
            )
        else:
            request.session.pop(SESSION_PENDING, None)
            _remember_phone(request, number)
            return redirect(nxt)
    return render(
        request,
        "emergency/portal_code.html",
        {"form": form, "phone_masked": mask_phone(number), "next": nxt},
    )


def _arrival_target(token: str) -> tuple[EmergencyEvent, Area]:
    try:
        data = signing.loads(token, salt=ARRIVAL_SALT)
        event = EmergencyEvent.objects.get(pk=int(data["e"]))
        grid = Area.objects.get(pk=int(data["g"]), kind=AreaKind.GRID)
    except (
        signing.BadSignature,
        KeyError,
        TypeError,
        ValueError,
        EmergencyEvent.DoesNotExist,
        Area.DoesNotExist,
    ):
        raise Http404 from None
    return event, grid


def arrive(request: HttpRequest, token: str) -> HttpResponse:
    """The arrival form behind a gate poster's QR code: phone code first, then the details."""
    event, grid = _arrival_target(token)
    if event.status != EventStatus.ACTIVE or Measure.ARRIVALS not in event.measures:
        return render(request, "emergency/portal_closed.html", {"event": event}, status=410)
    number = _verified_phone(request)
    if not number:
        return redirect(reverse("emergency:portal_phone") + "?next=" + request.path)
    form = f.ArrivalForm(request.POST or None, event=event, self_service=True)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            arrival = em.arrival_register(
                actor=None,
                event=event,
                grid=grid,
                name=d["name"],
                national_id=d["national_id"],
                phone=number,
                risk_area=d["risk_area"],
                from_text=d["from_text"],
                arrived_on=d["arrived_on"],
                travel_mode=d["travel_mode"],
                address=d["address"],
                source=ArrivalSource.SELF,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            started = arrival.quarantines.filter(status=QuarantineStatus.ACTIVE).first()
            if started is not None:
                messages.warning(
                    request,
                    _(
                        "Thank you, you are registered. %(kind)s applies until %(end)s: "
                        "please check in every day below."
                    )
                    % {"kind": started.get_kind_display(), "end": started.planned_end},
                )
            else:
                messages.success(
                    request, _("Thank you, you are registered. Your grid worker may call you.")
                )
            return redirect("emergency:portal_home")
    return render(
        request,
        "emergency/portal_arrive.html",
        {"form": form, "event": event, "grid": grid, "phone_masked": mask_phone(number)},
    )


def home(request: HttpRequest) -> HttpResponse:
    """My measures: today's check-in, the days done, the release certificate."""
    bidx, person_id = _identity(request)
    if not bidx and not person_id:
        return redirect(reverse("emergency:portal_phone") + "?next=" + request.path)
    today = timezone.localdate()
    rows = []
    for q in sel.own_quarantines(phone_bidx=bidx, person_id=person_id):
        days = q.required_days(today)
        done = set(q.check_ins.values_list("day", flat=True))
        rows.append(
            {
                "q": q,
                "done_today": today in done,
                "due_today": q.status == QuarantineStatus.ACTIVE
                and q.starts_on <= today < q.planned_end,
                "days_done": len([d for d in days if d in done]),
                "days_total": (q.planned_end - q.starts_on).days,
                "certificate": getattr(q, "certificate", None)
                if q.status == QuarantineStatus.RELEASED
                else None,
            }
        )
    # What the events of my active measures also offer (shopping lists for a closed household,
    # passes …): shown here too, since a resident proven only by a phone code has no portal home.
    links: dict[str, dict[str, str]] = {}
    for row in rows:
        mine: Any = row["q"]
        if mine.status == QuarantineStatus.ACTIVE:
            viewer = SimpleNamespace(person_id=mine.person_id)
            for link in links_for(mine.event, portal=True, viewer=viewer):
                links.setdefault(link["url"], link)
    return render(
        request,
        "emergency/portal_home.html",
        {
            "rows": rows,
            "form": f.CheckInForm(),
            "today": today,
            "kinds": QuarantineKind,
            "measure_links": list(links.values()),
        },
    )


def checkin(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's own check-in for today."""
    bidx, person_id = _identity(request)
    q = sel.own_quarantine(phone_bidx=bidx, person_id=person_id, pk=pk)
    form = f.CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            check = em.checkin_record(
                actor=request.user if request.user.is_authenticated else None,
                quarantine=q,
                temperature=d["temperature"],
                symptoms=d["symptoms"],
                note=d["note"],
                by_self=True,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if check.is_alert:
                messages.warning(
                    request,
                    _(
                        "Recorded. Your grid worker will contact you soon. "
                        "If you feel worse, call 120."
                    ),
                )
            else:
                messages.success(request, _("Today's check-in is recorded. Thank you."))
            return redirect("emergency:portal_home")
    return render(request, "emergency/portal_checkin.html", {"q": q, "form": form})


def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    bidx, person_id = _identity(request)
    q = sel.own_quarantine(phone_bidx=bidx, person_id=person_id, pk=pk)
    cert = getattr(q, "certificate", None)
    if cert is None:
        raise Http404
    response = HttpResponse(certificates.certificate_document(cert), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="release-{cert.number}.pdf"'
    return response


def verify(request: HttpRequest) -> HttpResponse:
    """Check a certificate's QR payload in the browser with the public key (works offline once
    loaded); the server is not asked."""
    return render(
        request,
        "emergency/verify.html",
        {"public_key": certificates.public_key_b64(), "kinds": dict(QuarantineKind.choices)},
    )


def verify_online(request: HttpRequest, number: str) -> HttpResponse:
    """Valid or revoked, against the register; the masked name and dates only."""
    cert = sel.certificate_lookup(number)
    if cert is None:
        raise Http404
    body = certificates.payload_verify(cert.payload)
    return render(
        request,
        "emergency/verify_online.html",
        {"cert": cert, "body": body, "kind": QuarantineKind(body.kind).label},
    )
