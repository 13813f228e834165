"""The operator's commands: areas, add_user, issue_token, revoke_token."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linli.accounts.models import ApiToken, User
from linli.accounts.services import token_authenticate
from linli.audit.models import AuditEntry
from tests.factories import World

pytestmark = pytest.mark.django_db


def test_areas_prints_tree_with_codes(world: World) -> None:
    out = io.StringIO()
    call_command("areas", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("T1  测试市")
    assert any(line.startswith("        T10100100101  网格A") for line in lines)


def test_add_user_takes_password_from_stdin(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-secret-2026\n"))
    out = io.StringIO()
    call_command(
        "add_user", "fromstdin", "--role", "grid_leader", "--area", world.a.grid.code, stdout=out
    )
    assert "shown once" not in out.getvalue()
    assert User.objects.get(username="fromstdin").check_password("a-long-secret-2026")


def test_add_user_generates_password_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    out = io.StringIO()
    call_command(
        "add_user", "newgrid", "--role", "grid_worker", "--area", world.a.grid.code, stdout=out
    )
    text = out.getvalue()
    password = text.split("password (shown once): ")[1].strip()
    user = User.objects.get(username="newgrid")
    assert user.check_password(password)
    assert list(user.role_bindings.values_list("role", "area__code")) == [
        ("grid_worker", world.a.grid.code)
    ]
    with pytest.raises(CommandError):
        call_command("add_user", "x", "--role", "grid_worker", "--area", "NOPE")


def test_issue_and_revoke_token(world: World) -> None:
    out = io.StringIO()
    call_command("issue_token", world.a.worker.username, stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("lnl_") and token_authenticate(raw) == world.a.worker
    assert not ApiToken.objects.filter(digest__contains=raw).exists()
    call_command("revoke_token", raw[:10], stdout=io.StringIO())
    assert token_authenticate(raw) is None
    assert AuditEntry.objects.filter(action="revoke", changes__token=raw[:10]).exists()
