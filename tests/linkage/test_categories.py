"""Concern categories: managed in the workbench by community heads and up."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.audit.models import AuditEntry
from linli.linkage.models import ConcernCategory
from tests.factories import World

pytestmark = pytest.mark.django_db


def test_head_creates_and_edits_a_category(world: World) -> None:
    c = Client()
    c.force_login(world.head)
    assert c.get(reverse("linkage:category_list")).status_code == 200
    # A bad code: the form comes back in Chinese with what was typed.
    r = c.post(
        reverse("linkage:category_create"),
        {"code": "坏代码", "name": "发热人员", "sort_key": 5, "is_active": "on"},
    )
    body = r.content.decode()
    assert r.status_code == 200 and 'value="发热人员"' in body
    assert not ConcernCategory.objects.filter(name="发热人员").exists()
    r = c.post(
        reverse("linkage:category_create"),
        {"code": "fever", "name": "发热人员", "sort_key": 5, "is_active": "on"},
    )
    assert r.status_code == 302
    cat = ConcernCategory.objects.get(code="fever")
    assert (cat.name, cat.sort_key, cat.is_active) == ("发热人员", 5, True)
    r = c.post(
        reverse("linkage:category_edit", args=[cat.pk]),
        {"name": "发热门诊就诊人员", "sort_key": 6},
    )
    cat.refresh_from_db()
    assert (cat.code, cat.name, cat.is_active) == ("fever", "发热门诊就诊人员", False)
    assert AuditEntry.objects.filter(object_type="concerncategory").count() == 2


def test_grid_worker_may_not_manage_categories(world: World) -> None:
    c = Client()
    c.force_login(world.a.worker)
    before = ConcernCategory.objects.count()
    assert c.get(reverse("linkage:category_list")).status_code == 403
    r = c.post(reverse("linkage:category_create"), {"code": "x", "name": "x", "sort_key": 0})
    assert r.status_code == 403
    assert ConcernCategory.objects.count() == before
