"""Volunteers and reporting party members, their activities, the points ledger and the store.

Every row belongs to a node of the jurisdiction tree: a volunteer to the grid (or community) they
serve, an activity, a points rule and a reward to the area that runs it, ledger entries, claims
and redemptions to the volunteer's area at the time. Workflows (registration, sign-up, claim,
redemption) are state machines whose allowed moves are listed once, in ``TRANSITIONS``; each
volunteer has a timeline of ``VolunteerEvent`` rows.

The points ledger (``PointsEntry``) is append-only: the model and its queryset refuse updates
and deletes; a correction is a new ``reversal`` entry. A balance is the sum of the entries.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import Scope, ScopedModel, ScopedQuerySet


class IllegalTransition(Exception):
    """A workflow was asked to move between two states its table does not allow."""


def check_transition(table: dict[str, set[str]], current: str, target: str) -> None:
    """Raise IllegalTransition unless *target* may follow *current* in *table*."""
    if target not in table.get(current, set()):
        raise IllegalTransition(f"{current} → {target} is not allowed")


# --- volunteers ------------------------------------------------------------------------------


class VolunteerKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    PARTY_MEMBER = "party_member", _("Reporting party member")


class VolunteerStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    SUSPENDED = "suspended", _("Suspended")


VOLUNTEER_TRANSITIONS: dict[str, set[str]] = {
    VolunteerStatus.APPLIED: {VolunteerStatus.APPROVED, VolunteerStatus.REJECTED},
    VolunteerStatus.APPROVED: {VolunteerStatus.SUSPENDED},
    VolunteerStatus.SUSPENDED: {VolunteerStatus.APPROVED},
    # Applying again after a rejection reopens the same record.
    VolunteerStatus.REJECTED: {VolunteerStatus.APPLIED},
}


class NameShown(models.TextChoices):
    FULL = "full", _("Full name")
    SURNAME = "surname", _("Surname + 志愿者")


class Volunteer(ScopedModel):
    """A volunteer or reporting party member (下沉/报到党员) registered with a community.

    ``area`` is the grid they serve (or the community, when no grid is chosen). Party members
    report twice (双报到): to their community of residence and to the community paired with
    their employer; both communities see them.
    """

    user = models.OneToOneField(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer",
    )
    person = models.ForeignKey(
        "register.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=64)
    phone_sealed = models.BinaryField(null=True, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=VolunteerKind.choices, default=VolunteerKind.VOLUNTEER
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("serves in")
    )
    residence_community = models.ForeignKey(
        "areas.Area",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("community of residence"),
    )
    paired_community = models.ForeignKey(
        "areas.Area",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("employer's paired community"),
    )
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    name_shown = models.CharField(
        _("name on the points board"),
        max_length=16,
        choices=NameShown.choices,
        default=NameShown.SURNAME,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=VolunteerStatus.choices, default=VolunteerStatus.APPLIED
    )
    registered_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Volunteer"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("volunteer")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        # Dual reporting: both communities a party member reports to see them.
        return scope.q("area") | scope.q("residence_community") | scope.q("paired_community")

    @property
    def public_name(self) -> str:
        """The name shown on boards, as the volunteer chose it."""
        if self.name_shown == NameShown.FULL:
            return self.name
        return gettext("%(surname)s volunteer") % {"surname": self.name[:1]}


class VolunteerEventKind(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    SUSPENDED = "suspended", _("Suspended")
    REINSTATED = "reinstated", _("Reinstated")
    SIGNED_UP = "signed_up", _("Signed up for an activity")
    CHECKED_IN = "checked_in", _("Checked in at an activity")
    CLAIMED = "claimed", _("Claimed points")
    CLAIM_APPROVED = "claim_approved", _("Points posted")
    CLAIM_REJECTED = "claim_rejected", _("Claim rejected")
    REVERSED = "reversed", _("Points reversed")
    REDEEMED = "redeemed", _("Redeemed a reward")
    PICKED_UP = "picked_up", _("Picked up a reward")
    REDEMPTION_CANCELLED = "redemption_cancelled", _("Redemption cancelled")


class VolunteerEvent(ScopedModel):
    """One step in a volunteer's service timeline."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=24, choices=VolunteerEventKind.choices)
    summary = models.CharField(_("summary"), max_length=300)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["VolunteerEvent"].as_manager()
    scope_lookup = "volunteer__area"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("volunteer event")

    def __str__(self) -> str:
        return f"{self.volunteer} {self.kind}"


# --- points rules ----------------------------------------------------------------------------


class RuleKind(models.TextChoices):
    ORDER_RATED = "order_rated", _("Work order done and rated")
    ACTIVITY_HOUR = "activity_hour", _("Hour at an activity")
    CHECKPOINT_SHIFT = "checkpoint_shift", _("Checkpoint shift")


class PointsRule(ScopedModel):
    """How many points a kind of service earns in an area (and below it).

    The rule on the nearest node above the place of service wins. ``min_stars`` applies to
    work orders: an order earns points only when its requester rated it at least that high.
    """

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=24, choices=RuleKind.choices)
    points = models.PositiveIntegerField(_("points"))
    min_stars = models.PositiveSmallIntegerField(_("at least this many stars"), default=4)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["PointsRule"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["area__path", "kind"]
        verbose_name = _("points rule")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.points}"


# --- activities ------------------------------------------------------------------------------


class Activity(ScopedModel):
    """A volunteer service activity (志愿服务活动): a time, a place, a number of places."""

    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    title = models.CharField(_("title"), max_length=100)
    place = models.CharField(_("place"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"))
    rule = models.ForeignKey(
        PointsRule,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("points rule"),
    )
    description = models.TextField(_("description"), blank=True)
    # Shown on the organiser's page; a volunteer types it to check themselves in.
    check_in_code = models.CharField(max_length=8)
    organiser = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Activity"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("activity")

    def __str__(self) -> str:
        return self.title

    @property
    def hours(self) -> float:
        """The length of the activity in hours, to the quarter hour."""
        seconds = (self.ends_at - self.starts_at).total_seconds()
        return round(seconds / 3600 * 4) / 4


class SignupStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("Signed up")
    ATTENDED = "attended", _("Attended")
    CANCELLED = "cancelled", _("Cancelled")


SIGNUP_TRANSITIONS: dict[str, set[str]] = {
    SignupStatus.SIGNED_UP: {SignupStatus.ATTENDED, SignupStatus.CANCELLED},
    SignupStatus.CANCELLED: {SignupStatus.SIGNED_UP},
    SignupStatus.ATTENDED: set(),
}


class Signup(ScopedModel):
    """A volunteer's place at an activity; attendance is checked in and hours recorded."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(
        _("status"), max_length=16, choices=SignupStatus.choices, default=SignupStatus.SIGNED_UP
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Signup"].as_manager()
    scope_lookup = "activity__area"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="unique_signup")
        ]
        verbose_name = _("sign-up")

    def __str__(self) -> str:
        return f"{self.volunteer} @ {self.activity}"


# --- the points ledger -----------------------------------------------------------------------


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    SPEND = "spend", _("Spent")
    REVERSAL = "reversal", _("Reversal")


class SourceType(models.TextChoices):
    ACTIVITY = "activity", _("Activity")
    ORDER = "order", _("Work order")
    CHECKPOINT_SHIFT = "checkpoint_shift", _("Checkpoint shift")
    REDEMPTION = "redemption", _("Redemption")
    ENTRY = "entry", _("Ledger entry")


class AppendOnlyQuerySet(ScopedQuerySet["PointsEntry"]):
    """Refuses bulk updates and deletes: the ledger only grows."""

    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("points entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("points entries are append-only")


class PointsEntry(ScopedModel):
    """One line of the points ledger. Never changed or removed: a reversal is a new entry.

    ``source_type`` + ``source_id`` name what earned or spent the points (a sign-up at an
    activity, a work order, a checkpoint shift, a redemption, or the entry a reversal undoes).
    """

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="entries")
    # The volunteer's area when the entry was posted: rankings per grid/community use it.
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    delta = models.IntegerField(_("points"))
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    rule = models.ForeignKey(
        PointsRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_type = models.CharField(_("source"), max_length=24, choices=SourceType.choices)
    source_id = models.PositiveBigIntegerField()
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["volunteer", "created_at"])]
        verbose_name = _("points entry")

    def __str__(self) -> str:
        return f"{self.volunteer} {self.delta:+d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("points entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("points entries are append-only")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")


CLAIM_TRANSITIONS: dict[str, set[str]] = {
    ClaimStatus.PENDING: {ClaimStatus.APPROVED, ClaimStatus.REJECTED},
    ClaimStatus.APPROVED: set(),
    ClaimStatus.REJECTED: set(),
}


class PointsClaim(ScopedModel):
    """Evidence of service awaiting a grid worker's review before points post.

    A claim always carries a written note: a photo alone is not evidence of work (the studies
    warn against photo formalism). Approval posts one ``PointsEntry``; rejection keeps the
    claim with the reason.
    """

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="claims")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    source_type = models.CharField(_("source"), max_length=24, choices=SourceType.choices)
    source_id = models.PositiveBigIntegerField()
    source_label = models.CharField(_("for"), max_length=200)
    rule = models.ForeignKey(PointsRule, on_delete=models.PROTECT, related_name="+")
    points = models.PositiveIntegerField(_("points"))
    hours = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    note = models.TextField(_("what was done"))
    # Optional evidence beside the note, re-encoded (volunteers/photos.py) and served only to
    # those who may see the claim.
    photo = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    claimed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(_("reason"), max_length=300, blank=True)
    entry = models.OneToOneField(
        PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="claim"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["PointsClaim"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One live claim per piece of service: a retried claim does not count twice.
            models.UniqueConstraint(
                fields=["volunteer", "source_type", "source_id"],
                condition=~models.Q(status="rejected"),
                name="one_live_claim_per_source",
            )
        ]
        verbose_name = _("points claim")

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.source_label}"


# --- the rewards store (能量广场) --------------------------------------------------------------


class Reward(ScopedModel):
    """An item of the rewards store: a points price and the stock left."""

    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    price = models.PositiveIntegerField(_("points price"))
    stock = models.PositiveIntegerField(_("stock"))
    is_active = models.BooleanField(_("on offer"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Reward"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["price", "name", "id"]
        verbose_name = _("reward")

    def __str__(self) -> str:
        return self.name


class RedemptionStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved, awaiting pick-up")
    PICKED_UP = "picked_up", _("Picked up")
    CANCELLED = "cancelled", _("Cancelled")


REDEMPTION_TRANSITIONS: dict[str, set[str]] = {
    RedemptionStatus.RESERVED: {RedemptionStatus.PICKED_UP, RedemptionStatus.CANCELLED},
    RedemptionStatus.PICKED_UP: set(),
    RedemptionStatus.CANCELLED: set(),
}


class Redemption(ScopedModel):
    """A reward reserved with points: stock held and points spent until pick-up or refund."""

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="redemptions")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RedemptionStatus.choices,
        default=RedemptionStatus.RESERVED,
    )
    # The form's one-time key: the same request sent twice redeems once.
    request_key = models.CharField(max_length=64)
    spend_entry = models.OneToOneField(
        PointsEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    refund_entry = models.OneToOneField(
        PointsEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    handled_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Redemption"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "request_key"], name="one_redemption_per_request"
            )
        ]
        verbose_name = _("redemption")

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.reward}"
