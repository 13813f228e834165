"""Writes of the notify capability: `notify` (every capability sends through it), the send
step the huey worker runs, delivery receipts, the retry sweep and the in-app inbox.

The order a message goes through (decision 0032):

1. `notify` records the row (status queued) and, after the caller's transaction commits,
   enqueues `linli.notify.tasks.send_notification`. In-app messages are delivered at once
   (the inbox is the channel).
2. `notification_send` (the task) decides under a row lock: quiet hours defer non-urgent SMS
   and calls to the end of the quiet period; the per-recipient hourly limit suppresses
   non-urgent messages; the per-channel hourly limit defers anything but urgent ones. Then it
   marks the row ``sending`` and commits, so a second worker cannot send it too.
3. The backend is called outside any transaction. Success → ``sent`` with the gateway's part
   ids; a `GatewayError` or a network error → ``failed`` with ``next_attempt_at`` set by
   exponential backoff until ``LINLI_NOTIFY_MAX_ATTEMPTS``; the periodic sweep
   (`notifications_send_due`) picks those rows up again.
4. A delivery receipt (`receipt_record`) moves the parts, then the row, to delivered/failed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import crypto
from linli.core.identity import mask_phone
from linli.notify.backends import GatewayError, Outgoing, backend_for
from linli.notify.models import (
    Channel,
    GatewayPart,
    Notification,
    NotificationStatus,
    Urgency,
)

log = logging.getLogger("linli.notify")

S = NotificationStatus
#: Statuses that count as "went out" for the hourly limits.
_WENT_OUT = (S.SENDING, S.SENT, S.DELIVERED)
#: A send that has not finished after this long is taken for dead (see notifications_send_due).
STALE_SENDING_MINUTES = 10


def notify(
    *,
    channel: str,
    kind: str,
    text: str,
    person: Any = None,
    user: Any = None,
    phone: str = "",
    phone_sealed: bytes | None = None,
    name: str = "",
    grid_id: int | None = None,
    urgency: str = Urgency.NORMAL,
    secret: bool = False,
    summary: str = "",
    source_app: str = "",
    source_id: str | int = "",
    dedupe_key: str | None = None,
    mass_message: Any = None,
) -> Notification:
    """Record one message to one recipient and send it after the transaction commits.

    The recipient is a register *person* (their sealed phone is used for SMS and calls), a
    *user* (in-app inbox), or a bare *phone* (plaintext, sealed here) / *phone_sealed*.
    ``secret`` messages (sign-in codes) keep only ``summary`` once they have left.
    With a ``dedupe_key`` already used, the existing row is returned and nothing is sent.
    """
    if dedupe_key:
        existing = Notification.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    if phone and phone_sealed is None:
        phone_sealed = crypto.seal(phone)
    if phone_sealed is None and person is not None and person.phone_sealed:
        phone_sealed = bytes(person.phone_sealed)
    number = crypto.unseal(phone_sealed) if phone_sealed else ""
    if grid_id is None and person is not None:
        grid_id = person.grid_id
    row = Notification(
        grid_id=grid_id,
        person=person,
        user=user,
        name=name or (person.name if person is not None else ""),
        phone_sealed=phone_sealed,
        phone_bidx=crypto.blind_index("phone", number) if number else "",
        phone_masked=mask_phone(number) if number else "",
        channel=channel,
        kind=kind,
        text=text,
        secret=secret,
        urgency=urgency,
        source_app=source_app,
        source_id=str(source_id),
        dedupe_key=dedupe_key or None,
        mass_message=mass_message,
    )
    if channel == Channel.IN_APP:
        if user is None and person is None:
            raise ValueError("an in-app message needs a user or a person")
        now = timezone.now()
        row.status, row.sent_at, row.delivered_at = S.DELIVERED, now, now
    elif not number:
        row.status, row.error = S.FAILED, _("No phone number on record.")
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # Another run recorded the same key between our look-up and the insert.
        return Notification.objects.get(dedupe_key=dedupe_key)
    if row.status == S.QUEUED:
        from linli.notify.tasks import send_notification

        pk = row.pk
        transaction.on_commit(lambda: send_notification(pk))
    return row


def in_quiet_hours(at: dt.datetime) -> dt.datetime | None:
    """The end of the quiet period *at* falls in, or None outside it (or with none set)."""
    quiet = settings.LINLI_NOTIFY_QUIET_HOURS
    if not quiet:
        return None
    start, end = quiet
    local = timezone.localtime(at)
    minutes = local.hour * 60 + local.minute
    start_m, end_m = _minutes(start), _minutes(end)
    if start_m == end_m:
        return None
    inside = (
        start_m <= minutes < end_m if start_m < end_m else (minutes >= start_m or minutes < end_m)
    )
    if not inside:
        return None
    ends = local.replace(hour=end_m // 60, minute=end_m % 60, second=0, microsecond=0)
    if ends <= local:
        ends += dt.timedelta(days=1)
    return ends


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _recipient_q(row: Notification) -> Q:
    if row.phone_bidx:
        return Q(phone_bidx=row.phone_bidx)
    if row.user_id:
        return Q(user_id=row.user_id)
    return Q(person_id=row.person_id)


def _backoff(attempts: int) -> dt.timedelta:
    base = settings.LINLI_NOTIFY_RETRY_SECONDS
    return dt.timedelta(seconds=base * 2 ** max(0, attempts - 1))


def _claim(pk: int, now: dt.datetime) -> Notification | None:
    """Decide under a row lock whether *pk* goes out now; mark it ``sending`` if so."""
    with transaction.atomic():
        row = Notification.objects.select_for_update().filter(pk=pk).first()
        if row is None or row.status not in (S.QUEUED, S.DEFERRED, S.FAILED):
            return None
        if row.status != S.QUEUED and (row.next_attempt_at is None or row.next_attempt_at > now):
            return None  # already final, or its time has not come (a second sweep)
        urgent = row.urgency == Urgency.URGENT
        quiet_end = None if urgent else in_quiet_hours(now)
        if quiet_end is not None:
            row.status, row.next_attempt_at = S.DEFERRED, quiet_end
            row.error = _("Quiet hours: sent when they end.")
            row.save(update_fields=["status", "next_attempt_at", "error"])
            return None
        hour_ago = now - dt.timedelta(hours=1)
        recent = Notification.objects.filter(
            channel=row.channel, status__in=_WENT_OUT, sent_at__gte=hour_ago
        ).exclude(pk=row.pk)
        per_recipient = settings.LINLI_NOTIFY_RATE_PER_RECIPIENT_HOUR.get(row.channel)
        if (
            not urgent
            and per_recipient is not None
            and recent.filter(_recipient_q(row)).count() >= per_recipient
        ):
            row.status, row.next_attempt_at = S.SUPPRESSED, None
            row.error = _(
                "Rate limit: this person already got %(n)d messages in the last hour."
            ) % {"n": per_recipient}
            row.save(update_fields=["status", "next_attempt_at", "error"])
            return None
        per_channel = settings.LINLI_NOTIFY_RATE_PER_CHANNEL_HOUR.get(row.channel)
        if not urgent and per_channel is not None and recent.count() >= per_channel:
            row.status = S.DEFERRED
            row.next_attempt_at = now + dt.timedelta(minutes=10)
            row.error = _("Channel limit reached: sent later.")
            row.save(update_fields=["status", "next_attempt_at", "error"])
            return None
        row.status, row.attempts, row.sent_at = S.SENDING, row.attempts + 1, now
        row.next_attempt_at = None
        row.save(update_fields=["status", "attempts", "sent_at", "next_attempt_at"])
        return row


def notification_send(pk: int, *, now: dt.datetime | None = None) -> str:
    """Send notification *pk* now if it may go; return its status afterwards.

    Called by the huey task and by the retry sweep. Safe to call twice: a row that is not
    due (already sending, sent, or waiting for its next attempt) is left alone.
    """
    row = _claim(pk, now or timezone.now())
    if row is None:
        return str(Notification.objects.filter(pk=pk).values_list("status", flat=True).first())
    message = Outgoing(
        notification_id=row.pk, phone=crypto.unseal(bytes(row.phone_sealed or b"")), text=row.text
    )
    backend = backend_for(row.channel)
    try:
        ids = backend.send_message(message)
    except (GatewayError, OSError) as e:
        return _attempt_failed(row, str(e) or e.__class__.__name__)
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=row.pk)
        GatewayPart.objects.bulk_create(
            GatewayPart(notification=row, message_id=i) for i in ids if i
        )
        fields = ["status", "gateway_id", "error"]
        # A receipt may have arrived while we were still sending (fast gateways).
        if row.status == S.SENDING:
            row.status = S.SENT
        row.gateway_id = " ".join(ids)[:200]
        row.error = ""
        if row.secret:
            row.text = _summary(row)
            fields.append("text")
        row.save(update_fields=fields)
    # Receipts the gateway sent back while the message was going out (parts exist now).
    for r in getattr(backend, "receipts", []):
        receipt_record(message_id=r.message_id, delivered=r.delivered, detail=r.detail)
    return str(Notification.objects.values_list("status", flat=True).get(pk=pk))


def _summary(row: Notification) -> str:
    return _("(secret message; its text is not kept)")


def _attempt_failed(row: Notification, error: str) -> str:
    log.warning("notification %s attempt %s failed: %s", row.pk, row.attempts, error)
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=row.pk)
        row.status, row.error = S.FAILED, error[:300]
        fields = ["status", "error", "next_attempt_at"]
        if row.attempts < settings.LINLI_NOTIFY_MAX_ATTEMPTS:
            row.next_attempt_at = timezone.now() + _backoff(row.attempts)
        else:
            row.next_attempt_at = None
            if row.secret:
                row.text = _summary(row)
                fields.append("text")
        row.save(update_fields=fields)
    return str(row.status)


def notifications_send_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """The sweep: send every row whose deferral or backoff has ended. Returns how many went."""
    now = now or timezone.now()
    # A row still "sending" long after its attempt began belongs to a worker that died in the
    # middle. The gateway may or may not have taken it, so it is not sent again blindly: it is
    # marked failed for staff to see (and resend if they judge it right).
    Notification.objects.filter(
        status=S.SENDING, sent_at__lt=now - dt.timedelta(minutes=STALE_SENDING_MINUTES)
    ).update(
        status=S.FAILED,
        next_attempt_at=None,
        error=_("The worker stopped while sending; it may or may not have gone out."),
    )
    pks = list(
        Notification.objects.due(now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    went = 0
    for pk in pks:
        if notification_send(pk, now=now) in (S.SENT, S.DELIVERED):
            went += 1
    return went


def receipt_record(*, message_id: str, delivered: bool, detail: str = "") -> bool:
    """Record a delivery receipt for gateway part *message_id*; False when it is unknown."""
    with transaction.atomic():
        parts = list(GatewayPart.objects.select_for_update().filter(message_id=message_id))
        if not parts:
            return False
        for part in parts:
            part.status = S.DELIVERED if delivered else S.FAILED
            part.receipt = detail[:300]
            part.save(update_fields=["status", "receipt", "updated_at"])
    for nid in {p.notification_id for p in parts}:
        _settle_from_parts(nid)
    return True


def _settle_from_parts(notification_id: int) -> None:
    """Delivered when every part is; failed (no retry: the gateway took it) when one failed."""
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(pk=notification_id)
        states = list(row.parts.values_list("status", flat=True))
        if not states or row.status not in (S.SENDING, S.SENT):
            return
        if any(s == S.FAILED for s in states):
            failed = row.parts.filter(status=S.FAILED).first()
            row.status, row.next_attempt_at = S.FAILED, None
            row.error = _("The gateway could not deliver it: %(detail)s") % {
                "detail": failed.receipt if failed else ""
            }
            row.save(update_fields=["status", "error", "next_attempt_at"])
        elif all(s == S.DELIVERED for s in states):
            row.status, row.delivered_at = S.DELIVERED, timezone.now()
            row.save(update_fields=["status", "delivered_at"])


def inbox_mark_read(*, user: Any, pk: int | None = None) -> int:
    """Mark one of *user*'s in-app messages read (or all of them); returns how many.

    A message that is not the user's is answered like a missing one (Http404 from the view).
    """
    from linli.notify.selectors import inbox_for

    qs = inbox_for(user).filter(read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())
