"""Pages of the notify capability: the delivery list of the user's nodes (/w/n/), mass
messages with their progress, and the in-app inbox (workbench /w/n/inbox/, portal /p/n/)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.notify import selectors as sel
from linli.notify.forms import MassMessageForm
from linli.notify.mass import mass_message_create
from linli.notify.models import Channel, MassMessage, MassStatus, NotificationStatus
from linli.notify.services import inbox_mark_read
from linli.portal.views import resident_required
from linli.workbench.views.common import paginate, perm_required, pk_or_404, staff_required


@perm_required(Perm.VIEW_NOTIFICATIONS)
def notification_list(request: HttpRequest) -> HttpResponse:
    """What was sent to people of the user's nodes, newest first, filtered by status."""
    user: Any = request.user
    qs = sel.notifications_visible(user)
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    status = request.GET.get("status", "")
    if status in NotificationStatus.values:
        qs = qs.filter(status=status)
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    if request.GET.get("mass"):
        qs = qs.filter(mass_message_id=pk_or_404(request.GET["mass"]))
    q = (request.GET.get("q") or "").strip()[:30]
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(phone_masked__endswith=q))
    return render(
        request,
        "notify/notification_list.html",
        {
            "page": paginate(request, qs),
            "status": status,
            "channel": channel,
            "q": q,
            "statuses": [(v, label, counts.get(v, 0)) for v, label in NotificationStatus.choices],
            "channels": Channel.choices,
            "total": sum(counts.values()),
        },
    )


@perm_required(Perm.SEND_NOTIFICATIONS)
def mass_message_new(request: HttpRequest) -> HttpResponse:
    """The form: who, which channel, what to say; posting starts the background task."""
    user: Any = request.user
    initial: dict[str, Any] = {"target": request.GET.get("target", "building")}
    if request.GET.get("reminder") == "1":
        initial.update(
            only_missing_checkin=True,
            text=_("Linli: please report today's temperature (check-in is due today)."),
        )
    form = MassMessageForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            mm, created = mass_message_create(
                actor=user,
                token=d["token"],
                target=d["target"],
                channel=d["channel"],
                text=d["text"],
                grid=d.get("grid"),
                building=d.get("building"),
                only_missing_checkin=d["only_missing_checkin"],
            )
        except ValidationError as e:
            for field, errors in e.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if not created:
                messages.info(request, _("This message was already started; here it is."))
            return redirect("notify:mass_detail", pk=mm.pk)
    recent = sel.mass_messages_visible(user)[:10]
    return render(request, "notify/mass_form.html", {"form": form, "recent": recent})


def _mass(request: HttpRequest, pk: int) -> MassMessage:
    return get_object_or_404(sel.mass_messages_visible(request.user), pk=pk)


@perm_required(Perm.SEND_NOTIFICATIONS)
def mass_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The result page: progress while it runs, then what happened to each message."""
    mm = _mass(request, pk)
    by_status = dict(mm.notifications.order_by().values_list("status").annotate(n=Count("id")))
    return render(
        request,
        "notify/mass_detail.html",
        {
            "mm": mm,
            "working": mm.status in (MassStatus.QUEUED, MassStatus.RUNNING),
            "by_status": [
                (v, label, by_status[v])
                for v, label in NotificationStatus.choices
                if by_status.get(v)
            ],
        },
    )


@perm_required(Perm.SEND_NOTIFICATIONS)
def mass_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it each second while the task runs)."""
    mm = _mass(request, pk)
    working = mm.status in (MassStatus.QUEUED, MassStatus.RUNNING)
    response = render(request, "notify/_mass_progress.html", {"mm": mm, "working": working})
    if not working and request.GET.get("seen") in (MassStatus.QUEUED, MassStatus.RUNNING):
        response["HX-Refresh"] = "true"  # finished: reload to show the result counts
    return response


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The signed-in staff user's own in-app messages."""
    return _inbox(request, "notify/inbox.html")


@resident_required
def portal_inbox(request: HttpRequest) -> HttpResponse:
    """A resident's own in-app messages on the portal."""
    return _inbox(request, "notify/portal_inbox.html")


def _inbox(request: HttpRequest, template: str) -> HttpResponse:
    items = sel.inbox_for(request.user)
    return render(
        request,
        template,
        {"page": paginate(request, items), "unread": items.filter(read_at__isnull=True).count()},
    )


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one message read; another user's message is answered like a missing one."""
    if not sel.inbox_for(request.user).filter(pk=pk).exists():
        raise Http404
    inbox_mark_read(user=request.user, pk=pk)
    return redirect(_inbox_url(request))


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    inbox_mark_read(user=request.user)
    return redirect(_inbox_url(request))


def _inbox_url(request: HttpRequest) -> str:
    return "notify:portal_inbox" if getattr(request.user, "person_id", None) else "notify:inbox"
