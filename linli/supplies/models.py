"""Supplies (物资): shopping lists of closed households and the community's emergency stock.

A household under an active quarantine posts a shopping list (``SupplyRequest`` with its
``SupplyItem`` rows); the list *is* a work order of the "物资代购" category (``order``), so the
order machine of ``linli.orders`` carries it: open for the grid's volunteers, taken, bought
(started), delivered (finished), and the household's receipt rates it.

The community's stock of emergency supplies is ``StockItem`` (one store: a community or a
grid) and ``StockMovement``, an append-only ledger: receipts in, issues out, adjustments after
a count and reversals. The quantity on hand only changes together with a movement, under a
row lock, and never goes below zero.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedModel, ScopedQuerySet

# The work-order category a shopping list is filed in (seeded by migration 0002).
SUPPLY_CATEGORY = "supplies"


class SupplyRequest(ScopedModel):
    """A closed household's shopping list (代购清单), carried by a work order.

    ``received_at`` is the household's confirmation that the goods arrived; the order keeps
    who took it, when it was bought and delivered.
    """

    quarantine = models.ForeignKey(
        "emergency.Quarantine", on_delete=models.PROTECT, related_name="supply_requests"
    )
    order = models.OneToOneField(
        "orders.WorkOrder", on_delete=models.PROTECT, related_name="supply_request"
    )
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    delivery_note = models.CharField(_("where to leave it"), max_length=200, blank=True)
    payment_note = models.CharField(_("budget and payment"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_note = models.CharField(_("receipt note"), max_length=300, blank=True)
    # A key the form sends once per list, so a double tap or a retry files one list.
    client_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["SupplyRequest"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarantine", "client_key"],
                condition=~models.Q(client_key=""),
                name="unique_supply_request_key",
            )
        ]
        verbose_name = _("supply request")

    def __str__(self) -> str:
        return f"{self.order_id}"


class SupplyItem(ScopedModel):
    """One line of a shopping list: what, how many, in which unit."""

    request = models.ForeignKey(SupplyRequest, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("item"), max_length=60)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit = models.CharField(_("unit"), max_length=10, blank=True)

    objects = ScopedQuerySet["SupplyItem"].as_manager()
    scope_lookup = "request__grid"

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} {self.quantity}{self.unit}"


class StockItem(ScopedModel):
    """One kind of emergency supply in one store (a community's or a grid's).

    ``quantity`` is the balance of the item's movements, kept on the row so the list page
    reads it at once; it changes only with a movement, under a row lock.
    """

    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    name = models.CharField(_("name"), max_length=60)
    unit = models.CharField(_("unit"), max_length=10)
    quantity = models.PositiveIntegerField(_("on hand"), default=0)
    low_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["StockItem"].as_manager()
    scope_lookup = "area"

    class Meta:
        ordering = ["area__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="unique_stock_item_name"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="stock_quantity_not_negative"
            ),
        ]
        verbose_name = _("stock item")

    def __str__(self) -> str:
        return f"{self.name} ({self.quantity}{self.unit})"

    @property
    def is_low(self) -> bool:
        return self.quantity <= self.low_threshold


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Received in")
    ISSUE = "issue", _("Issued out")
    ADJUSTMENT = "adjustment", _("Adjusted after a count")
    REVERSAL = "reversal", _("Reversal")


class RecipientKind(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    PERSON = "person", _("Person")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    VOLUNTEER = "volunteer", _("Volunteer")
    OTHER = "other", _("Other")


class StockMovement(ScopedModel):
    """One change of a stock item's quantity. Never edited, never deleted: a mistake is
    corrected by a reversal (``reverses``), a count by an adjustment."""

    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=12, choices=MovementKind.choices)
    # Signed: + in, − out.
    delta = models.IntegerField(_("change"))
    balance_after = models.PositiveIntegerField(_("balance after"))
    recipient_kind = models.CharField(
        _("issued to"), max_length=12, choices=RecipientKind.choices, blank=True
    )
    recipient = models.CharField(_("recipient"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A key the form sends once, so a double tap issues once.
    client_key = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["StockMovement"].as_manager()
    scope_lookup = "item__area"

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "client_key"],
                condition=~models.Q(client_key=""),
                name="unique_stock_movement_key",
            )
        ]
        verbose_name = _("stock movement")

    def __str__(self) -> str:
        return f"{self.item_id}:{self.kind}:{self.delta}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: a movement once written is history; corrections are new movements.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Stock movements are append-only.")
        super().save(*args, **kwargs)
