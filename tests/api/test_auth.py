"""Who may call the API: bearer tokens, workbench sessions (with CSRF), and USE_API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from linli.accounts.models import ApiToken
from linli.accounts.services import token_issue, user_create
from linli.register.models import Person
from tests.api.conftest import ApiClient
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.django_db


def test_token_authenticates(world: World, a_api: ApiClient) -> None:
    answer = a_api.get("/persons")
    assert answer.status == 200
    assert answer.data["count"] == 2


def test_no_credentials_is_401(world: World) -> None:
    answer = ApiClient().get("/persons")
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.data == {
        "detail": "Authentication required: send a valid bearer token or sign in.",
        "errors": {},
    }


def test_unknown_token_is_401(world: World) -> None:
    assert ApiClient("lnl_not-a-real-token").get("/persons").status == 401


def test_revoked_token_is_401(world: World) -> None:
    raw = token_issue(actor=None, user=world.a.worker)
    client = ApiClient(raw)
    assert client.get("/persons").status == 200
    ApiToken.objects.filter(user=world.a.worker).update(revoked_at=timezone.now())
    assert client.get("/persons").status == 401


def test_token_of_inactive_user_is_401(world: World, a_api: ApiClient) -> None:
    world.a.worker.is_active = False
    world.a.worker.save()
    assert a_api.get("/persons").status == 401


def test_user_without_api_permission_is_403(world: World) -> None:
    volunteer, _ = user_create(
        actor=None, username="vol", password=PASSWORD, role="volunteer", area=world.a.grid
    )
    answer = ApiClient(token_issue(actor=None, user=volunteer)).get("/persons")
    assert answer.status == 403
    assert answer.data["detail"] == "Your role does not include use of the API."


def test_session_authenticates(world: World) -> None:
    client = Client()
    assert client.login(username="grida", password=PASSWORD)
    answer = ApiClient(client=client).get("/persons")
    assert answer.status == 200
    assert {p["name"] for p in answer.data["items"]} == {"张建国", "张小A"}


def test_session_write_needs_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="grida", password=PASSWORD)
    api = ApiClient(client=client)
    person = world.a.householder
    refused = api.patch(f"/persons/{person.pk}", {"name": "张新名"})
    assert refused.status == 403
    assert "CSRF" in refused.data["detail"]
    assert Person.objects.get(pk=person.pk).name == "张建国"

    # The docs page hands out the token the session needs.
    page = client.get("/api/v1/docs/")
    token = page.context["csrf"]
    response = client.patch(
        f"/api/v1/persons/{person.pk}",
        data='{"name": "张新名"}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert Person.objects.get(pk=person.pk).name == "张新名"


def test_bearer_write_needs_no_csrf(world: World, a_api: ApiClient) -> None:
    a_api.client = Client(enforce_csrf_checks=True)
    answer = a_api.patch(f"/persons/{world.a.member.pk}", {"notes": "api"})
    assert answer.status == 200
