"""Users, their role bindings on the jurisdiction tree, API tokens and one-time codes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Role
from linli.core.scoping import Scope, ScopedQuerySet


class User(AbstractUser):
    """A person who signs in: staff bound to nodes, or a resident linked to their register entry."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    # Residents sign in with phone + code; their account points at their register entry.
    person = models.OneToOneField(
        "register.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return self.display_name or self.username


class UserQuerySet(ScopedQuerySet["RoleBinding"]):
    pass


class RoleBinding(models.Model):
    """A user holds a role on a node of the tree, covering the node and everything below it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_bindings")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="bindings")
    is_active = models.BooleanField(default=True)
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "area"], name="unique_role_binding")
        ]
        verbose_name = _("role binding")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.area}"

    @classmethod
    def scope_q(cls, scope: Scope) -> models.Q:
        return scope.q("area")


class ApiToken(models.Model):
    """A bearer token for an integration; only its keyed digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(max_length=12, help_text="first characters, to recognise a token")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class OtpChallenge(models.Model):
    """A one-time sign-in code sent by SMS; stored as a keyed digest, limited in time and tries."""

    phone_bidx = models.CharField(max_length=32, db_index=True)
    code_digest = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"otp {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"
