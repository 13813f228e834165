"""Workbench actions: audited reveal, forms that keep what was typed, register events, reviews."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from linli.accounts.models import User
from linli.audit.models import AuditAction, AuditEntry
from linli.register import services as reg
from linli.register.models import (
    CorrectionStatus,
    EventKind,
    Household,
    HouseholdStatus,
    Membership,
    Person,
    PersonStatus,
    RegisterEvent,
    Tag,
)
from tests.factories import World, make_national_id

pytestmark = pytest.mark.django_db


def _reveal_url(person: Person, field: str) -> str:
    return reverse("workbench:person_reveal", args=[person.pk, field])


def test_reveal_requires_a_reason(world: World, a_client: Client) -> None:
    person = world.a.householder
    response = a_client.post(
        _reveal_url(person, "national_id"), {"reason": ""}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert world.a.householder_id_number not in html
    assert "这个字段是必填项" in html
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_returns_full_value_and_is_audited(world: World, a_client: Client) -> None:
    person = world.a.householder
    form = a_client.get(
        _reveal_url(person, "phone"), headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in form and 'name="reason"' in form
    response = a_client.post(
        _reveal_url(person, "phone"), {"reason": "电话回访"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert world.a.householder_phone in html
    assert "本次查看及事由已记入审计日志" in html
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor_id, entry.object_id, entry.field, entry.reason) == (
        world.a.worker.pk,
        str(person.pk),
        "phone",
        "电话回访",
    )
    # Without htmx the same URL answers a full page.
    full = a_client.post(
        _reveal_url(person, "national_id"), {"reason": "核对身份"}
    ).content.decode()
    assert "<html" in full and world.a.householder_id_number in full


def test_reveal_of_unknown_field_is_404(world: World, a_client: Client) -> None:
    assert (
        a_client.post(_reveal_url(world.a.householder, "notes"), {"reason": "x y"}).status_code
        == 404
    )


def test_create_with_invalid_national_id_keeps_typed_values(world: World, a_client: Client) -> None:
    good = make_national_id(dt.date(1990, 1, 2))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = Person.objects.count()
    response = a_client.post(
        reverse("workbench:person_create"),
        {
            "household": world.a.household.pk,
            "name": "王小明",
            "national_id": bad,
            "phone": "13912345678",
            "residency": "registered",
            "relation": "child",
            "occurred_on": "2026-01-02",
            "notes": "刚搬来",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert Person.objects.count() == before
    assert 'value="王小明"' in html and f'value="{bad}"' in html and 'value="13912345678"' in html
    assert "刚搬来" in html
    with translation.override("zh-hans"):
        message = gettext("The national ID number's check digit is wrong.")
    assert message == "身份证号校验位错误。"
    assert message in html and "is-invalid" in html


def test_create_in_household_and_in_grid(world: World, a_client: Client) -> None:
    tag = (
        Tag.objects.get(code="elderly_alone")
        if Tag.objects.filter(code="elderly_alone").exists()
        else Tag.objects.first()
    )
    assert tag is not None
    nid = make_national_id(dt.date(1988, 4, 5))
    response = a_client.post(
        reverse("workbench:person_create"),
        {
            "household": world.a.household.pk,
            "name": "张三",
            "national_id": nid,
            "residency": "long_term",
            "relation": "spouse",
            "occurred_on": "2026-01-02",
            "tags": [tag.pk],
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(name="张三")
    assert (person.household_id, person.relation, person.grid_id) == (
        world.a.household.pk,
        "spouse",
        world.a.grid.pk,
    )
    assert list(person.tags.all()) == [tag]
    response = a_client.post(
        reverse("workbench:person_create"),
        {
            "grid": world.a.grid.pk,
            "name": "流动人员",
            "residency": "floating",
            "occurred_on": "2026-01-02",
        },
    )
    assert response.status_code == 302
    assert Person.objects.get(name="流动人员").household_id is None


def test_edit_changes_details_and_tags(world: World, a_client: Client) -> None:
    person = world.a.member
    tag = Tag.objects.order_by("id").first()
    assert tag is not None
    response = a_client.post(
        reverse("workbench:person_edit", args=[person.pk]),
        {
            "name": "张小新",
            "residency": "registered",
            "relation": "child",
            "notes": "",
            "tags": [tag.pk],
            "national_id": "",
            "phone": "13800001111",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.name == "张小新" and person.phone_masked == "138****1111"
    assert person.id_masked  # an empty ID field keeps the ID
    assert list(person.tags.all()) == [tag]


def test_edit_error_keeps_typed_values(world: World, a_client: Client) -> None:
    person = world.a.member
    response = a_client.post(
        reverse("workbench:person_edit", args=[person.pk]),
        {"name": "新名字", "residency": "registered", "relation": "child", "phone": "12"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'value="新名字"' in html and 'value="12"' in html
    person.refresh_from_db()
    assert person.name == world.a.member.name


def test_move_out_and_death(world: World, a_client: Client) -> None:
    today = timezone.localdate().isoformat()
    response = a_client.post(
        reverse("workbench:person_move_out", args=[world.a.member.pk]),
        {"occurred_on": today, "destination": "北京"},
    )
    assert response["Location"] == reverse(
        "workbench:household_detail", args=[world.a.household.pk]
    )
    member = Person.objects.get(pk=world.a.member.pk)
    assert member.status == PersonStatus.MOVED_OUT and member.household_id is None
    # A date in the future is refused with the service's message, nothing changes.
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = a_client.post(
        reverse("workbench:person_death", args=[world.a.householder.pk]), {"occurred_on": future}
    )
    assert response.status_code == 200 and f'value="{future}"' in response.content.decode()
    assert Person.objects.get(pk=world.a.householder.pk).status == PersonStatus.LIVING
    response = a_client.post(
        reverse("workbench:person_death", args=[world.a.householder.pk]), {"occurred_on": today}
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=world.a.householder.pk).status == PersonStatus.DECEASED
    assert Household.objects.get(pk=world.a.household.pk).status == HouseholdStatus.DISSOLVED
    html = a_client.get(
        reverse("workbench:household_detail", args=[world.a.household.pk])
    ).content.decode()
    assert "迁出" in html and "死亡" in html  # the ended spans in the membership history


def test_open_household_and_move_house(world: World, a_client: Client) -> None:
    from linli.register.models import Dwelling

    empty = Dwelling.objects.get(building=world.a.building, number="302")
    response = a_client.post(reverse("workbench:household_open", args=[empty.pk]))
    household = Household.objects.get(dwelling=empty)
    assert response["Location"] == reverse("workbench:household_detail", args=[household.pk])
    found = a_client.get(
        reverse("workbench:person_move_house", args=[world.a.member.pk]) + "?q=302",
        headers={"HX-Request": "true", "HX-Target": "found"},
    ).content.decode()
    assert empty.address in found and "<html" not in found
    response = a_client.post(
        reverse("workbench:person_move_house", args=[world.a.member.pk]),
        {
            "to_household": household.pk,
            "relation": "self",
            "occurred_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    member = Person.objects.get(pk=world.a.member.pk)
    assert member.household_id == household.pk
    assert Household.objects.get(pk=household.pk).householder_id == member.pk
    assert Membership.objects.filter(person=member, ended_on__isnull=False).count() == 1


def test_confirm_details(world: World, a_client: Client) -> None:
    response = a_client.post(reverse("workbench:person_confirm", args=[world.a.member.pk]))
    assert response.status_code == 302
    assert (
        RegisterEvent.objects.filter(person=world.a.member, kind=EventKind.CONFIRMED).count() == 1
    )


def test_review_correction(world: World, a_client: Client) -> None:
    resident = User.objects.create(username="resident-a", person=world.a.householder)
    accept = reg.correction_propose(
        actor=resident, person=world.a.householder, changes={"name": "张建华"}
    )
    reject = reg.correction_propose(
        actor=resident, person=world.a.member, changes={"phone": "13911112222"}
    )
    html = a_client.get(reverse("workbench:correction_list")).content.decode()
    assert "张建华" in html and "139****2222" in html and "13911112222" not in html
    url = reverse("workbench:correction_review", args=[accept.pk])
    assert a_client.post(url, {"decision": "accept", "note": "已电话核实"}).status_code == 302
    url = reverse("workbench:correction_review", args=[reject.pk])
    assert a_client.post(url, {"decision": "reject"}).status_code == 302
    accept.refresh_from_db()
    reject.refresh_from_db()
    assert (accept.status, accept.review_note) == (CorrectionStatus.ACCEPTED, "已电话核实")
    assert reject.status == CorrectionStatus.REJECTED
    assert Person.objects.get(pk=world.a.householder.pk).name == "张建华"
    assert Person.objects.get(pk=world.a.member.pk).phone_masked == ""


def test_audit_list_filters(world: World, a_client: Client) -> None:
    reg.person_reveal(
        actor=world.a.worker, person=world.a.householder, field="phone", reason="回访老人"
    )
    html = a_client.get(reverse("workbench:audit_list") + "?action=reveal").content.decode()
    assert "回访老人" in html and "查看" in html
    html = a_client.get(reverse("workbench:audit_list") + "?action=login").content.decode()
    assert "回访老人" not in html


def test_date_fields_default_to_today_in_iso_for_the_date_picker(
    world: World, a_client: Client
) -> None:
    html = a_client.get(
        reverse("workbench:person_move_out", args=[world.a.member.pk])
    ).content.decode()
    assert f'type="date" name="occurred_on" value="{timezone.localdate().isoformat()}"' in html
