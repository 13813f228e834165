"""Linkage: merges of duplicate persons, trust rules, the review queue, matched city lists and
the flags they raise.

Every row reaches an ``Area``: merges and candidates through the kept person's grid, lists
through the area they were matched against, flags through the grid of the flagged person.
Candidates and flags are state machines (``services.CANDIDATE_TRANSITIONS``,
``services.FLAG_TRANSITIONS``) with an event table each, which is their timeline.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import Scope, ScopedModel, ScopedQuerySet


class FieldGroup(models.TextChoices):
    """Person fields that are decided together when two records disagree."""

    NAME = "name", _("Name")
    IDENTITY = "identity", _("National ID, birth date and sex")
    CONTACT = "contact", _("Phone")
    RESIDENCY = "residency", _("Residency category")
    NOTES = "notes", _("Notes")


class TrustPolicyKind(models.TextChoices):
    NEWEST = "newest", _("The newest value wins")
    TRUSTED = "trusted", _("The more trusted source wins")


class SourceTrust(ScopedModel):
    """How far a data source is trusted in an area's subtree (higher rank wins).

    ``field_group`` empty means every group. The deepest area holding rules for a person's grid
    decides; nothing configured means conflicts go to a worker.
    """

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=64)
    field_group = models.CharField(
        _("field group"), max_length=16, choices=FieldGroup.choices, blank=True
    )
    rank = models.PositiveSmallIntegerField(_("rank"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["SourceTrust"].as_manager()
    scope_lookup = "area"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "source", "field_group"], name="unique_source_trust"
            )
        ]
        verbose_name = _("source trust")

    def __str__(self) -> str:
        return f"{self.source}:{self.field_group or '*'}={self.rank}"


class TrustPolicy(ScopedModel):
    """Per area subtree and field group: does the newest value or the trusted source win."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    field_group = models.CharField(_("field group"), max_length=16, choices=FieldGroup.choices)
    policy = models.CharField(_("policy"), max_length=16, choices=TrustPolicyKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["TrustPolicy"].as_manager()
    scope_lookup = "area"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "field_group"], name="unique_trust_policy")
        ]
        verbose_name = _("trust policy")

    def __str__(self) -> str:
        return f"{self.field_group}:{self.policy}"


class PersonMerge(ScopedModel):
    """One merge of an absorbed person into a kept one, with what is needed to undo it.

    ``snapshot`` holds both persons' columns before the merge (sealed values stay sealed,
    base64) and the ids of the rows that were re-pointed; ``after`` is a fingerprint of both
    records just after the merge, so an undo is refused once either was changed since.
    """

    keep = models.ForeignKey("register.Person", on_delete=models.PROTECT, related_name="+")
    absorb = models.ForeignKey("register.Person", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    decisions: Any = models.JSONField(default=dict, blank=True)
    snapshot: Any = models.JSONField(default=dict, editable=False)
    after = models.CharField(max_length=64, editable=False)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["PersonMerge"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("merge")

    def __str__(self) -> str:
        return f"{self.absorb_id}→{self.keep_id}"


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    MERGED = "merged", _("Merged")
    KEPT_APART = "kept_apart", _("Kept apart")


class MergeCandidate(ScopedModel):
    """Two persons the engine thinks may be one (疑似重复), waiting for a worker's decision.

    ``left`` has the smaller id. Visible only to users whose scope covers both grids.
    """

    left = models.ForeignKey("register.Person", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("register.Person", on_delete=models.CASCADE, related_name="+")
    left_grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    right_grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    score = models.FloatField(_("score"))
    level = models.CharField(max_length=16)
    reasons: Any = models.JSONField(default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    merge = models.ForeignKey(
        PersonMerge, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["MergeCandidate"].as_manager()

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="unique_merge_candidate")
        ]
        indexes = [models.Index(fields=["status", "left_grid", "right_grid"])]
        verbose_name = _("possible duplicate")

    def __str__(self) -> str:
        return f"{self.left_id}~{self.right_id}"

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        # Both persons must be in scope: a cross-grid pair is for whoever covers both grids.
        return scope.q("left_grid") & scope.q("right_grid")


class CandidateEvent(ScopedModel):
    """The timeline of a merge candidate: found, merged, kept apart, undone."""

    candidate = models.ForeignKey(MergeCandidate, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["CandidateEvent"].as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return scope.q("candidate__left_grid") & scope.q("candidate__right_grid")


class ConcernCategory(models.Model):
    """A configurable kind of "person of concern" (重点人员类别), e.g. arrivals from risk areas.

    One set for the deployment, managed by community heads (like tags).
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_key = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_key", "code"]
        verbose_name = _("concern category")

    def __str__(self) -> str:
        return self.name


class WatchList(ScopedModel):
    """A list received from outside (a city list), matched against an area's register."""

    name = models.CharField(_("list name"), max_length=100)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        ConcernCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    #: {rows, exact, probable, not_found, rejected}
    counts: Any = models.JSONField(default=dict, blank=True)
    report_file = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["WatchList"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "name", "file_sha256"], name="unique_watch_list_file"
            )
        ]
        verbose_name = _("received list")

    def __str__(self) -> str:
        return self.name


class EntryResult(models.TextChoices):
    EXACT = "exact", _("Found")
    PROBABLE = "probable", _("Probably found")
    NOT_FOUND = "not_found", _("Not in the register")
    REJECTED = "rejected", _("Unreadable row")


class WatchListEntry(ScopedModel):
    """One row of a received list and what matching found for it (masked values only)."""

    # No index of its own: the (watch_list, result) index below serves every lookup by list,
    # and a million-row list pays for each index it writes (decision 0046).
    watch_list = models.ForeignKey(
        WatchList, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    row = models.PositiveIntegerField(_("row"))
    name = models.CharField(_("name"), max_length=64, blank=True)
    id_masked = models.CharField(_("national ID"), max_length=18, blank=True)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True)
    origin = models.CharField(_("where from"), max_length=200, blank=True)
    arrived = models.CharField(_("when"), max_length=64, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=EntryResult.choices)
    person = models.ForeignKey(
        "register.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(default=0.0)
    reasons: Any = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["WatchListEntry"].as_manager()
    scope_lookup = "watch_list__area"

    class Meta:
        ordering = ["watch_list_id", "row"]
        indexes = [models.Index(fields=["watch_list", "result"])]
        verbose_name = _("list row")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("To follow up")
    FOLLOWED_UP = "followed_up", _("Followed up")
    CLOSED = "closed", _("Closed")


class ConcernFlag(ScopedModel):
    """A person of concern (重点人员): a category, why, from which list; assigned to the grid
    the person lives in, whose workers follow it up."""

    person = models.ForeignKey("register.Person", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(ConcernCategory, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    watch_list = models.ForeignKey(
        WatchList, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags"
    )
    entry = models.ForeignKey(
        WatchListEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    note = models.TextField(_("follow-up note"), blank=True)
    followed_up_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    followed_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ConcernFlag"].as_manager()

    class Meta:
        ordering = ["status", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "category", "watch_list"], name="unique_flag_per_list"
            )
        ]
        indexes = [models.Index(fields=["grid", "status"])]
        verbose_name = _("flag")

    def __str__(self) -> str:
        return f"{self.person_id}:{self.category_id}"


class FlagEvent(ScopedModel):
    """The timeline of a flag: raised, followed up, closed."""

    flag = models.ForeignKey(ConcernFlag, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["FlagEvent"].as_manager()
    scope_lookup = "flag__grid"

    class Meta:
        ordering = ["created_at", "id"]


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the background worker")
    RUNNING = "running", _("Matching")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped")


class ListMatchRun(ScopedModel):
    """A received list uploaded from the workbench and matched in the background (large
    lists): what was asked, how far it is, and the list it made. The uploaded copy holds
    plaintext IDs and is deleted once the run ends, whatever the outcome."""

    name = models.CharField(_("list name"), max_length=100)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        ConcernCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    stored_file = models.CharField(max_length=500, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    failure = models.CharField(max_length=500, blank=True)
    watch_list = models.ForeignKey(
        WatchList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ListMatchRun"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("list match run")

    def __str__(self) -> str:
        return self.name
