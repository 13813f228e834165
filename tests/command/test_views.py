"""The command view page: who may open it, and that it shows only the jurisdiction's numbers."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.models import User
from tests.factories import World

pytestmark = pytest.mark.django_db

URL = "/c/"


def _count(html: str, name: str) -> str:
    """The first number shown for data-count=*name* in the totals."""
    totals = html.split('id="command-totals"', 1)[1]
    m = re.search(rf'data-count="{name}">([^<]*)<', totals)
    assert m, name
    return m.group(1)


def test_url_name() -> None:
    assert reverse("command:home") == URL


def test_anonymous_goes_to_workbench_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('workbench:login')}?next=/c/"


def test_users_without_permission_get_403(world: World, client: Client) -> None:
    resident = User(username="resident-1", person=world.a.householder)
    resident.set_unusable_password()
    resident.save()
    client.force_login(resident)
    assert client.get(URL).status_code == 403


def test_grid_worker_sees_grid_a_only(world: World, client: Client) -> None:
    client.force_login(world.a.worker)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert _count(html, "persons") == "2"
    assert _count(html, "households") == "1"
    assert _count(html, "dwellings") == "2"
    assert _count(html, "occupied") == "1"
    assert _count(html, "vacant") == "1"
    assert "测试小区 1号楼" in html
    assert "测试小区 2号楼" not in html
    assert world.b.grid.name not in html
    # Chinese by default; charts from the local vendor directory, never a CDN.
    assert "指挥舱" in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert not re.search(r'(src|href)="https?://', html)
    assert 'id="command-data"' in html


def test_grid_worker_gets_404_for_grid_b_and_above(world: World, client: Client) -> None:
    client.force_login(world.a.worker)
    for area in (world.b.grid.pk, world.community.pk, world.city.pk, "abc", 999999):
        assert client.get(URL, {"area": area}).status_code == 404
    assert client.get(URL, {"area": world.a.grid.pk}).status_code == 200


def test_head_drills_down_with_breadcrumb(world: World, client: Client) -> None:
    client.force_login(world.head)
    html = client.get(URL).content.decode()
    assert _count(html, "persons") == "4"
    assert f'href="/c/?area={world.a.grid.pk}"' in html
    assert f'href="/c/?area={world.b.grid.pk}"' in html
    html = client.get(URL, {"area": world.b.grid.pk}).content.decode()
    assert _count(html, "persons") == "2"
    crumbs = html.split('id="command-breadcrumb"', 1)[1].split("</ol>", 1)[0]
    assert f'href="/c/?area={world.community.pk}"' in crumbs
    assert world.b.grid.name in crumbs
    assert world.subdistrict.name not in crumbs
    assert "测试小区 2号楼" in html
    assert "测试小区 1号楼" not in html


def test_map_appears_only_with_coordinates(world: World, client: Client) -> None:
    client.force_login(world.head)
    html = client.get(URL).content.decode()
    assert 'id="command-map"' not in html
    estate = world.a.building.estate
    estate.latitude, estate.longitude = 36.65, 117.0
    estate.save()
    html = client.get(URL).content.decode()
    assert 'id="command-map"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "tile" not in html.lower()
