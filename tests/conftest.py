"""Shared fixtures: the two-sibling-grid world every scoping test uses."""

from __future__ import annotations

import pytest

from tests.factories import World, make_world


@pytest.fixture(autouse=True)
def deployment_language() -> None:
    """Every test starts in the deployment's language. A request through the test client
    activates the language it asks for (LocaleMiddleware) and leaves it active in the thread,
    so a service called after an English API call would otherwise answer in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def world(db: None) -> World:
    return make_world()


# Data migrations seed rows the code relies on (default tags, order categories, concern
# categories). A transactional test (django_db(transaction=True)) ends by emptying every table,
# so one that runs after another on the same worker would start without them; such tests ask
# for this fixture, which runs the same seed functions again (they are idempotent).
SEED_MIGRATIONS = [
    ("linli.register.migrations.0002_default_tags", "add"),
    ("linli.orders.migrations.0002_seed_categories", "seed"),
    ("linli.linkage.migrations.0002_default_categories", "seed"),
    ("linli.supplies.migrations.0002_seed_supply_category", "seed"),
]


@pytest.fixture
def migration_seeds(transactional_db: None) -> None:
    import importlib

    from django.apps import apps

    for module, function in SEED_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
