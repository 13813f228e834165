"""linli add_department: operators set up the departments communities whistle."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from linli.audit.models import AuditEntry
from linli.orders.models import Department
from tests.factories import World
from tests.orders.factories import department_user

pytestmark = pytest.mark.django_db


def test_add_department_with_members_and_categories(world: World) -> None:
    liaison = department_user(world)
    out = io.StringIO()
    call_command(
        "add_department",
        "police",
        "派出所",
        area=world.subdistrict.code,
        member=[liaison.username],
        category=["safety", "dispute"],
        stdout=out,
    )
    assert (
        out.getvalue().strip()
        == f"police 派出所 @ {world.subdistrict.code}: 1 members, 2 categories"
    )
    dept = Department.objects.get(code="police")
    assert (dept.area, list(dept.members.all())) == (world.subdistrict, [liaison])
    assert sorted(dept.categories.values_list("code", flat=True)) == ["dispute", "safety"]
    assert AuditEntry.objects.filter(object_type="department", action="create").count() == 1


def test_add_department_refuses_non_liaisons_and_unknown_names(world: World) -> None:
    with (
        translation.override("zh-hans"),
        pytest.raises(CommandError, match="网格员A 没有职能部门角色"),
    ):
        call_command("add_department", "x", "某部门", area=world.subdistrict.code, member=["grida"])
    with pytest.raises(CommandError, match="unknown: nobody"):
        call_command(
            "add_department", "x", "某部门", area=world.subdistrict.code, member=["nobody"]
        )
    assert Department.objects.count() == 0
