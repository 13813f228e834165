"""Report templates (一表通) and what is made from them: renders, data requests, deliveries.

A template is data: ``ReportTemplate`` names it, ``ReportTemplateVersion`` holds each saved
spec (never edited; saving makes a new version). A ``ReportRender`` is one output file for one
area, made in the background; a ``DataRequest`` is a department's standing ask, and each
``DataRequestDelivery`` logs one answer to it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import Scope, ScopedModel, ScopedQuerySet


class TemplateKind(models.TextChoices):
    LEDGER = "ledger", _("Ledger")
    STATISTICS = "statistics", _("Statistics table")


class ReportTemplate(ScopedModel):
    """A department's form. ``owner_area`` is None for the shipped library (read-only, seen by
    everyone who may use reports); otherwise the node whose designers edit it. A template is
    seen where its owner is in the user's scope or above it (a community's template serves its
    grids), never beside it."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=TemplateKind.choices)
    rowset = models.CharField(_("rows"), max_length=64)
    department = models.CharField(_("department"), max_length=100, blank=True)
    owner_area = models.ForeignKey(
        "areas.Area",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    library_key = models.CharField(max_length=64, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ReportTemplate"].as_manager()

    class Meta:
        ordering = ["owner_area_id", "code"]
        verbose_name = _("report template")

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title without the placeholders filled at render time ({area}, {community})."""
        title = self.title
        for key in ("{area}", "{community}", "{period}", "{date}", "{department}"):
            title = title.replace(key, "")
        return title.strip() or self.code

    @property
    def is_library(self) -> bool:
        return self.owner_area_id is None

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        if scope.is_empty:
            return models.Q(pk__in=[])
        above = {int(x) for p in scope.paths for x in p.strip("/").split("/") if x}
        return (
            models.Q(owner_area__isnull=True)
            | models.Q(owner_area_id__in=above)
            | models.Q(owner_area_id__in=scope.area_ids())
        )

    def current(self) -> ReportTemplateVersion:
        version = self.versions.order_by("-number").first()
        assert version is not None, "a template always has a version"
        return version


class ReportTemplateVersion(models.Model):
    """One saved spec of a template (see linli/reports/spec.py). Never edited."""

    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    spec: Any = models.JSONField(_("spec"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="unique_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.template.code} v{self.number}"


class RenderFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (.xlsx)"
    CSV = "csv", "CSV"
    PDF = "pdf", "PDF"


class RenderStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


# The render state machine: allowed transitions, in one table.
RENDER_TRANSITIONS: dict[str, frozenset[str]] = {
    RenderStatus.QUEUED: frozenset({RenderStatus.RUNNING, RenderStatus.FAILED}),
    RenderStatus.RUNNING: frozenset({RenderStatus.DONE, RenderStatus.FAILED}),
    RenderStatus.DONE: frozenset({RenderStatus.EXPIRED}),
    RenderStatus.FAILED: frozenset({RenderStatus.EXPIRED}),
    RenderStatus.EXPIRED: frozenset(),
}


class ReportRender(ScopedModel):
    """One output of one template version for one area, made by the background worker.

    Seen (and downloaded) by users whose scope covers ``area``; a file that holds full ID
    numbers only by users who may reveal personal data there.
    """

    version = models.ForeignKey(
        ReportTemplateVersion, on_delete=models.PROTECT, related_name="renders"
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(_("format"), max_length=8, choices=RenderFormat.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=RenderStatus.choices, default=RenderStatus.QUEUED
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    batch = models.CharField(max_length=32, blank=True, db_index=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    fields_delivered = models.PositiveIntegerField(default=0)
    fields_by_hand = models.PositiveIntegerField(default=0)
    revealed = models.BooleanField(default=False)
    file_name = models.CharField(max_length=200, blank=True)
    file_path = models.CharField(max_length=300, blank=True, editable=False)
    error = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ReportRender"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("report render")

    def __str__(self) -> str:
        return self.file_name or f"render {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == RenderStatus.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ReportRenderEvent(ScopedModel):
    """The timeline of a render: each status change, when, with a note."""

    render = models.ForeignKey(ReportRender, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=RenderStatus.choices)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ReportRenderEvent"].as_manager()
    scope_lookup = "render__area"

    class Meta:
        ordering = ["created_at", "id"]


class Recurrence(models.TextChoices):
    ONCE = "once", _("One-off")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class DataRequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


DATA_REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    DataRequestStatus.OPEN: frozenset({DataRequestStatus.DONE, DataRequestStatus.CANCELLED}),
    DataRequestStatus.DONE: frozenset(),
    DataRequestStatus.CANCELLED: frozenset(),
}


class DataRequest(ScopedModel):
    """A department's ask: this template, for this area, by this date, once or every
    week/month. The community answers all due requests in one action."""

    department = models.CharField(_("department"), max_length=100)
    template = models.ForeignKey(ReportTemplate, on_delete=models.PROTECT, related_name="requests")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=60, blank=True)
    due_on = models.DateField(_("due date"))
    recurrence = models.CharField(
        _("recurrence"), max_length=16, choices=Recurrence.choices, default=Recurrence.ONCE
    )
    format = models.CharField(
        _("format"), max_length=8, choices=RenderFormat.choices, default=RenderFormat.XLSX
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DataRequestStatus.choices,
        default=DataRequestStatus.OPEN,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["DataRequest"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("data request")

    def __str__(self) -> str:
        return f"{self.department}: {self.template.title}"


class DataRequestDelivery(ScopedModel):
    """One answer to a data request: which render, for which due date, by whom; and the
    burden measure (fields delivered from the register vs fields left to type by hand)."""

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="deliveries")
    render = models.ForeignKey(ReportRender, on_delete=models.PROTECT, related_name="deliveries")
    due_on = models.DateField()
    delivered_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["DataRequestDelivery"].as_manager()
    scope_lookup = "request__area"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "due_on"], name="unique_delivery_per_due")
        ]
