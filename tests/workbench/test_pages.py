"""Every workbench page renders for grid A's worker with what it should show, and only that."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.models import User
from linli.register import services as reg
from tests.factories import World

pytestmark = pytest.mark.django_db


def get(client: Client, name: str, *args: object, query: str = "", **headers: str) -> str:
    response = client.get(reverse(f"workbench:{name}", args=args) + query, headers=headers)
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


def test_home_shows_own_grid_with_counts(world: World, a_client: Client) -> None:
    html = get(a_client, "home")
    assert "我的辖区" in html
    assert world.a.grid.name in html and world.b.grid.name not in html
    # Grid A holds one household of two living persons.
    assert '<div class="value">2</div>' in html and '<div class="value">1</div>' in html


def test_home_for_community_head_counts_each_grid(world: World, head_client: Client) -> None:
    reg.person_create(actor=None, name="赵一", grid=world.b.grid)
    html = get(head_client, "home")
    assert world.community.name in html
    assert "2 人 · 1 户" in html  # grid A
    assert "3 人 · 1 户" in html  # grid B: two household members and one person without household
    assert '<div class="value">5</div>' in html


def test_area_page_lists_buildings_of_the_grid(world: World, a_client: Client) -> None:
    html = get(a_client, "area_detail", world.a.grid.pk)
    assert world.a.building.name in html and world.b.building.name not in html
    assert world.community.name in html  # breadcrumb, shown as a name without link
    assert reverse("workbench:area_detail", args=[world.community.pk]) not in html


def test_community_page_for_head(world: World, head_client: Client) -> None:
    html = get(head_client, "area_detail", world.community.pk)
    assert world.a.grid.name in html and world.b.grid.name in html
    assert "测试小区" in html and "2 栋楼" in html


def test_estate_page_shows_only_buildings_in_scope(world: World, a_client: Client) -> None:
    html = get(a_client, "estate_detail", world.a.building.estate_id)
    assert world.a.building.name in html and world.b.building.name not in html


def test_building_view(world: World, a_client: Client) -> None:
    html = get(a_client, "building_detail", world.a.building.pk)
    assert "1单元" in html and "3层" in html
    assert "301" in html and "302" in html
    assert "occ-occupied" in html and "occ-vacant" in html
    assert reverse("workbench:dwelling_detail", args=[world.a.dwelling.pk]) in html
    assert "图例" in html


def test_dwelling_page(world: World, a_client: Client) -> None:
    html = get(a_client, "dwelling_detail", world.a.dwelling.pk)
    assert world.a.householder.name in html and world.a.member.name in html
    assert "在此新建一户" in html
    assert reverse("workbench:household_detail", args=[world.a.household.pk]) in html


def test_household_page_masks_and_lists_history(world: World, a_client: Client) -> None:
    html = get(a_client, "household_detail", world.a.household.pk)
    assert world.a.householder.name in html and world.a.member.name in html
    assert world.a.householder.id_masked in html
    assert world.a.householder_id_number not in html
    assert world.a.householder_phone not in html
    assert "成员变动历史" in html and "添加家庭成员" in html


def test_person_list_and_htmx_results(world: World, a_client: Client) -> None:
    html = get(a_client, "person_list")
    assert world.a.householder.name in html and world.a.member.name in html
    assert world.b.householder.name not in html
    partial = get(a_client, "person_list", query="?q=zjg", HX_Request="true", HX_Target="results")
    assert "<html" not in partial and world.a.householder.name in partial
    assert "共找到 1 人" in partial


def test_person_page(world: World, a_client: Client) -> None:
    html = get(a_client, "person_detail", world.a.householder.pk)
    assert world.a.householder.id_masked in html
    assert world.a.householder_id_number not in html and world.a.householder_phone not in html
    assert reverse("workbench:person_reveal", args=[world.a.householder.pk, "national_id"]) in html
    assert "信息来源" in html and "工作人员录入" in html
    assert "信息核实无误" in html


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("person_edit", ""),
        ("person_move_out", ""),
        ("person_death", ""),
        ("person_move_house", "?q=测试"),
    ],
)
def test_person_forms_render(world: World, a_client: Client, name: str, query: str) -> None:
    html = get(a_client, name, world.a.member.pk, query=query)
    assert world.a.member.name in html


def test_person_create_form_renders(world: World, a_client: Client) -> None:
    html = get(a_client, "person_create", query=f"?household={world.a.household.pk}")
    assert "与户主关系" in html and world.a.dwelling.address in html
    html = get(a_client, "person_create", query=f"?grid={world.a.grid.pk}")
    assert 'name="grid"' in html


def test_admin_pages(world: World, a_client: Client, head_client: Client) -> None:
    assert "居民信息更正" in get(a_client, "correction_list")
    assert "审计日志" in get(a_client, "audit_list")
    html = get(head_client, "user_list")
    assert world.a.worker.username in html and world.b.worker.username in html
    assert world.admin.username not in html  # bound above the head's community
    assert "独居老人" in get(head_client, "tag_list")
    get(head_client, "tag_create")
    get(head_client, "user_create")
    get(head_client, "user_detail", world.a.worker.pk)


def test_worker_may_not_manage_users_or_tags(world: World, a_client: Client) -> None:
    for name in ("user_list", "user_create", "tag_list", "tag_create"):
        assert a_client.get(reverse(f"workbench:{name}")).status_code == 403


def test_anonymous_is_sent_to_sign_in(world: World) -> None:
    response = Client().get(reverse("workbench:person_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workbench:login"))


def test_resident_account_is_sent_to_portal(world: World) -> None:
    resident = User.objects.create(username="resident-x", person=world.a.member)
    client = Client()
    client.force_login(resident)
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 302 and response["Location"].startswith("/p/")


def test_english_switch(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.a.worker)
    # Chinese by default, whatever the browser says; English once chosen in the switch.
    assert "My jurisdiction" not in client.get(reverse("workbench:home")).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/w/"})
    html = client.get(reverse("workbench:home")).content.decode()
    assert "My jurisdiction" in html


def test_home_counts_do_not_grow_with_the_tree(world: World, head_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.areas.models import AreaKind
    from tests.factories import make_area

    with CaptureQueriesContext(connection) as before:
        head_client.get(reverse("workbench:home"))
    for i in range(3):
        grid = make_area(AreaKind.GRID, f"X{i}", f"新网格{i}", world.community)
        reg.person_create(actor=None, name=f"新人{i}", grid=grid)
    with CaptureQueriesContext(connection) as after:
        html = head_client.get(reverse("workbench:home")).content.decode()
    assert len(after.captured_queries) == len(before.captured_queries)
    assert "新网格2" in html and "1 人 · 0 户" in html
