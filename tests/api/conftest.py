"""Fixtures for the API tests: tokens for the world's users and a small JSON client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.accounts.services import token_issue, user_create
from linli.register import services as reg
from linli.register.models import Building, Dwelling, Estate
from tests.emergency.walk import emergency_extras
from tests.factories import PASSWORD, World
from tests.health.walk import health_extras
from tests.screening.factories import screening_extras
from tests.supplies.factories import supplies_extras

API = "/api/v1"


@dataclass
class Answer:
    status: int
    data: Any
    headers: Any
    text: str


class ApiClient:
    """Calls the API with a bearer token (or none), in English unless told otherwise."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.token = token
        self.client = client or Client()

    def call(
        self, method: str, path: str, body: Any = None, *, lang: str = "en", **params: Any
    ) -> Answer:
        headers = {"Accept-Language": lang}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = path if path.startswith("/api/") else API + path
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        elif params:
            kwargs["data"] = params
        response = getattr(self.client, method.lower())(url, **kwargs)
        text = response.content.decode()
        data = (
            json.loads(text)
            if response.get("Content-Type", "").startswith("application/json")
            else None
        )
        return Answer(response.status_code, data, response.headers, text)

    def get(self, path: str, **params: Any) -> Answer:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, {} if body is None else body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Answer:
        return self.call("PATCH", path, body, **kw)


@dataclass
class BOnly:
    """Places that exist only in grid B (the shared estate is visible to both grids)."""

    estate: Estate
    building: Building
    dwelling: Dwelling


@pytest.fixture
def b_only(world: World) -> BOnly:
    estate = reg.estate_create(actor=None, community=world.community, name="乙苑")
    building = reg.building_create(
        actor=None, estate=estate, grid=world.b.grid, name="9号楼", floors=6, sort_key=9
    )
    dwelling = reg.dwelling_create(
        actor=None, building=building, entrance=None, floor=1, number="101"
    )
    emergency_extras(world)  # grid B's emergency objects, for the emergency operations
    supplies_extras(world)  # grid B's shopping list and stock item
    screening_extras(world)  # grid B's screening campaign and targets
    health_extras(world)  # grid B's test round, result and vaccination
    return BOnly(estate, building, dwelling)


@pytest.fixture
def a_api(world: World) -> ApiClient:
    return ApiClient(token_issue(actor=None, user=world.a.worker))


@pytest.fixture
def b_api(world: World) -> ApiClient:
    return ApiClient(token_issue(actor=None, user=world.b.worker))


@pytest.fixture
def head_api(world: World) -> ApiClient:
    return ApiClient(token_issue(actor=None, user=world.head))


@pytest.fixture
def department(world: World) -> User:
    """A department liaison on the community: reads masked data, may not change or reveal."""
    user, _ = user_create(
        actor=None, username="dept", password=PASSWORD, role="department", area=world.community
    )
    return user


@pytest.fixture
def dept_api(department: User) -> ApiClient:
    return ApiClient(token_issue(actor=None, user=department))
