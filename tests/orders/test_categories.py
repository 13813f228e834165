"""Work-order categories: kept in the workbench by subdistrict officers and district admins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from linli.accounts.services import user_create
from linli.audit.models import AuditEntry
from linli.orders import services as svc
from linli.orders.models import OrderCategory
from tests.factories import PASSWORD, World
from tests.orders.factories import T0, category, order_in

pytestmark = pytest.mark.django_db

FORM = {
    "code": "pets",
    "name": "宠物扰民",
    "name_en": "Pets",
    "default_level": "grid",
    "grid_hours": "12",
    "community_hours": "36",
    "subdistrict_hours": "72",
    "department_hours": "96",
    "sort_key": "15",
    "is_active": "on",
}


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _audits() -> int:
    return AuditEntry.objects.filter(object_type="ordercategory").count()


def test_admin_creates_and_edits_a_category_on_the_pages(world: World) -> None:
    c = _client(world.admin)
    page = c.get(reverse("orders:category_list"))
    assert page.status_code == 200
    assert "维修报修" in page.content.decode()  # the seeded categories are listed
    before = OrderCategory.objects.count()

    # A bad code and a zero time limit: refused in Chinese, everything typed comes back.
    r = c.post(reverse("orders:category_create"), FORM | {"code": "宠物", "grid_hours": "0"})
    body = r.content.decode()
    assert r.status_code == 422
    assert 'value="宠物扰民"' in body and 'value="36"' in body and 'value="Pets"' in body
    assert "大于或等于" in body and "代码请使用 1 到 32 个小写字母、数字、- 或 _。" in body
    assert OrderCategory.objects.count() == before and _audits() == 0

    # A code already taken is refused by the service, the form kept.
    r = c.post(reverse("orders:category_create"), FORM | {"code": "repair"})
    assert r.status_code == 422
    assert "已有使用此代码的工单类别" in r.content.decode()
    assert 'value="宠物扰民"' in r.content.decode()
    assert OrderCategory.objects.count() == before

    r = c.post(reverse("orders:category_create"), FORM)
    assert r.status_code == 302 and r["Location"] == reverse("orders:category_list")
    cat = OrderCategory.objects.get(code="pets")
    assert (
        cat.name,
        cat.name_en,
        cat.default_level,
        cat.grid_hours,
        cat.community_hours,
        cat.subdistrict_hours,
        cat.department_hours,
        cat.sort_key,
        cat.is_active,
    ) == ("宠物扰民", "Pets", "grid", 12, 36, 72, 96, 15, True)

    # Edit: the code stays whatever is posted; the unticked box takes it out of use.
    form = c.get(reverse("orders:category_edit", args=[cat.pk])).content.decode()
    assert 'value="宠物扰民"' in form and 'value="12"' in form
    r = c.post(
        reverse("orders:category_edit", args=[cat.pk]),
        {k: v for k, v in FORM.items() if k != "is_active"}
        | {"code": "other", "name": "宠物", "community_hours": "24"},
    )
    assert r.status_code == 302
    cat.refresh_from_db()
    assert (cat.code, cat.name, cat.community_hours, cat.is_active) == ("pets", "宠物", 24, False)
    listing = c.get(reverse("orders:category_list")).content.decode()
    assert "宠物" in listing and "停用" in listing

    entries = list(
        AuditEntry.objects.filter(object_type="ordercategory")
        .order_by("id")
        .values_list("action", "changes")
    )
    assert [a for a, _ in entries] == ["create", "change"]
    assert entries[1][1] == {
        "name": ["宠物扰民", "宠物"],
        "community_hours": [36, 24],
        "is_active": [True, False],
    }


def test_subdistrict_officer_may_manage_categories(world: World) -> None:
    officer, _ = user_create(
        actor=None,
        username="officer",
        password=PASSWORD,
        role="subdistrict_officer",
        area=world.subdistrict,
    )
    c = _client(officer)
    assert c.get(reverse("orders:category_list")).status_code == 200
    r = c.post(reverse("orders:category_create"), FORM)
    assert r.status_code == 302
    assert OrderCategory.objects.filter(code="pets").exists()


@pytest.mark.parametrize("who", ["worker", "head"])
def test_grid_worker_and_community_head_are_refused(world: World, who: str) -> None:
    user = world.a.worker if who == "worker" else world.head
    c = _client(user)
    repair = category("repair")
    hours = repair.grid_hours
    count, audits = OrderCategory.objects.count(), _audits()
    assert c.get(reverse("orders:category_list")).status_code == 403
    assert c.get(reverse("orders:category_create")).status_code == 403
    assert c.post(reverse("orders:category_create"), FORM).status_code == 403
    r = c.post(reverse("orders:category_edit", args=[repair.pk]), FORM | {"grid_hours": "1"})
    assert r.status_code == 403
    repair.refresh_from_db()
    assert (OrderCategory.objects.count(), _audits(), repair.grid_hours) == (count, audits, hours)
    # The board offers no way there either.
    board = c.get(reverse("orders:board")).content.decode()
    assert reverse("orders:category_list") not in board
    with pytest.raises(PermissionDenied):
        svc.category_update(actor=user, category=repair, data={"grid_hours": 1})
    with pytest.raises(PermissionDenied):
        svc.category_create(actor=user, code="x", name="x")


def test_admin_board_links_to_categories(world: World) -> None:
    board = _client(world.admin).get(reverse("orders:board"))
    assert reverse("orders:category_list") in board.content.decode()


def test_services_validate_every_field(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        svc.category_create(
            actor=world.admin,
            code="Bad Code",
            name="  ",
            default_level="city",
            grid_hours=0,
            department_hours=24 * 365 + 1,
        )
    assert set(caught.value.message_dict) == {
        "code",
        "name",
        "default_level",
        "grid_hours",
        "department_hours",
    }
    assert not OrderCategory.objects.filter(code="bad code").exists()
    repair = category("repair")
    # An update that changes nothing writes no audit entry; an invalid one changes nothing.
    svc.category_update(actor=world.admin, category=repair, data={"name": repair.name})
    with pytest.raises(ValidationError):
        svc.category_update(actor=world.admin, category=repair, data={"grid_hours": -1})
    repair.refresh_from_db()
    assert (repair.grid_hours, _audits()) == (category("repair").grid_hours, 0)


def test_new_limits_and_levels_apply_to_new_orders(world: World) -> None:
    cat = svc.category_create(
        actor=world.admin,
        code="noise",
        name="噪音扰民",
        default_level="community",
        community_hours=6,
    )
    order = order_in(world, code="noise", now=T0)
    assert (order.level, order.due_at - T0) == ("community", dt.timedelta(hours=6))
    svc.category_update(actor=world.admin, category=cat, data={"is_active": False})
    with pytest.raises(ValidationError):
        order_in(world, code="noise", now=T0)
