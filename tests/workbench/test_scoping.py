"""Grid A's worker gets 404 for every page and action about grid B, and nothing changes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.models import User
from linli.audit.models import AuditEntry
from linli.register import services as reg
from linli.register.models import (
    CorrectionStatus,
    Household,
    Membership,
    Person,
    RegisterEvent,
)
from tests.factories import World

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[object, ...]:
    return (
        list(
            Person.objects.order_by("id").values_list(
                "id", "name", "status", "household_id", "grid_id", "provenance"
            )
        ),
        list(Household.objects.order_by("id").values_list("id", "status", "householder_id")),
        Membership.objects.count(),
        RegisterEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def test_object_pages_of_grid_b_are_404(world: World, a_client: Client) -> None:
    b = world.b
    urls = [
        reverse("workbench:area_detail", args=[b.grid.pk]),
        reverse("workbench:area_detail", args=[world.community.pk]),
        reverse("workbench:building_detail", args=[b.building.pk]),
        reverse("workbench:dwelling_detail", args=[b.dwelling.pk]),
        reverse("workbench:household_detail", args=[b.household.pk]),
        reverse("workbench:person_detail", args=[b.householder.pk]),
        reverse("workbench:person_edit", args=[b.householder.pk]),
        reverse("workbench:person_reveal", args=[b.householder.pk, "national_id"]),
        reverse("workbench:person_move_out", args=[b.householder.pk]),
        reverse("workbench:person_death", args=[b.householder.pk]),
        reverse("workbench:person_move_house", args=[b.householder.pk]),
        reverse("workbench:person_create") + f"?household={b.household.pk}",
        reverse("workbench:person_create") + f"?grid={b.grid.pk}",
    ]
    for url in urls:
        assert a_client.get(url).status_code == 404, url


def test_post_actions_on_grid_b_are_404_and_change_nothing(world: World, a_client: Client) -> None:
    b = world.b
    resident = User.objects.create(username="resident-b", person=b.householder)
    proposal = reg.correction_propose(
        actor=resident, person=b.householder, changes={"name": "李建华"}
    )
    before = _snapshot()
    posts = [
        (reverse("workbench:household_open", args=[b.dwelling.pk]), {}),
        (reverse("workbench:person_confirm", args=[b.householder.pk]), {}),
        (
            reverse("workbench:person_edit", args=[b.householder.pk]),
            {"name": "改名", "residency": "registered", "relation": "self"},
        ),
        (
            reverse("workbench:person_reveal", args=[b.householder.pk, "phone"]),
            {"reason": "核实信息"},
        ),
        (
            reverse("workbench:person_move_out", args=[b.householder.pk]),
            {"occurred_on": "2026-01-02"},
        ),
        (reverse("workbench:person_death", args=[b.householder.pk]), {"occurred_on": "2026-01-02"}),
        (
            reverse("workbench:person_move_house", args=[b.member.pk]),
            {
                "to_household": world.a.household.pk,
                "relation": "child",
                "occurred_on": "2026-01-02",
            },
        ),
        # A's own person into B's household: the target is out of scope.
        (
            reverse("workbench:person_move_house", args=[world.a.member.pk]),
            {"to_household": b.household.pk, "relation": "child", "occurred_on": "2026-01-02"},
        ),
        (
            reverse("workbench:person_create"),
            {
                "household": b.household.pk,
                "name": "王五",
                "residency": "registered",
                "relation": "child",
                "occurred_on": "2026-01-02",
            },
        ),
        (
            reverse("workbench:person_create"),
            {
                "grid": b.grid.pk,
                "name": "王五",
                "residency": "registered",
                "occurred_on": "2026-01-02",
            },
        ),
        (reverse("workbench:correction_review", args=[proposal.pk]), {"decision": "accept"}),
    ]
    for url, data in posts:
        assert a_client.post(url, data).status_code == 404, url
    assert _snapshot() == before
    proposal.refresh_from_db()
    assert proposal.status == CorrectionStatus.PENDING


def test_person_list_never_includes_grid_b(world: World, a_client: Client) -> None:
    b = world.b
    queries = [
        "",
        "?q=建国",
        "?q=jg",
        f"?q={b.householder_phone[-4:]}",
        f"?q={b.householder_phone}",
        f"?q={b.householder_id_number}",
        "?q=测试小区",
        "?status=all",
        f"?area={b.grid.pk}",
    ]
    for query in queries:
        html = a_client.get(reverse("workbench:person_list") + query).content.decode()
        assert b.householder.name not in html and b.member.name not in html, query
    html = a_client.get(reverse("workbench:person_list") + "?q=建国").content.decode()
    assert world.a.householder.name in html


def test_corrections_list_only_in_scope(world: World, a_client: Client) -> None:
    resident = User.objects.create(username="resident-b2", person=world.b.householder)
    reg.correction_propose(actor=resident, person=world.b.householder, changes={"name": "李建华"})
    html = a_client.get(reverse("workbench:correction_list")).content.decode()
    assert "李建华" not in html and "没有待审核的更正" in html


def test_audit_list_hides_grid_b(world: World, a_client: Client) -> None:
    reg.person_reveal(
        actor=world.b.worker, person=world.b.householder, field="phone", reason="B的事由"
    )
    html = a_client.get(reverse("workbench:audit_list")).content.decode()
    assert "B的事由" not in html


def test_building_leader_sees_but_cannot_change(world: World) -> None:
    from linli.accounts.services import user_create
    from tests.workbench.conftest import client_for

    leader, _ = user_create(
        actor=None,
        username="lz",
        password="louzhang-2026",
        role="building_leader",
        area=world.a.grid,
    )
    client = client_for(leader)
    before = _snapshot()
    html = client.get(
        reverse("workbench:person_detail", args=[world.a.householder.pk])
    ).content.decode()
    assert world.a.householder.id_masked in html
    assert "person_reveal" not in html and "/reveal/" not in html
    assert "修改信息" not in html
    url = reverse("workbench:person_reveal", args=[world.a.householder.pk, "national_id"])
    assert client.post(url, {"reason": "想看看"}).status_code == 403
    assert client.get(url).status_code == 403
    assert (
        client.post(reverse("workbench:person_confirm", args=[world.a.householder.pk])).status_code
        == 403
    )
    assert (
        client.get(reverse("workbench:person_edit", args=[world.a.householder.pk])).status_code
        == 403
    )
    assert _snapshot() == before
