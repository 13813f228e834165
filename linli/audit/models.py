"""The append-only audit log: every reveal, change, export and login."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import Scope, ScopedQuerySet


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGOUT = "logout", _("Signed out")
    REVEAL = "reveal", _("Revealed personal data")
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    DELETE = "delete", _("Deleted")
    EVENT = "event", _("Register event")
    EXPORT = "export", _("Exported")
    GRANT = "grant", _("Granted a role")
    REVOKE = "revoke", _("Revoked a role")
    TOKEN = "token", _("Issued an API token")
    REVIEW = "review", _("Reviewed a correction")
    PROPOSE = "propose", _("Proposed a correction")
    REFUSED = "refused", _("Refused")
    SEARCH = "search", _("Searched by full ID or phone")


class AuditQuerySet(ScopedQuerySet["AuditEntry"]):
    pass


class AuditEntry(models.Model):
    """One audited act. Rows are never updated or deleted (database triggers refuse it).

    ``entry_hash`` chains each row to the previous one (SHA-256 over the previous hash and the
    row's canonical content), so a later verifier can prove that nothing was altered or removed.
    The chain's order is ``seq``. On PostgreSQL an entry is written pending (``seq`` empty) and
    chained right after its transaction commits by the sequencer (``audit_chain_pending``,
    decision 0043); the triggers allow that one update of the chain columns and nothing else.
    """

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=32, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    area = models.ForeignKey(
        "areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(_("from"), null=True, blank=True)
    channel = models.CharField(max_length=16, default="web")  # web, api, portal, cli
    user_agent = models.CharField(max_length=200, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, blank=True)
    # Position in the hash chain; empty while the entry waits for the sequencer.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The sequencer's work list: only pending entries are in it, so it stays tiny.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_pending"),
        ]
        verbose_name = _("audit entry")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_label}"

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return scope.q("area")

    def canonical(self) -> bytes:
        """The content the hash chain covers, in a stable serialisation."""
        payload: dict[str, Any] = {
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "area": self.area_id,
            "field": self.field,
            "reason": self.reason,
            "changes": self.changes,
            "ip": self.ip,
            "channel": self.channel,
            "user_agent": self.user_agent,
        }
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.prev_hash.encode() + self.canonical()).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit entries are append-only")
