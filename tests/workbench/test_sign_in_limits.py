"""Staff sign-in: failures are audited where the account is bound and lock the account name
for a while; behind a trusted proxy the client's own address is what is recorded."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from linli.audit.models import AuditEntry
from linli.audit.selectors import audit_entries
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.django_db


@override_settings(LINLI_LOGIN_MAX_FAILURES=3)
def test_failures_lock_the_account_name_even_for_the_right_password(world: World) -> None:
    c = Client()
    for _ in range(3):
        c.post("/w/login/", {"username": "grida", "password": "wrong-password"})
    r = c.post("/w/login/", {"username": "grida", "password": PASSWORD})
    assert r.status_code == 200 and "15" in r.content.decode()
    assert "_auth_user_id" not in c.session
    entries = AuditEntry.objects.filter(action="login_failed")
    assert entries.count() == 3
    # Filed under the account's grid: its head sees them, the other grid does not.
    assert set(entries.values_list("area_id", flat=True)) == {world.a.grid.pk}
    assert entries.first() in audit_entries(user=world.head)
    assert not audit_entries(user=world.b.worker).filter(action="login_failed").exists()


@override_settings(LINLI_TRUSTED_PROXIES=["127.0.0.9"])
def test_client_address_behind_a_trusted_proxy(world: World) -> None:
    from linli.core.middleware import TrustedProxyMiddleware  # noqa: F401  (settings read at init)

    c = Client(REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR="203.0.113.5, 127.0.0.9")
    c.post("/w/login/", {"username": "grida", "password": "nope"})
    assert AuditEntry.objects.get(action="login_failed").ip == "203.0.113.5"
    # From an untrusted address the header is ignored.
    c2 = Client(REMOTE_ADDR="198.51.100.2", HTTP_X_FORWARDED_FOR="203.0.113.99")
    c2.post("/w/login/", {"username": "grida", "password": "nope"})
    assert AuditEntry.objects.filter(action="login_failed").latest("id").ip == "198.51.100.2"
