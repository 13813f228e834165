"""Sign-in audited; user management bounded by the manager's role and scope; tags audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.models import RoleBinding, User
from linli.accounts.services import user_create
from linli.audit.models import AuditAction, AuditEntry
from linli.register.models import Tag
from tests.factories import PASSWORD, World
from tests.workbench.conftest import client_for

pytestmark = pytest.mark.django_db


def test_login_logout_and_failed_login_are_audited(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get(reverse("workbench:login")).content.decode()
    assert "邻里工作台" in page
    response = client.post(
        reverse("workbench:login"), {"username": "grida", "password": "wrong-pass"}
    )
    assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()
    failed = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
    assert (failed.actor_id, failed.object_label) == (None, "grida")
    response = client.post(reverse("workbench:login"), {"username": "grida", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("workbench:home")
    login = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert login.actor_id == world.a.worker.pk and login.channel == "web"
    response = client.post(reverse("workbench:logout"))
    assert response.status_code == 302
    logout = AuditEntry.objects.get(action=AuditAction.LOGOUT)
    assert logout.actor_id == world.a.worker.pk
    assert client.get(reverse("workbench:home")).status_code == 302


def test_resident_signing_in_goes_to_portal(world: World) -> None:
    resident = User(username="resident-pw", person=world.a.member)
    resident.set_password(PASSWORD)
    resident.save()
    response = Client().post(
        reverse("workbench:login"), {"username": "resident-pw", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].startswith("/p/")


@pytest.fixture
def leader(world: World) -> User:
    user, _ = user_create(
        actor=None, username="leader-a", password=PASSWORD, role="grid_leader", area=world.a.grid
    )
    return user


def test_manager_sees_only_users_in_scope(world: World, leader: User) -> None:
    client = client_for(leader)
    html = client.get(reverse("workbench:user_list")).content.decode()
    assert world.a.worker.username in html and world.b.worker.username not in html
    assert client.get(reverse("workbench:user_detail", args=[world.b.worker.pk])).status_code == 404
    b_binding = RoleBinding.objects.get(user=world.b.worker)
    response = client.post(reverse("workbench:binding_revoke", args=[b_binding.pk]))
    assert response.status_code == 404
    assert RoleBinding.objects.get(pk=b_binding.pk).is_active


def test_manager_cannot_grant_above_own_role_or_outside_scope(world: World, leader: User) -> None:
    client = client_for(leader)
    form = client.get(reverse("workbench:user_create")).content.decode()
    assert 'value="grid_worker"' in form and 'value="grid_leader"' in form
    assert 'value="community_head"' not in form and 'value="district_admin"' not in form
    assert f'value="{world.b.grid.pk}"' not in form and f'value="{world.community.pk}"' not in form
    before = (User.objects.count(), RoleBinding.objects.count())
    for data in (
        {"username": "boss", "role": "community_head", "area": world.a.grid.pk},
        {"username": "other", "role": "grid_worker", "area": world.b.grid.pk},
    ):
        response = client.post(reverse("workbench:user_create"), data)
        assert response.status_code == 200 and "is-invalid" in response.content.decode()
    url = reverse("workbench:user_detail", args=[world.a.worker.pk])
    for data in (
        {"role": "community_head", "area": world.a.grid.pk},
        {"role": "grid_worker", "area": world.b.grid.pk},
    ):
        assert client.post(url, data).status_code == 200
    assert (User.objects.count(), RoleBinding.objects.count()) == before
    assert not AuditEntry.objects.filter(action=AuditAction.GRANT, actor=leader).exists()


def test_manager_cannot_revoke_a_higher_role(world: World, leader: User) -> None:
    higher, _ = user_create(
        actor=None,
        username="shegong",
        password=PASSWORD,
        role="community_worker",
        area=world.a.grid,
    )
    binding = RoleBinding.objects.get(user=higher)
    response = client_for(leader).post(reverse("workbench:binding_revoke", args=[binding.pk]))
    assert response.status_code == 403
    assert RoleBinding.objects.get(pk=binding.pk).is_active


def test_head_creates_user_grants_and_revokes(world: World, head_client: Client) -> None:
    response = head_client.post(
        reverse("workbench:user_create"),
        {
            "username": "newworker",
            "display_name": "新网格员",
            "role": "grid_worker",
            "area": world.a.grid.pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "只显示这一次" in html
    user = User.objects.get(username="newworker")
    assert "generated-password" in html
    url = reverse("workbench:user_detail", args=[user.pk])
    assert (
        head_client.post(url, {"role": "grid_worker", "area": world.b.grid.pk}).status_code == 302
    )
    assert set(user.role_bindings.filter(is_active=True).values_list("area_id", flat=True)) == {
        world.a.grid.pk,
        world.b.grid.pk,
    }
    binding = user.role_bindings.get(area=world.b.grid)
    assert (
        head_client.post(reverse("workbench:binding_revoke", args=[binding.pk])).status_code == 302
    )
    binding.refresh_from_db()
    assert not binding.is_active
    assert AuditEntry.objects.filter(action=AuditAction.REVOKE, actor=world.head).count() == 1


def test_tags_create_edit_toggle_audited(world: World, head_client: Client) -> None:
    response = head_client.post(
        reverse("workbench:tag_create"),
        {
            "code": "new_mother",
            "name": "新手妈妈",
            "name_en": "New mother",
            "color": "#E83E8C",
            "sort_key": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    tag = Tag.objects.get(code="new_mother")
    assert (tag.name, tag.color, tag.is_active) == ("新手妈妈", "#e83e8c", True)
    response = head_client.post(
        reverse("workbench:tag_create"),
        {"code": "new_mother", "name": "重复", "color": "#000000", "sort_key": 0},
    )
    assert response.status_code == 200 and Tag.objects.filter(code="new_mother").count() == 1
    response = head_client.post(
        reverse("workbench:tag_edit", args=[tag.pk]),
        {"name": "新手妈妈（重点）", "color": "#e83e8c", "sort_key": 5, "is_active": "on"},
    )
    assert response.status_code == 302
    assert head_client.post(reverse("workbench:tag_toggle", args=[tag.pk])).status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.is_active) == ("新手妈妈（重点）", False)
    entries = AuditEntry.objects.filter(object_type="tag", object_id=str(tag.pk)).order_by("id")
    assert [e.action for e in entries] == [
        AuditAction.CREATE,
        AuditAction.CHANGE,
        AuditAction.CHANGE,
    ]
    assert entries[2].changes == {"is_active": {"from": True, "to": False}}


def test_worker_cannot_post_tags(world: World, a_client: Client) -> None:
    tag = Tag.objects.order_by("id").first()
    assert tag is not None
    assert a_client.post(reverse("workbench:tag_toggle", args=[tag.pk])).status_code == 403
    tag.refresh_from_db()
    assert tag.is_active
