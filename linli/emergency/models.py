"""Emergency mode (平疫结合): events, risk areas, arrivals, quarantine, check-ins, follow-up tasks
and release certificates.

An ``EmergencyEvent`` covers nodes of the jurisdiction tree and turns measures on there. Every
row below it carries the grid it belongs to (``grid``), so the scoping layer restricts it with the
same indexed filter as the register. Quarantine is a state machine (``TRANSITIONS`` in
``services.py``) whose every step is a ``QuarantineEvent`` (its timeline).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import Scope, ScopedModel, ScopedQuerySet


class Measure(models.TextChoices):
    """What an event turns on where it applies."""

    ARRIVALS = "arrivals", _("Arrival registration")
    QUARANTINE = "quarantine", _("Quarantine and health monitoring")
    CHECKINS = "checkins", _("Daily health check-ins")
    SCREENING = "screening", _("Screening campaigns")
    TESTS = "tests", _("Tests and vaccinations")
    HEALTH_CODE = "health_code", _("Health code checks")
    PASSES = "passes", _("Passes and checkpoints")
    SUPPLIES = "supplies", _("Supplies for closed households")


class EventKind(models.TextChoices):
    EPIDEMIC = "epidemic", _("Epidemic")
    DISASTER = "disaster", _("Natural disaster")
    ACCIDENT = "accident", _("Accident")
    OTHER = "other", _("Other emergency")


class EventStatus(models.TextChoices):
    ACTIVE = "active", _("Under way")
    ENDED = "ended", _("Ended")


class QuarantineKind(models.TextChoices):
    HOME = "home", _("Home quarantine")
    CENTRALISED = "centralised", _("Centralised quarantine")
    HOME_MONITORING = "home_monitoring", _("Home health monitoring")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


DEFAULT_RULE_DAYS: dict[str, int] = {
    QuarantineKind.HOME: 14,
    QuarantineKind.CENTRALISED: 14,
    QuarantineKind.HOME_MONITORING: 7,
}
# Which measure an arrival from a risk area of each level starts ("" for none).
DEFAULT_RISK_RULES: dict[str, str] = {
    RiskLevel.HIGH: QuarantineKind.HOME,
    RiskLevel.MEDIUM: QuarantineKind.HOME_MONITORING,
    RiskLevel.LOW: "",
}


class EventQuerySet(ScopedQuerySet["EmergencyEvent"]):
    def active(self) -> EventQuerySet:
        return self.filter(status=EventStatus.ACTIVE)

    def covering(self, area: Any) -> EventQuerySet:
        """Events that cover *area* itself or one of its ancestors."""
        ids = [int(x) for x in area.path.strip("/").split("/") if x]
        return self.filter(
            pk__in=EmergencyEvent.areas.through.objects.filter(area_id__in=ids).values(
                "emergencyevent_id"
            )
        )


class EmergencyEvent(models.Model):
    """An emergency (突发事件) or a drill, declared over nodes of the tree, turning measures on.

    ``area`` is the node that declared it (whose heads may change or end it); ``areas`` are the
    nodes it covers. A jurisdiction is in emergency mode while an active event covers it or one
    of its ancestors. Ending an event closes its measures and keeps every record.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    level = models.PositiveSmallIntegerField(
        _("response level"), default=4, help_text=_("1 (most severe) to 4")
    )
    is_drill = models.BooleanField(_("drill"), default=False)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("declared by")
    )
    areas = models.ManyToManyField("areas.Area", related_name="emergency_events")
    measures = models.JSONField(_("measures"), default=list)
    rule_days = models.JSONField(_("days per measure"), default=dict)
    risk_rules = models.JSONField(_("measure per risk level"), default=dict)
    checkin_deadline_hour = models.PositiveSmallIntegerField(
        _("check-in deadline hour"), default=10
    )
    status = models.CharField(
        _("status"), max_length=8, choices=EventStatus.choices, default=EventStatus.ACTIVE
    )
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"), null=True, blank=True)
    declared_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("emergency event")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        """Visible where it covers a node in scope, below it, or above it (a grid worker sees
        the event covering their community)."""
        if scope.is_empty:
            return models.Q(pk__in=[])
        ancestors = {int(x) for p in scope.paths for x in p.strip("/").split("/") if x}
        through = cls.areas.through.objects.filter(
            models.Q(area_id__in=ancestors) | scope.q("area")
        )
        return models.Q(pk__in=through.values("emergencyevent_id"))

    def has(self, measure: str) -> bool:
        return self.status == EventStatus.ACTIVE and measure in (self.measures or [])

    def days_for(self, kind: str) -> int:
        return int((self.rule_days or {}).get(kind, DEFAULT_RULE_DAYS.get(kind, 14)))

    def measure_for(self, level: str) -> str:
        return str((self.risk_rules or {}).get(level, DEFAULT_RISK_RULES.get(level, "")))


class RiskArea(models.Model):
    """A place arrivals from which start a measure (风险地区), kept per event, with its dates."""

    event = models.ForeignKey(EmergencyEvent, on_delete=models.CASCADE, related_name="risk_areas")
    name = models.CharField(_("name"), max_length=100)
    region_code = models.CharField(_("region code"), max_length=12, blank=True)
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    from_date = models.DateField(_("from"))
    to_date = models.DateField(_("until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["RiskArea"].as_manager()

    class Meta:
        ordering = ["event_id", "level", "name"]
        verbose_name = _("risk area")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_level_display()})"

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return models.Q(event__in=EmergencyEvent.objects.filter(EmergencyEvent.scope_q(scope)))

    def applies_on(self, day: dt.date) -> bool:
        return self.from_date <= day and (self.to_date is None or day <= self.to_date)


class TravelMode(models.TextChoices):
    TRAIN = "train", _("Train")
    PLANE = "plane", _("Plane")
    CAR = "car", _("Car")
    BUS = "bus", _("Coach")
    SHIP = "ship", _("Ship")
    OTHER = "other", _("Other")


class ArrivalSource(models.TextChoices):
    WORKER = "worker", _("Registered by a worker")
    SELF = "self", _("Registered by the person")


class ArrivalDecision(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    QUARANTINE = "quarantine", _("Measure started")
    NO_MEASURE = "no_measure", _("No measure needed")


class Arrival(ScopedModel):
    """An arrival registration (返乡/来访人员登记): who came, from where, when, staying where.

    ``person`` is the register entry when one matched (by national ID, else by phone); for
    someone not yet registered the sealed ID/phone and name are kept here. Nothing drops out:
    an arrival stays ``pending`` until a measure starts or a worker decides none is needed.
    """

    event = models.ForeignKey(EmergencyEvent, on_delete=models.PROTECT, related_name="arrivals")
    person = models.ForeignKey(
        "register.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=64)
    id_sealed = models.BinaryField(null=True, editable=False)
    id_bidx = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    id_masked = models.CharField(_("national ID"), max_length=18, blank=True, editable=False)
    phone_sealed = models.BinaryField(null=True, editable=False)
    phone_bidx = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    risk_area = models.ForeignKey(
        RiskArea, null=True, blank=True, on_delete=models.SET_NULL, related_name="arrivals"
    )
    from_text = models.CharField(_("coming from"), max_length=100, blank=True)
    arrived_on = models.DateField(_("arrived on"))
    travel_mode = models.CharField(_("travel mode"), max_length=8, choices=TravelMode.choices)
    dwelling = models.ForeignKey(
        "register.Dwelling", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(_("staying at"), max_length=200, blank=True)
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=8, choices=ArrivalSource.choices)
    registered_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(
        _("decision"),
        max_length=12,
        choices=ArrivalDecision.choices,
        default=ArrivalDecision.PENDING,
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Arrival"].as_manager()

    class Meta:
        ordering = ["-arrived_on", "-id"]
        indexes = [models.Index(fields=["grid", "event", "decision"])]
        verbose_name = _("arrival")

    def __str__(self) -> str:
        return f"{self.name} · {self.arrived_on}"

    @property
    def coming_from(self) -> str:
        return self.risk_area.name if self.risk_area_id and self.risk_area else self.from_text


class QuarantineStatus(models.TextChoices):
    ACTIVE = "active", _("Under quarantine")
    RELEASED = "released", _("Released")
    TRANSFERRED = "transferred", _("Transferred")
    CLOSED = "closed", _("Closed with the event")


class Quarantine(ScopedModel):
    """A person under home quarantine, centralised quarantine or home health monitoring.

    Days run from ``starts_on`` to the day before ``planned_end`` (the release day), one
    check-in each day. The person is a register entry or, for someone not yet registered, the
    arrival's sealed phone and name copied here so reminders and check-ins reach them.
    """

    event = models.ForeignKey(EmergencyEvent, on_delete=models.PROTECT, related_name="quarantines")
    arrival = models.ForeignKey(
        Arrival, null=True, blank=True, on_delete=models.PROTECT, related_name="quarantines"
    )
    person = models.ForeignKey(
        "register.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=64)
    phone_sealed = models.BinaryField(null=True, editable=False)
    phone_bidx = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=QuarantineKind.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    starts_on = models.DateField(_("start"))
    planned_end = models.DateField(_("planned end"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=QuarantineStatus.choices,
        default=QuarantineStatus.ACTIVE,
    )
    responsible = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("responsible"),
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Quarantine"].as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["grid", "status"])]
        verbose_name = _("quarantine")

    def __str__(self) -> str:
        return f"{self.name} · {self.get_kind_display()}"

    def required_days(self, today: dt.date) -> list[dt.date]:
        """The days that need a check-in, up to *today* (inclusive) and before the end."""
        last = min(today, self.planned_end - dt.timedelta(days=1))
        n = (last - self.starts_on).days + 1
        return [self.starts_on + dt.timedelta(days=i) for i in range(max(n, 0))]


class QuarantineEventKind(models.TextChoices):
    STARTED = "started", _("Started")
    EXTENDED = "extended", _("Extended")
    CHECKED_IN = "checked_in", _("Checked in")
    ALERT = "alert", _("Health alert")
    REMINDED = "reminded", _("Reminder sent")
    TASK = "task", _("Task for the grid worker")
    RELEASED = "released", _("Released")
    TRANSFERRED = "transferred", _("Transferred")
    CLOSED = "closed", _("Closed with the event")


class QuarantineEvent(ScopedModel):
    """One entry of a quarantine's timeline. Never edited."""

    quarantine = models.ForeignKey(Quarantine, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=16, choices=QuarantineEventKind.choices)
    at = models.DateTimeField(_("at"))
    summary = models.CharField(_("summary"), max_length=300)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["QuarantineEvent"].as_manager()

    class Meta:
        ordering = ["-at", "-id"]


class Symptom(models.TextChoices):
    COUGH = "cough", _("Cough")
    SORE_THROAT = "sore_throat", _("Sore throat")
    FATIGUE = "fatigue", _("Fatigue")
    BREATHLESS = "breathless", _("Short of breath")
    DIARRHOEA = "diarrhoea", _("Diarrhoea")
    LOSS_OF_SMELL = "loss_of_smell", _("Loss of smell or taste")


FEVER_FROM = 37.3


class CheckIn(ScopedModel):
    """A daily health check-in (健康打卡): temperature and symptoms, by the person or a worker."""

    quarantine = models.ForeignKey(Quarantine, on_delete=models.CASCADE, related_name="check_ins")
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("at"))
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    by_self = models.BooleanField(_("by the person"), default=False)
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["CheckIn"].as_manager()

    class Meta:
        ordering = ["-day", "-at"]
        indexes = [models.Index(fields=["quarantine", "day"]), models.Index(fields=["grid", "day"])]
        verbose_name = _("check-in")

    @property
    def symptom_labels(self) -> list[str]:
        return [str(Symptom(s).label) for s in self.symptoms if s in Symptom.values]

    @property
    def is_alert(self) -> bool:
        return float(self.temperature) >= FEVER_FROM or bool(self.symptoms)


class Reminder(ScopedModel):
    """An SMS reminder for a missed check-in; one per quarantine and day (idempotent)."""

    quarantine = models.ForeignKey(Quarantine, on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField()
    sent_at = models.DateTimeField()
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["Reminder"].as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["quarantine", "day"], name="unique_reminder_per_day")
        ]


class TaskKind(models.TextChoices):
    MISSED_CHECKIN = "missed", _("Missed check-in")
    HEALTH_ALERT = "alert", _("Fever or symptom")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")


class FollowUpTask(ScopedModel):
    """Work for the grid worker: reach a person who missed a check-in, or who reported a fever
    or symptom (an alert). One per quarantine, day and kind for missed check-ins."""

    quarantine = models.ForeignKey(Quarantine, on_delete=models.CASCADE, related_name="tasks")
    check_in = models.ForeignKey(
        CheckIn, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=TaskKind.choices)
    day = models.DateField(_("day"))
    summary = models.CharField(_("summary"), max_length=200)
    status = models.CharField(
        _("status"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    assigned_to = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["FollowUpTask"].as_manager()

    class Meta:
        ordering = ["status", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarantine", "day"],
                condition=models.Q(kind="missed"),
                name="unique_missed_task_per_day",
            )
        ]
        verbose_name = _("follow-up task")


class ReleaseCertificate(ScopedModel):
    """A release certificate (解除隔离告知书): its number, the signed payload its QR carries,
    and whether it was revoked (checked online at /verify/<number>/)."""

    quarantine = models.OneToOneField(
        Quarantine, on_delete=models.PROTECT, related_name="certificate"
    )
    number = models.CharField(max_length=16, unique=True)
    payload = models.TextField()
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ReleaseCertificate"].as_manager()

    def __str__(self) -> str:
        return self.number
