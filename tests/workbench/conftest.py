"""Fixtures for the workbench tests: signed-in clients speaking Chinese."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import World


def client_for(user: object) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def a_client(world: World) -> Client:
    return client_for(world.a.worker)


@pytest.fixture
def head_client(world: World) -> Client:
    return client_for(world.head)
