"""The jurisdiction tree: city › district › subdistrict › community › grid."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.core.scoping import Scope, ScopedQuerySet


class AreaKind(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


KIND_ORDER = [k.value for k in AreaKind]


class AreaQuerySet(ScopedQuerySet["Area"]):
    def subtree_ids(self, paths: list[str]) -> AreaQuerySet:
        """Ids of every node at or below the given materialised paths."""
        q = models.Q()
        for p in paths:
            q |= models.Q(path__startswith=p)
        return self.filter(q) if paths else self.none()


class Area(models.Model):
    """A node of the jurisdiction tree.

    `path` is the materialised path of ids ("/1/4/17/") so a subtree is one indexed prefix
    query; it is set on save and never edited by hand.
    """

    kind = models.CharField(pgettext_lazy("area", "kind"), max_length=16, choices=AreaKind.choices)
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AreaQuerySet.as_manager()

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return scope.q("id")

    class Meta:
        ordering = ["path"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if self.parent_id is not None:
            parent = self.parent
            assert parent is not None
            if KIND_ORDER.index(self.kind) <= KIND_ORDER.index(parent.kind):
                raise ValueError(f"a {self.kind} cannot sit under a {parent.kind}")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        prefix = self.parent.path if self.parent_id and self.parent else "/"
        path = f"{prefix}{self.pk}/"
        if path != self.path:
            self.path = path
            self.depth = path.count("/") - 2
            Area.objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)

    def ancestors(self) -> list[Area]:
        """Nodes from the root down to this node's parent."""
        ids = [int(x) for x in self.path.strip("/").split("/")[:-1]]
        by_id = {a.pk: a for a in Area.objects.filter(pk__in=ids)}
        return [by_id[i] for i in ids if i in by_id]

    def is_within(self, other: Area) -> bool:
        """True when this node is *other* or below it."""
        return self.path.startswith(other.path)
