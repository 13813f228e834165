"""Notifications: one row per message to one recipient on one channel (decision 0032).

Every capability sends through `linli.notify.services.notify`; the row records what was sent,
to whom (a person and/or a user, the phone sealed), on which channel, and how far it got:
queued → sending → sent → delivered, or failed / suppressed (rate limit) / deferred (quiet
hours, channel limit, retry backoff). Rows are scoped by grid like everything else; messages
with no grid (a sign-in code to a phone not in the register) are visible to no workbench page.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.scoping import ScopedModel, ScopedQuerySet


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    # Urgent messages (sign-in codes, alerts) ignore quiet hours and the per-recipient limit.
    URGENT = "urgent", _("Urgent")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", pgettext_lazy("notification status", "Delivered")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")
    DEFERRED = "deferred", _("Deferred")


class NotificationQuerySet(ScopedQuerySet["Notification"]):
    def due(self, now: object) -> NotificationQuerySet:
        """Rows a sweep should (re)send now: deferred, or failed with a retry planned."""
        return self.filter(
            status__in=[
                NotificationStatus.QUEUED,
                NotificationStatus.DEFERRED,
                NotificationStatus.FAILED,
            ],
            next_attempt_at__isnull=False,
            next_attempt_at__lte=now,
        )


class Notification(ScopedModel):
    """One message to one recipient on one channel, with its delivery state.

    ``text`` of a secret message (a sign-in code) is replaced by ``summary`` once the message
    has left, so codes do not linger in the database.
    """

    grid = models.ForeignKey(
        "areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        "register.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    name = models.CharField(_("recipient"), max_length=64, blank=True)
    phone_sealed = models.BinaryField(null=True, editable=False)
    phone_bidx = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=40)
    text = models.TextField(_("text"))
    secret = models.BooleanField(default=False)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=NotificationStatus.choices,
        default=NotificationStatus.QUEUED,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    gateway_id = models.CharField(_("gateway message id"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    source_app = models.CharField(max_length=32, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    # Same key twice → the same notification (retried actions, re-run sweeps).
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    mass_message = models.ForeignKey(
        "notify.MassMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["user", "channel", "read_at"]),
        ]
        verbose_name = _("notification")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.kind} · {self.get_status_display()}"


class GatewayPart(models.Model):  # noqa: DJ008
    """One part of a message as the gateway knows it (a long SMS travels as several parts).

    Delivery receipts name the part's message id; the notification is delivered when every
    part is, failed when any part failed.
    """

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="parts")
    message_id = models.CharField(max_length=80, db_index=True)
    status = models.CharField(
        max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.SENT
    )
    receipt = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]


class MassTarget(models.TextChoices):
    BUILDING = "building", _("Building")
    GRID = "grid", _("Grid")
    QUARANTINE = "quarantine", _("Quarantine list")


class MassStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class MassMessage(ScopedModel):
    """A workbench action that messages many people at once, run in the background.

    ``token`` comes from the form: posting the same form twice finds the same row, and each
    recipient's notification carries a dedupe key made from this row, so a retried task sends
    nobody twice.
    """

    token = models.CharField(max_length=64, unique=True)
    target = models.CharField(_("send to"), max_length=12, choices=MassTarget.choices)
    # The building for BUILDING; the grid holds the row (and is the whole target for GRID).
    building = models.ForeignKey(
        "register.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    only_missing_checkin = models.BooleanField(default=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=8, choices=MassStatus.choices, default=MassStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet["MassMessage"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mass message")

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)
