"""Tests and vaccinations (核酸检测与疫苗接种): test rounds with their sampling sites, one test
record per person and round, vaccination doses, and the alert a positive result raises.

Results and vaccinations are health data: every row carries the grid of the person it is about,
so the scoping layer restricts it with the register's indexed filter, under the ``health.view``
permission (not ``register.view``). A ``TestRound`` covers one node of the tree (``area``); the
people it is meant to reach are the living persons under that node.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import Scope, ScopedModel, ScopedQuerySet


class RoundStatus(models.TextChoices):
    OPEN = "open", _("Sampling under way")
    CLOSED = "closed", _("Closed")


class TestResult(models.TextChoices):
    PENDING = "pending", _("Sampled, result pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class HealthSource(models.TextChoices):
    SITE = "site", _("Sampling site")
    ENTRY = "entry", _("Entered by a worker")
    IMPORT = "import", _("Imported file")
    API = "api", _("API")
    SEED = "seed", _("Demo data")


class TestRound(models.Model):
    """A round of nucleic-acid tests (核酸检测轮次) over one node of the tree on one day.

    ``event`` ties it to an emergency (its results feed the event's closed loop, "tested");
    a routine round has none. Visible to a user whose scope overlaps the node (a grid worker
    sees the round declared over their community)."""

    __test__ = False  # not a pytest class, whatever its name

    name = models.CharField(_("name"), max_length=100)
    event = models.ForeignKey(
        "emergency.EmergencyEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("emergency event"),
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area covered")
    )
    date = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["TestRound"].as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("test round")

    def __str__(self) -> str:
        return f"{self.name} · {self.date}"

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        """Rounds over a node in scope, below it, or above it."""
        if scope.is_empty:
            return models.Q(pk__in=[])
        ancestors = {int(x) for p in scope.paths for x in p.strip("/").split("/") if x}
        return models.Q(area_id__in=ancestors) | scope.q("area")


class TestSite(models.Model):
    """A sampling site (采样点) of a round: where people queue to be sampled."""

    __test__ = False

    round = models.ForeignKey(TestRound, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["TestSite"].as_manager()

    class Meta:
        ordering = ["round_id", "id"]
        verbose_name = _("sampling site")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return models.Q(round__in=TestRound.objects.filter(TestRound.scope_q(scope)))


class TestRecord(ScopedModel):
    """One person's test in one round (test_record): sampled when and where, the result.

    One per person and round (a second sampling in the same round updates nothing). An
    ``external_id`` (the laboratory's sample number) is unique where given, so a result
    received twice — by file or API — is stored once.
    """

    __test__ = False

    round = models.ForeignKey(TestRound, on_delete=models.PROTECT, related_name="records")
    person = models.ForeignKey("register.Person", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        TestSite, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    sampled_at = models.DateTimeField(_("sampled at"))
    result = models.CharField(
        _("test result"), max_length=8, choices=TestResult.choices, default=TestResult.PENDING
    )
    result_at = models.DateTimeField(_("result at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=HealthSource.choices)
    external_id = models.CharField(_("sample number"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["TestRecord"].as_manager()

    class Meta:
        ordering = ["-sampled_at", "-id"]
        indexes = [models.Index(fields=["grid", "round", "result"])]
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="one_test_per_round"),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="unique_test_sample_number",
            ),
        ]
        verbose_name = _("test record")

    def __str__(self) -> str:
        return f"{self.person_id} · {self.round_id} · {self.result}"


class Vaccination(ScopedModel):
    """One vaccine dose a person received (vaccination). One row per person and dose number:
    dose 1 and 2 are the primary course, 3 and up boosters."""

    person = models.ForeignKey("register.Person", on_delete=models.PROTECT, related_name="+")
    dose = models.PositiveSmallIntegerField(_("dose"))
    product = models.CharField(_("vaccine"), max_length=64)
    vaccinated_on = models.DateField(_("vaccinated on"))
    site = models.CharField(_("vaccination site"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=HealthSource.choices)
    external_id = models.CharField(_("record number"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Vaccination"].as_manager()

    class Meta:
        ordering = ["person_id", "dose"]
        indexes = [models.Index(fields=["grid", "dose"])]
        constraints = [
            models.UniqueConstraint(fields=["person", "dose"], name="one_vaccination_per_dose")
        ]
        verbose_name = _("vaccination")

    def __str__(self) -> str:
        return f"{self.person_id} · {self.dose}"


class AlertStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")


class PositiveAlert(ScopedModel):
    """The alert a positive result raises, and the grid worker's task to act on it (reach the
    person, start a measure). One per test record."""

    record = models.OneToOneField(TestRecord, on_delete=models.CASCADE, related_name="alert")
    person = models.ForeignKey("register.Person", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=8, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    assigned_to = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quarantine = models.ForeignKey(
        "emergency.Quarantine", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["PositiveAlert"].as_manager()

    class Meta:
        ordering = ["status", "-created_at", "-id"]
        verbose_name = _("positive-result alert")


class ImportRunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for the background worker")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Import done")
    REFUSED = "refused", _("Refused: nothing imported")
    FAILED = "failed", _("Stopped")


class ImportRun(models.Model):
    """A results or vaccinations file imported in the background (a large file would outlast
    a web request): what was asked, how it ended, and the refused rows' workbook while it is
    kept. Only the worker who uploaded it sees it (the rows it imports are theirs to record);
    the uploaded copy is deleted when the run ends."""

    kind = models.CharField(_("kind"), max_length=16)
    round = models.ForeignKey(
        TestRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    stored_file = models.CharField(max_length=500, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportRunStatus.choices, default=ImportRunStatus.QUEUED
    )
    rows = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    # The first refused rows' numbers and reasons, for the page (the workbook has them all).
    refused_preview = models.JSONField(default=list, blank=True)
    problem = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("health import")

    def __str__(self) -> str:
        return self.file_name
