"""Writes for accounts: users, role bindings, API tokens, sign-in by one-time SMS code."""

from __future__ import annotations

import functools
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import ApiToken, OtpChallenge, RoleBinding, User
from linli.accounts.roles import ROLE_PERMS, ROLE_RANK, Perm, Role
from linli.areas.models import Area
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core import crypto
from linli.core.identity import mask_phone, normalise_phone
from linli.core.scoping import forget_scope, prime_bindings, scope_for


def highest_rank_over(user: Any, area: Area) -> int:
    """The highest rank among the user's active bindings that cover *area* and allow managing
    users (the same rule the workbench's role choices follow)."""
    ranks = [
        ROLE_RANK.get(role, 0)
        for role, path in user.role_bindings.filter(is_active=True).values_list(
            "role", "area__path"
        )
        if area.path.startswith(path) and Perm.MANAGE_USERS in ROLE_PERMS.get(role, frozenset())
    ]
    return max(ranks, default=-1)


def _check_may_grant(actor: Any, role: str, area: Area) -> None:
    if actor is None:
        return
    if not scope_for(actor, Perm.MANAGE_USERS).covers(area):
        raise PermissionDenied(_("You may grant roles only within your own jurisdiction."))
    if ROLE_RANK.get(role, 99) > highest_rank_over(actor, area):
        raise PermissionDenied(_("You may not grant a role above your own."))


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str | None,
    role: str,
    area: Area,
    display_name: str = "",
) -> tuple[User, str | None]:
    """Create a staff user bound to *area*. Returns (user, generated password or None)."""
    if role not in Role.values or role == Role.RESIDENT:
        raise ValidationError({"role": _("Choose a staff role.")})
    _check_may_grant(actor, role, area)
    username = username.strip()
    if not username:
        raise ValidationError({"username": _("Enter a user name.")})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("This user name is taken.")})
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    user = User(username=username, display_name=display_name.strip())
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=user, area=area)
    binding_grant(actor=actor, user=user, role=role, area=area)
    return user, generated


@transaction.atomic
def binding_grant(*, actor: Any, user: User, role: str, area: Area) -> RoleBinding:
    """Bind *user* to *area* with *role* (reactivating an earlier binding)."""
    if role not in Role.values or role == Role.RESIDENT:
        raise ValidationError({"role": _("Choose a staff role.")})
    _check_may_grant(actor, role, area)
    binding, created = RoleBinding.objects.get_or_create(
        user=user,
        role=role,
        area=area,
        defaults={"granted_by": actor if getattr(actor, "is_authenticated", False) else None},
    )
    if not created and not binding.is_active:
        binding.is_active = True
        binding.save(update_fields=["is_active", "updated_at"])
    forget_scope(user)
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=user,
        area=area,
        changes={"role": role, "area": area.code},
    )
    return binding


@transaction.atomic
def binding_revoke(*, actor: Any, binding: RoleBinding) -> None:
    _check_may_grant(actor, binding.role, binding.area)
    binding.is_active = False
    binding.save(update_fields=["is_active", "updated_at"])
    forget_scope(binding.user)
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=binding.user,
        area=binding.area,
        changes={"role": binding.role, "area": binding.area.code},
    )


def login_locked(*, username: str, ip: str | None) -> bool:
    """Too many failed staff sign-ins lately for this account name, or from this address."""
    from linli.audit.models import AuditEntry

    since = timezone.now() - timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES)
    failed = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, at__gte=since)
    if failed.filter(object_label=username[:200]).count() >= settings.LINLI_LOGIN_MAX_FAILURES:
        return True
    return bool(ip) and failed.filter(ip=ip).count() >= settings.LINLI_LOGIN_MAX_FAILURES_PER_IP


def login_failed_record(*, username: str) -> None:
    """Audit a failed staff sign-in, filed where the named account is bound (if it exists),
    so the heads of that node see attempts on their workers' accounts."""
    named = User.objects.filter(username=username).first()
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        obj=named,
        object_label=username[:150],
        reason="wrong user name or password",
    )


def token_issue(*, actor: Any, user: User, name: str = "integration") -> str:
    """Create a bearer token for *user*; the raw token is returned once and never stored."""
    raw = "lnl_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=crypto.token_digest(raw))
    audit_record(actor=actor, action=AuditAction.TOKEN, obj=user, changes={"name": name})
    return raw


def token_revoke(*, actor: Any, token: ApiToken) -> None:
    """Stop a token working at once; the row stays for the record."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.REVOKE,
            obj=token.user,
            changes={"token": token.prefix, "name": token.name},
        )


def token_authenticate(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None.

    One query brings the token, its user and the user's active role bindings (one row per
    binding), and hands the bindings to the scoping layer: the API's every request asks for a
    scope next, which then needs no query of its own (decision 0043). The query is written
    once (decision 0048): built through the ORM it cost more CPU than the rest of a request.
    """
    now = timezone.now()
    stale_before = connection.ops.adapt_datetimefield_value(now - timedelta(minutes=5))
    params = [stale_before, crypto.token_digest(raw)]
    names = _user_attnames()
    n = len(names)
    if connection.vendor == "postgresql":
        # psycopg hands back the fields' own Python types: the user is built from the row.
        with connection.cursor() as cur:
            cur.execute(_token_sql(), params)
            rows = cur.fetchall()
        if not rows:
            return None
        user = User.from_db(connection.alias, names, rows[0][:n])
        token_pk, stale = rows[0][n], rows[0][n + 1]
        bindings = [tuple(r[n + 2 :]) for r in rows]
    else:
        # SQLite needs the fields' converters (dates are text there): the ORM's raw().
        found: list[Any] = list(User.objects.raw(_token_sql(), params))
        if not found:
            return None
        user, token_pk, stale = found[0], found[0].token_pk, found[0].token_stale
        bindings = [(r.binding_role, r.binding_path, r.binding_kind) for r in found]
    prime_bindings(user, [b for b in bindings if b[0] is not None])
    if stale:
        ApiToken.objects.filter(pk=token_pk).update(last_used_at=now)
    return user


@functools.cache
def _user_attnames() -> list[str]:
    return [f.attname for f in User._meta.concrete_fields]


@functools.cache
def _token_sql() -> str:
    """The token look-up: the user's columns, the token's key, whether its last use is older
    than the given time, and the user's active bindings (role, area path and kind)."""
    from linli.core.onetrip import column, table

    cols = ", ".join(f"u.{column(User, name)}" for name in _user_attnames())
    t, b, a = ApiToken, RoleBinding, Area
    return (
        f"SELECT {cols}, t.{column(t, 'id')} AS token_pk, "  # noqa: S608 - names from metadata
        f"(t.{column(t, 'last_used_at')} IS NULL OR t.{column(t, 'last_used_at')} < %s) "
        f"AS token_stale, b.{column(b, 'role')} AS binding_role, "
        f"a.{column(a, 'path')} AS binding_path, a.{column(a, 'kind')} AS binding_kind "
        f"FROM {table(t)} t JOIN {table(User)} u "
        f"ON u.{column(User, 'id')} = t.{column(t, 'user_id')} "
        f"LEFT JOIN {table(b)} b ON b.{column(b, 'user_id')} = u.{column(User, 'id')} "
        f"AND b.{column(b, 'is_active')} "
        f"LEFT JOIN {table(a)} a ON a.{column(a, 'id')} = b.{column(b, 'area_id')} "
        f"WHERE t.{column(t, 'digest')} = %s AND t.{column(t, 'revoked_at')} IS NULL "
        f"AND u.{column(User, 'is_active')}"
    )


# --- resident sign-in with a one-time SMS code -------------------------------------------


def otp_request(*, phone: str, ip: str | None = None, any_phone: bool = False) -> None:
    """Send a sign-in code to *phone* if it belongs to a living resident of the register.

    The answer to the caller is the same whether or not the phone is known, so the form
    cannot be used to find out who lives here. Requests are limited per phone.
    With ``any_phone`` (proving one holds a phone, e.g. an arrival registering at the gate)
    the code goes to any number, within the same limits.
    """
    from linli.notify.models import Channel, Urgency
    from linli.notify.services import notify
    from linli.register.models import Person, PersonStatus

    number = normalise_phone(phone)
    bidx = crypto.blind_index("phone", number)
    now = timezone.now()
    recent = OtpChallenge.objects.filter(
        phone_bidx=bidx, created_at__gte=now - timedelta(minutes=1)
    )
    if recent.exists():
        raise ValidationError(_("A code was sent less than a minute ago; please wait."))
    hour = now - timedelta(hours=1)
    if _otp_failures(bidx) >= settings.LINLI_OTP_MAX_FAILURES_PER_HOUR or (
        ip
        and OtpChallenge.objects.filter(ip=ip, created_at__gte=hour).count()
        >= settings.LINLI_OTP_MAX_REQUESTS_PER_IP_HOUR
    ):
        raise ValidationError(_("Too many attempts. Please try again in an hour."))
    known = (
        any_phone
        or Person.objects.filter(
            phone_bidx=bidx, status=PersonStatus.LIVING, household__isnull=False
        ).exists()
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    # A challenge is recorded for unknown phones too (with a digest no code can match), so the
    # rate limit above answers the same whether or not the phone is in the register.
    OtpChallenge.objects.create(
        phone_bidx=bidx,
        code_digest=crypto.token_digest(f"{bidx}:{code}") if known else "",
        expires_at=timezone.now() + timedelta(seconds=settings.LINLI_OTP_TTL_SECONDS),
        ip=ip,
    )
    if not known:
        return
    text = _("Your Linli sign-in code is %(code)s, valid for 5 minutes.") % {"code": code}
    # Urgent: a code is never held back by quiet hours; secret: its text is not kept.
    notify(
        channel=Channel.SMS,
        kind="accounts.sign_in_code",
        text=text,
        phone=number,
        urgency=Urgency.URGENT,
        secret=True,
        source_app="accounts",
    )


def _otp_failures(bidx: str) -> int:
    """Wrong codes typed for this phone in the last hour, across all its challenges."""
    from django.db.models import Sum

    hour = timezone.now() - timedelta(hours=1)
    total = OtpChallenge.objects.filter(phone_bidx=bidx, created_at__gte=hour).aggregate(
        n=Sum("attempts")
    )["n"]
    return int(total or 0)


def otp_verify(*, phone: str, code: str, sign_in: bool = True) -> User | None:
    """Check a code; return (creating if needed) the resident's account.

    With ``sign_in=False`` only the phone is proven: the code is spent and None returned.

    Each try is counted before the code is compared, in one conditional UPDATE, so parallel
    guesses cannot all pass the limit; wrong codes also count per phone across challenges
    (LINLI_OTP_MAX_FAILURES_PER_HOUR), so asking for new codes does not buy new guesses.
    """
    from linli.register.models import Person, PersonStatus

    wrong = ValidationError(_("The code is wrong or has expired."))
    try:
        number = normalise_phone(phone)
    except ValidationError:
        raise wrong from None
    bidx = crypto.blind_index("phone", number)
    challenge = (
        OtpChallenge.objects.filter(
            phone_bidx=bidx, used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )
    if challenge is None or _otp_failures(bidx) >= settings.LINLI_OTP_MAX_FAILURES_PER_HOUR:
        raise wrong
    # Take a try first (atomically, outside any transaction so it is never rolled back).
    if not OtpChallenge.objects.filter(
        pk=challenge.pk, used_at__isnull=True, attempts__lt=settings.LINLI_OTP_MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1):
        raise wrong
    if not challenge.code_digest or not secrets.compare_digest(
        challenge.code_digest, crypto.token_digest(f"{bidx}:{code.strip()}")
    ):
        audit_record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            object_label=mask_phone(number),
            reason="wrong sign-in code (portal)",
        )
        raise wrong
    # The right code: its try is not a failure.
    OtpChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") - 1)
    # Spend the code exactly once, even if two requests race with it.
    if not OtpChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise wrong
    if not sign_in:
        return None
    person = (
        Person.objects.filter(phone_bidx=bidx, status=PersonStatus.LIVING, household__isnull=False)
        .order_by("id")
        .first()
    )
    if person is None:
        raise wrong
    user = User.objects.filter(person=person).first()
    if user is None:
        user = User(username=f"resident-{person.pk}", display_name=person.name, person=person)
        user.set_unusable_password()
        user.save()
    audit_record(actor=user, action=AuditAction.LOGIN, obj=person, object_label=person.name)
    return user
