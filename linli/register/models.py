"""The register (一社一户一册): estates, buildings, entrances, dwellings, households, persons.

Every row that holds personal data carries the grid it lives in (``grid``), kept in step by the
services, so the scoping layer can restrict any query with one indexed filter. History is never
overwritten: moves, deaths and changes are ``RegisterEvent`` rows and ``Membership`` spans.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core import crypto
from linli.core.scoping import Scope, ScopedModel, ScopedQuerySet


class Estate(ScopedModel):
    """A residential compound (小区) in a community; its buildings belong to grids."""

    community = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="estates", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Estate"].as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("estate")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        # Visible to holders of the community and to grid workers with a building in it.
        return scope.q("community") | models.Q(
            pk__in=Building.objects.filter(scope.q("grid")).values("estate_id")
        )


class Building(ScopedModel):
    """A building (楼栋) of an estate; it lies in exactly one grid."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="buildings")
    grid = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="buildings", verbose_name=_("grid")
    )
    name = models.CharField(_("name"), max_length=50)
    floors = models.PositiveSmallIntegerField(_("floors"), default=6)
    sort_key = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Building"].as_manager()

    class Meta:
        ordering = ["estate_id", "sort_key", "name"]
        verbose_name = _("building")

    def __str__(self) -> str:
        return f"{self.estate.name} {self.name}"


class Entrance(ScopedModel):
    """An entrance / stairwell (单元) of a building."""

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="entrances")
    name = models.CharField(_("name"), max_length=50)
    sort_key = models.PositiveIntegerField(default=0)

    objects = ScopedQuerySet["Entrance"].as_manager()
    scope_lookup = "building__grid"

    class Meta:
        ordering = ["building_id", "sort_key", "name"]
        verbose_name = _("entrance")

    def __str__(self) -> str:
        return self.name


class DwellingUse(models.TextChoices):
    OWNER_OCCUPIED = "owner", _("Owner-occupied")
    RENTED = "rented", _("Rented")
    VACANT = "vacant", _("Vacant")
    OTHER = "other", _("Other use")


class Dwelling(ScopedModel):
    """A dwelling (房屋): a flat or room people can live in."""

    # No index of its own: unique_dwelling_number starts with building_id (decision 0047).
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="dwellings", db_index=False
    )
    entrance = models.ForeignKey(
        Entrance, null=True, blank=True, on_delete=models.PROTECT, related_name="dwellings"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="dwellings")
    floor = models.SmallIntegerField(_("floor"))
    number = models.CharField(_("number"), max_length=20)
    use = models.CharField(
        _("use"), max_length=16, choices=DwellingUse.choices, default=DwellingUse.OWNER_OCCUPIED
    )
    floor_area = models.DecimalField(
        _("floor area (m²)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    # Indexed in Meta.indexes: the plain index only (no varchar_pattern_ops copy; decision 0047).
    address = models.CharField(_("address"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Dwelling"].as_manager()

    class Meta:
        ordering = ["building_id", "entrance_id", "floor", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "entrance", "number"], name="unique_dwelling_number"
            )
        ]
        indexes = [
            # ORDER BY address LIMIT 20 of the address pickers (workbench households/persons).
            models.Index(fields=["address"], name="register_dwelling_address"),
        ]
        verbose_name = _("dwelling")

    def __str__(self) -> str:
        return self.address


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", _("Living here")
    DISSOLVED = "dissolved", _("Dissolved")


class Household(ScopedModel):
    """A household (户): people living together in a dwelling, with one householder."""

    dwelling = models.ForeignKey(
        Dwelling, null=True, blank=True, on_delete=models.PROTECT, related_name="households"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="households")
    householder = models.ForeignKey(
        "Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Household"].as_manager()

    class Meta:
        verbose_name = _("household")

    def __str__(self) -> str:
        return f"{self.dwelling.address if self.dwelling else '—'}"


class Residency(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    LONG_TERM = "long_term", _("Long-term resident")
    FLOATING = "floating", _("Floating")
    TENANT = "tenant", _("Tenant")


class PersonStatus(models.TextChoices):
    LIVING = "living", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")
    # Folded into another record by linli.linkage (merged_into says which); undo restores it.
    MERGED = "merged", _("Merged into another record")


class Relation(models.TextChoices):
    SELF = "self", _("Householder")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    CHILD_IN_LAW = "child_in_law", _("Son/daughter-in-law")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", _("Other")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Person(ScopedModel):
    """A person actually living in the community (实有人口).

    National ID and phone are sealed (AES-GCM) and found through keyed blind indexes; the masked
    form and the last four characters (which the mask shows anyway) are kept for display and
    search. ``provenance`` maps each field to where it came from and when it was last confirmed.
    """

    name = models.CharField(_("name"), max_length=64)
    # The indexes of these text columns are declared in Meta.indexes: plain btrees only.
    # `db_index=True` would add a varchar_pattern_ops copy of each on PostgreSQL, which only
    # LIKE 'x%' uses, and no query does (prefixes are ranges; tails use = or LIKE '%x').
    # Decision 0047 lists every index of the table and the query it serves.
    name_pinyin = models.CharField(max_length=128, editable=False)
    name_initials = models.CharField(max_length=32, editable=False)
    id_sealed = models.BinaryField(null=True, editable=False)
    # Unique through Meta.constraints (`unique=True` would add a pattern_ops copy too); NULL
    # for people without an ID, so that many of them can be registered.
    id_bidx = models.CharField(  # noqa: DJ001
        max_length=32, null=True, blank=True, editable=False
    )
    id_masked = models.CharField(_("national ID"), max_length=18, blank=True, editable=False)
    id_tail = models.CharField(max_length=4, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    phone_sealed = models.BinaryField(null=True, editable=False)
    phone_bidx = models.CharField(max_length=32, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    phone_tail = models.CharField(max_length=4, blank=True, editable=False)
    residency = models.CharField(
        _("residency"), max_length=16, choices=Residency.choices, default=Residency.REGISTERED
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PersonStatus.choices, default=PersonStatus.LIVING
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    relation = models.CharField(
        _("relation to householder"), max_length=16, choices=Relation.choices, blank=True
    )
    # No index of its own: (grid, status) starts with it (decision 0047).
    grid = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="persons", db_index=False
    )
    notes = models.TextField(_("notes"), blank=True)
    # Addresses as the person's papers or a received ledger write them (户籍地址, 现居住地址):
    # free text, not a place in the register (the dwelling is the household's). Personal data
    # but not sealed: see decision 0040.
    hukou_address = models.CharField(_("hukou address"), max_length=200, blank=True)
    current_address = models.CharField(_("current address as written"), max_length=200, blank=True)
    provenance = models.JSONField(default=dict, blank=True, editable=False)
    # Set when linli.linkage merged this record into another (status "merged"); kept, not
    # deleted, so the merge can be undone exactly.
    # Indexed only where set (Meta.indexes): nearly every row has none.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    tags: models.ManyToManyField[Tag, PersonTag] = models.ManyToManyField(
        "Tag", through="PersonTag", related_name="persons"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Person"].as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["name"]),
            models.Index(fields=["name_pinyin"], name="register_person_pinyin"),
            models.Index(fields=["name_initials"], name="register_person_initials"),
            models.Index(fields=["id_tail"], name="register_person_id_tail"),
            models.Index(fields=["phone_bidx"], name="register_person_phone_bidx"),
            models.Index(fields=["phone_tail"], name="register_person_phone_tail"),
            models.Index(
                fields=["merged_into"],
                condition=models.Q(merged_into__isnull=False),
                name="register_person_merged_into",
            ),
            # Covers the exact-ID lookup of a received list (linkage._register_ids): the join
            # on id_bidx reads status and grid from the index alone (decision 0041). Kept
            # beside the unique index (0047): SQLite has no INCLUDE columns for a unique index.
            models.Index(fields=["id_bidx", "status", "grid"], name="register_person_bidx_cover"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_bidx"], name="register_person_id_bidx_unique"),
        ]
        verbose_name = _("person")

    def __str__(self) -> str:
        return self.name

    def reveal_national_id(self) -> str:
        """Decrypt the national ID. Call only from register.services.person_reveal (audited)."""
        return crypto.unseal(self.id_sealed) if self.id_sealed else ""

    def reveal_phone(self) -> str:
        """Decrypt the phone. Call only from register.services.person_reveal (audited)."""
        return crypto.unseal(self.phone_sealed) if self.phone_sealed else ""

    @property
    def age(self) -> int | None:
        import datetime as dt

        if not self.birth_date:
            return None
        today = dt.date.today()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class Membership(ScopedModel):
    """A span of a person's membership in a household: from when, until when, as what."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    relation = models.CharField(max_length=16, choices=Relation.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    objects = ScopedQuerySet["Membership"].as_manager()
    scope_lookup = "household__grid"

    class Meta:
        ordering = ["started_on", "id"]


class Tag(models.Model):
    """A group that services target (elderly living alone, disabled, …); the set is configurable."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#6c757d")
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_key = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_key", "code"]
        verbose_name = _("tag")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        lang = get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class PersonTag(models.Model):
    """A person carries a tag, since when and on whose word."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="person_tags")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="person_tags")
    source = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="unique_person_tag")]
        indexes = [models.Index(fields=["tag", "person"])]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.tag_id}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Registered")
    MOVE_IN = "move_in", _("Moved in")
    MOVE_OUT = "move_out", _("Moved out")
    MOVE_HOUSE = "move_house", _("Moved house")
    DEATH = "death", _("Died")
    CHANGE = "change", _("Details changed")
    TAGGED = "tagged", _("Tag added")
    UNTAGGED = "untagged", _("Tag removed")
    CONFIRMED = "confirmed", _("Details confirmed")
    CORRECTION = "correction", _("Correction from resident")
    MERGED = "merged", _("Records merged")
    UNMERGED = "unmerged", _("Merge undone")


class RegisterEvent(ScopedModel):
    """One entry of the timeline of a person, household or dwelling. Never edited."""

    kind = models.CharField(_("event"), max_length=16, choices=EventKind.choices)
    occurred_on = models.DateField(_("date"))
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    dwelling = models.ForeignKey(
        Dwelling, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(_("summary"), max_length=300)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["RegisterEvent"].as_manager()

    class Meta:
        ordering = ["-occurred_on", "-id"]


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class CorrectionProposal(ScopedModel):
    """A resident's proposed correction to their household, reviewed by a worker."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="corrections")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="corrections"
    )
    proposed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    # Proposed values; a proposed phone appears here masked, its full value sealed below.
    changes: Any = models.JSONField(_("changes"), default=dict)
    phone_sealed = models.BinaryField(null=True, editable=False)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        max_length=16, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["CorrectionProposal"].as_manager()
    scope_lookup = "household__grid"

    class Meta:
        ordering = ["-created_at"]
