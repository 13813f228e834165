"""Import batches: one row per file run through the intake, previewed or committed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedModel, ScopedQuerySet


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed")
    # A file uploaded in the workbench, waiting for its column mapping (see intake.jobs).
    UPLOADED = "uploaded", _("Waiting for the column mapping")
    #: A large upload being read by the background worker.
    READING = "reading", _("Reading the file")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")


class ImportKind(models.TextChoices):
    PEOPLE = "people", _("People roster")


class ImportBatch(ScopedModel):
    """One import of one file into one area (a community or a grid).

    The file's SHA-256 makes a re-import of the same file into the same area a no-op: a
    committed batch with that hash means the rows are already in the register.
    """

    source = models.CharField(_("source"), max_length=64)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=ImportKind.choices, default=ImportKind.PEOPLE
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices)
    #: {read, created, updated, unchanged, rejected}
    counts = models.JSONField(default=dict, blank=True)
    error_file = models.CharField(_("error file"), max_length=500, blank=True)
    #: Why a failed import was rolled back.
    failure = models.TextField(_("failure"), blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    # --- the workbench flow and background runs (intake.jobs) ---
    #: The uploaded file, kept under LINLI_VAR_DIR/intake/batches/<id>/ (never served).
    stored_file = models.CharField(max_length=500, blank=True)
    #: The header row found in the file and its cells, read at upload.
    header_row = models.PositiveIntegerField(default=0)
    headers = models.JSONField(default=list, blank=True)
    #: The first data rows, long numbers (IDs, phones) masked, for the mapping page.
    sample_rows = models.JSONField(default=list, blank=True)
    #: The column mapping chosen for this batch (Mapping.to_dict()).
    mapping = models.JSONField(default=dict, blank=True)
    profile = models.ForeignKey(
        "intake.MappingProfile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="batches",
        verbose_name=_("mapping profile"),
    )
    #: True while the queued or running job is a preview (a dry run), False for a commit.
    dry_run = models.BooleanField(default=False)
    run_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    #: The first rejected rows of the last run: [{row, cells (masked), reason}].
    rejected_sample = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ImportBatch"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area", "kind", "file_sha256"])]
        verbose_name = _("import batch")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class MappingProfile(ScopedModel):
    """A named, saved column mapping for one source's files (e.g. "派出所流动人口表").

    Belongs to an area like an import batch; next month's file from the same source whose
    headers fit the profile imports with no mapping questions. `mapping` is
    `linli.intake.mapping.Mapping.to_dict()`.
    """

    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source"), max_length=64)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["MappingProfile"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="intake_profile_name_per_area")
        ]
        verbose_name = _("mapping profile")

    def __str__(self) -> str:
        return self.name


class ImportEvent(ScopedModel):
    """One step in the timeline of an import batch (uploaded, queued, running, …). Never
    edited."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["ImportEvent"].as_manager()
    scope_lookup = "batch__area"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("import event")
