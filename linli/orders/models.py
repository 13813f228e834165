"""Work orders (工单): a resident's request, dispatched, taken, done, rated, closed.

Every order lives in a grid (``grid``) and is scoped through it; its ``level`` says whose board
it is on (grid → community → subdistrict → department, the escalation ladder). The allowed
transitions are one table in ``linli/orders/workflow.py``; every transition is a service in
``linli/orders/services.py`` and leaves an ``OrderEvent`` (the order's timeline).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.scoping import Scope, ScopedModel, ScopedQuerySet


class Level(models.TextChoices):
    """The rungs of the escalation ladder, lowest first."""

    GRID = "grid", _("Grid")
    COMMUNITY = "community", _("Community")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    DEPARTMENT = "department", _("Department")


LEVEL_ORDER = [lv.value for lv in Level]


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", pgettext_lazy("work order", "Accepted")
    RETURNED = "returned", _("Returned")
    DISPATCHED = "dispatched", _("Dispatched")
    OPENED = "opened", _("Open for volunteers")
    TAKEN = "taken", _("Taken")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done, awaiting rating")
    RATED = "rated", _("Rated")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")
    WHISTLED = "whistled", _("Whistled to a department")
    ANSWERED = "answered", _("Answered by the department")


class Source(models.TextChoices):
    PORTAL = "portal", _("Resident portal")
    WORKER = "worker", _("Worker on behalf of a resident")
    MEASURE = "measure", _("Screening or emergency measure")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311 client")


class Channel(models.TextChoices):
    """How a worker heard of a request they file on a resident's behalf."""

    PHONE = "phone", _("Phone call")
    WALK_IN = "walk_in", _("Walk-in")
    WECHAT = "wechat", _("WeChat group message")
    OTHER = "other", _("Other")


class FollowUp(models.TextChoices):
    NONE = "", _("Not asked")
    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Waiting for the resident")
    YES = "yes", _("Still fixed")
    NO = "no", _("Not fixed any more")


class OrderCategory(models.Model):
    """A kind of request (repair, care for the elderly …): its default level and time limits.

    The limits are hours per rung of the ladder: an order that stays longer than its limit at
    a rung is overdue and escalates to the next one.
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    default_level = models.CharField(
        _("default level"), max_length=16, choices=Level.choices, default=Level.GRID
    )
    grid_hours = models.PositiveIntegerField(_("time limit at the grid (hours)"), default=24)
    community_hours = models.PositiveIntegerField(
        _("time limit at the community (hours)"), default=48
    )
    subdistrict_hours = models.PositiveIntegerField(
        _("time limit at the subdistrict (hours)"), default=72
    )
    department_hours = models.PositiveIntegerField(
        _("time limit at a department (hours)"), default=120
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_key = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_key", "code"]
        verbose_name = _("order category")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        lang = get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name

    def hours_at(self, level: str) -> int:
        """The time limit at *level*, in hours."""
        return int(getattr(self, f"{level}_hours"))


class Department(ScopedModel):
    """A functional department (职能部门: police, health, urban management …) serving an area.

    Its people are users with the department role on a node (accounts/roles.py) listed as
    ``members``; a community whistles it (吹哨) and it answers (报到) in its own queue.
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="departments", verbose_name=_("area")
    )
    members = models.ManyToManyField(
        "accounts.User", blank=True, related_name="departments", verbose_name=_("members")
    )
    # The categories it takes when an order climbs past the subdistrict on its own.
    categories = models.ManyToManyField(
        OrderCategory, blank=True, related_name="departments", verbose_name=_("categories")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Department"].as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return scope.q("area")


class WorkOrder(ScopedModel):
    """A work order (工单). The contact phone is sealed like the register's phones."""

    number = models.CharField(_("order number"), max_length=20, unique=True, editable=False)
    category = models.ForeignKey(
        OrderCategory, on_delete=models.PROTECT, related_name="orders", verbose_name=_("category")
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    requester = models.ForeignKey(
        "register.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_orders",
        verbose_name=_("requester"),
    )
    # The resident's portal account, when they filed it themselves (their "my requests").
    requester_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_name = models.CharField(_("contact name"), max_length=64, blank=True)
    phone_sealed = models.BinaryField(null=True, editable=False)
    phone_bidx = models.CharField(max_length=32, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("contact phone"), max_length=16, blank=True, editable=False)
    grid = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("grid")
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.GRID)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    assignee = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_orders",
        verbose_name=_("assignee"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("department"),
    )
    # The rung that whistled the department: the order returns there when it answers.
    whistled_from = models.CharField(max_length=16, choices=Level.choices, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.PORTAL
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    rating_stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    rating_words = models.CharField(_("rating words"), max_length=300, blank=True)
    rating_fixed = models.BooleanField(_("fixed"), null=True, blank=True)
    followup = models.CharField(
        _("follow-up"), max_length=16, choices=FollowUp.choices, blank=True, default=""
    )
    followup_at = models.DateTimeField(null=True, blank=True, db_index=True)
    submitted_at = models.DateTimeField(_("submitted"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    whistled_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A key the form or client sends once per request, so a retry returns the same order.
    client_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["WorkOrder"].as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["status", "due_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "client_key"],
                condition=~models.Q(client_key=""),
                name="unique_order_client_key",
            )
        ]
        verbose_name = _("work order")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class OrderEvent(ScopedModel):
    """One step of an order's timeline (from → to, who, what they noted). Never edited."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16)
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    from_level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    to_level = models.CharField(max_length=16, choices=Level.choices)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    minutes_spent = models.PositiveIntegerField(_("minutes spent"), null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["OrderEvent"].as_manager()
    scope_lookup = "order__grid"

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.action}"

    @property
    def label(self) -> str:
        """What the timeline shows: the new state, or the step itself when the state stays."""
        if self.from_status != self.to_status:
            return str(self.get_to_status_display())
        return str(STEP_LABELS.get(self.action, self.action))


# Timeline headings of steps that leave the state as it was.
STEP_LABELS = {
    "escalate": _("Escalated a level"),
    "followup": _("Follow-up question asked"),
}


class OrderAttachment(ScopedModel):
    """A photo attached to an order (by the requester or as the trace of the work).

    Stored re-encoded (no EXIF, no trailing bytes) under LINLI_VAR_DIR, served only through a
    view that checks the order's scope.
    """

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        OrderEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    path = models.CharField(max_length=200, editable=False)
    content_type = models.CharField(max_length=32, default="image/jpeg")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["OrderAttachment"].as_manager()
    scope_lookup = "order__grid"

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.path
