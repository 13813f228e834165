"""Passes and checkpoints (出入证与卡口) for emergency mode: gates of an estate, access passes for
residents and visitors, every gate scan, health codes, and the duty roster of each gate.

Every row carries the grid it belongs to (``grid``) so the scoping layer restricts it like the
register: a checkpoint belongs to the grid it stands in, a pass to its holder's (or host's) grid,
a scan to its checkpoint's grid. An access pass is a state machine (``TRANSITIONS`` in
``services.py``) whose every step is a ``PassEvent`` (its timeline).
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedModel, ScopedQuerySet


class Checkpoint(ScopedModel):
    """A gate of an estate (卡口) where passes are checked, in one grid."""

    estate = models.ForeignKey(
        "register.Estate", on_delete=models.PROTECT, related_name="checkpoints"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=50)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Checkpoint"].as_manager()

    class Meta:
        ordering = ["estate__name", "name"]
        verbose_name = _("checkpoint")
        constraints = [
            models.UniqueConstraint(fields=["estate", "name"], name="passes_checkpoint_name")
        ]

    def __str__(self) -> str:
        return f"{self.estate.name} · {self.name}"


class PassKind(models.TextChoices):
    PERSON = "person", _("Resident (one person)")
    HOUSEHOLD = "household", _("Resident (whole household)")
    VISITOR = "visitor", _("Visitor")


class PassStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Valid")
    REFUSED = "refused", _("Refused")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    CLOSED = "closed", _("Closed (the event ended)")


class AccessPass(ScopedModel):
    """An access pass (出入证) for one estate, carried as a signed QR code.

    A resident pass names a person or a whole household and is issued valid at once by a worker.
    A visitor pass is applied for by a resident (the host) for a named visitor, whose phone is
    sealed; a worker approves or refuses it; it is valid from ``valid_from`` to ``valid_until``.

    ``event`` is the emergency event running passes over its grid when it was issued or
    applied for (none for a resident pass issued in normal mode): when that event ends, the
    pass closes (``services.passes_close_for_event``) unless another active event running
    passes still covers its grid, which then takes it over.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=PassKind.choices)
    estate = models.ForeignKey("register.Estate", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "register.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "register.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    host = models.ForeignKey(
        "register.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("host"),
    )
    holder_name = models.CharField(_("holder"), max_length=64)
    holder_masked = models.CharField(max_length=64, editable=False)
    phone_sealed = models.BinaryField(null=True, editable=False)
    phone_bidx = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=10, choices=PassStatus.choices, default=PassStatus.APPLIED
    )
    key_version = models.PositiveSmallIntegerField(default=1, editable=False)
    event = models.ForeignKey(
        "emergency.EmergencyEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("emergency event"),
    )
    applied_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["AccessPass"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["estate", "status"]),
        ]
        verbose_name = _("access pass")

    def __str__(self) -> str:
        return f"{self.holder_masked} · {self.get_kind_display()}"

    def is_valid_at(self, at: dt.datetime) -> bool:
        return self.status == PassStatus.APPROVED and self.valid_from <= at < self.valid_until


class PassEventKind(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ISSUED = "issued", _("Issued")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    CLOSED = "closed", _("Closed")


class PassEvent(ScopedModel):
    """One step of a pass's timeline. Never edited."""

    access_pass = models.ForeignKey(AccessPass, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=10, choices=PassEventKind.choices)
    at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["PassEvent"].as_manager()

    class Meta:
        ordering = ["at", "id"]


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class ScanResult(models.TextChoices):
    OK = "ok", _("Let through")
    REFUSED = "refused", _("Refused")


# Why a scan was refused, for people (the codes come from passes.signing and services).
REASON_LABELS = {
    "malformed": _("Not a Linli pass code."),
    "bad_signature": _("Forged or damaged code: the signature does not match."),
    "unknown_key": _("Signed with an unknown key."),
    "not_yet_valid": _("Not valid yet."),
    "expired": _("Expired."),
    "revoked": _("Revoked."),
    "wrong_estate": _("A pass for another estate."),
    "unknown_pass": _("Unknown pass."),
    "not_approved": _("Not approved."),
    "closed": _("Closed: the emergency event it was issued under has ended or stopped its passes."),
}


class GateScan(ScopedModel):
    """One scan at a gate (who, which gate, in or out, when, and the verdict).

    ``client_id`` is made by the checkpoint phone for each scan, so a scan queued offline and
    posted twice is stored once (unique per checkpoint). ``scanned_at`` is the phone's time of
    the scan; ``received_at`` when the server stored it (later for offline scans).
    """

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="scans")
    access_pass = models.ForeignKey(
        AccessPass, null=True, blank=True, on_delete=models.PROTECT, related_name="scans"
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    scanned_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    scanned_at = models.DateTimeField(_("scanned at"))
    received_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(_("result"), max_length=8, choices=ScanResult.choices)
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    offline = models.BooleanField(_("scanned offline"), default=False)
    client_id = models.CharField(max_length=64)
    holder_masked = models.CharField(_("holder"), max_length=64, blank=True)
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")

    objects = ScopedQuerySet["GateScan"].as_manager()

    class Meta:
        ordering = ["-scanned_at", "-id"]
        indexes = [models.Index(fields=["grid", "scanned_at"])]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "client_id"], name="passes_scan_client")
        ]
        verbose_name = _("gate scan")

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS.get(self.reason, self.reason))


class HealthColour(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class HealthCode(ScopedModel):
    """A person's health code colour (健康码), as a worker or a department's system last set it.

    Shown at the gate only while an event covering the estate runs the ``health_code`` measure.
    """

    person = models.OneToOneField(
        "register.Person", on_delete=models.CASCADE, related_name="health_code"
    )
    colour = models.CharField(_("colour"), max_length=6, choices=HealthColour.choices)
    source = models.CharField(_("source"), max_length=50, blank=True)
    set_at = models.DateTimeField(_("set at"))
    set_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["HealthCode"].as_manager()

    class Meta:
        verbose_name = _("health code")


class DutyShift(ScopedModel):
    """Who stands at which gate when (排班). A finished volunteer's shift opens a points claim
    (``linli.volunteers.services.points_claim_for_shift``, which reads ``pk``, ``label``,
    ``grid``, ``ended_at`` and ``note``). A shift not yet begun when the last event running
    passes over its gate ends is cancelled (``cancelled_at``; the row stays)."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="shifts")
    user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("on duty")
    )
    starts_at = models.DateTimeField(_("shift starts"))
    ends_at = models.DateTimeField(_("shift ends"))
    ended_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["DutyShift"].as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["grid", "starts_at"])]
        verbose_name = _("duty shift")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        start = self.starts_at.astimezone()
        end = self.ends_at.astimezone()
        return f"{self.checkpoint.name} {start:%m-%d %H:%M}–{end:%H:%M}"


class SwapStatus(models.TextChoices):
    REQUESTED = "requested", _("Asked")
    ACCEPTED = "accepted", _("Accepted, waiting for approval")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    REFUSED = "refused", _("Refused")


class ShiftSwap(ScopedModel):
    """A swap of a shift: the one on duty asks another, who accepts, and a worker approves."""

    shift = models.ForeignKey(DutyShift, on_delete=models.CASCADE, related_name="swaps")
    from_user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=SwapStatus.choices, default=SwapStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ShiftSwap"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
