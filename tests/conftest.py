"""Shared fixtures: the two-sibling-grid world every scoping test uses."""

from __future__ import annotations

import pytest

from tests.factories import World, make_world


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
