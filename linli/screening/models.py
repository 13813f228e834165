"""Screening campaigns (排查): a list of people to reach, worked by grid workers from their phone.

Creating a ``ScreeningCampaign`` snapshots its ``ScreeningTarget`` rows from its source (a
matched city list, a building, a tag), so later changes to the source do not move the count.
Each target carries its grid (the person's grid; for a list row not in the register, the
campaign's area) and its assignee, the grid worker of that grid; every call or visit is a
``ScreeningAttempt``. Nothing silently drops out: a target stays ``pending`` until someone
records an outcome, and the board counts the pending ones per grid.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedModel, ScopedQuerySet


class CampaignSource(models.TextChoices):
    WATCH_LIST = "watch_list", _("A matched city list")
    BUILDING = "building", _("A building")
    TAG = "tag", _("A tag")


class ScreeningCampaign(ScopedModel):
    """A screening campaign over an area (a community or a grid), from one source."""

    name = models.CharField(_("name"), max_length=100)
    event = models.ForeignKey(
        "emergency.EmergencyEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="screening_campaigns",
        verbose_name=_("emergency event"),
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    source = models.CharField(_("source"), max_length=12, choices=CampaignSource.choices)
    watch_list = models.ForeignKey(
        "linkage.WatchList", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    building = models.ForeignKey(
        "register.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tag = models.ForeignKey(
        "register.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due"))
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ScreeningCampaign"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("screening campaign")

    def __str__(self) -> str:
        return self.name


class TargetStatus(models.TextChoices):
    PENDING = "pending", _("Not reached yet")
    REACHED = "reached", _("Reached")
    NOT_REACHABLE = "not_reachable", _("Not reachable")
    MOVED_AWAY = "moved_away", _("Moved away")


# What a worker may record on a target (pending is where every target starts).
OUTCOMES = [TargetStatus.REACHED, TargetStatus.NOT_REACHABLE, TargetStatus.MOVED_AWAY]


class ScreeningTarget(ScopedModel):
    """One person to reach in a campaign: a register entry, or a list row not in the register
    (name and masked values only)."""

    campaign = models.ForeignKey(
        ScreeningCampaign, on_delete=models.CASCADE, related_name="targets"
    )
    person = models.ForeignKey(
        "register.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entry = models.ForeignKey(
        "linkage.WatchListEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=64)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="screening_targets",
        verbose_name=_("assignee"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts_count = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ScreeningTarget"].as_manager()

    class Meta:
        ordering = ["grid_id", "status", "id"]
        indexes = [
            models.Index(fields=["campaign", "grid", "status"]),
            models.Index(fields=["assignee", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "person"],
                condition=models.Q(person__isnull=False),
                name="unique_screening_person",
            )
        ]
        verbose_name = _("screening target")

    def __str__(self) -> str:
        return f"{self.name} · {self.get_status_display()}"


class ScreeningAttempt(ScopedModel):
    """One call or visit: its outcome, a note, who and when. Never edited."""

    target = models.ForeignKey(ScreeningTarget, on_delete=models.CASCADE, related_name="attempts")
    outcome = models.CharField(_("outcome"), max_length=16, choices=TargetStatus.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A key the form sends once, so a double tap records one attempt.
    client_key = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(_("time"))

    objects = ScopedQuerySet["ScreeningAttempt"].as_manager()
    scope_lookup = "target__grid"

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "client_key"],
                condition=~models.Q(client_key=""),
                name="unique_screening_attempt_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_id}:{self.outcome}"
