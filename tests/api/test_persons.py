"""Persons over the API: exact pages and filters, writes through the services, audited reveal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.audit.models import AuditAction, AuditEntry
from linli.register import services as reg
from linli.register.models import Person, PersonStatus, RegisterEvent, Residency, Tag
from tests.api.conftest import ApiClient
from tests.factories import World, make_national_id, make_phone

pytestmark = pytest.mark.django_db


def ids(answer: object) -> list[int]:
    return [item["id"] for item in answer.data["items"]]  # type: ignore[attr-defined]


def test_person_output_is_masked_and_complete(world: World, a_api: ApiClient) -> None:
    p = world.a.householder
    answer = a_api.get(f"/persons/{p.pk}")
    assert answer.status == 200
    data = answer.data
    nid, phone = world.a.householder_id_number, world.a.householder_phone
    assert nid not in answer.text and phone not in answer.text
    p.refresh_from_db()
    assert data["national_id_masked"] == p.id_masked != ""
    assert data["phone_masked"] == p.phone_masked != ""
    assert set(data) == {
        "id",
        "name",
        "national_id_masked",
        "phone_masked",
        "sex",
        "birth_date",
        "birth_year",
        "age",
        "residency",
        "status",
        "relation",
        "household_id",
        "address",
        "grid_id",
        "grid_code",
        "tags",
        "provenance",
    }
    assert data["name"] == "张建国"
    assert data["sex"] == "M"
    assert data["birth_date"] == "1951-03-09"
    assert data["birth_year"] == 1951
    assert data["age"] == p.age
    assert data["residency"] == "registered"
    assert data["status"] == "living"
    assert data["relation"] == "self"
    assert data["household_id"] == world.a.household.pk
    assert data["address"] == "测试小区1号楼1单元301"
    assert data["grid_id"] == world.a.grid.pk
    assert data["grid_code"] == world.a.grid.code
    assert data["tags"] == []
    assert data["provenance"]["national_id"] == {
        "source": "worker",
        "confirmed_at": p.provenance["national_id"]["confirmed_at"],
        "by": None,
    }


def test_pagination(world: World, head_api: ApiClient) -> None:
    everyone = [
        world.a.householder.pk,
        world.a.member.pk,
        world.b.householder.pk,
        world.b.member.pk,
    ]
    first = head_api.get("/persons", limit=3)
    assert (first.data["count"], ids(first)) == (4, everyone[:3])
    second = head_api.get("/persons", limit=3, offset=3)
    assert (second.data["count"], ids(second)) == (4, everyone[3:])
    assert ids(head_api.get("/persons", limit=2, offset=1)) == everyone[1:3]
    assert ids(head_api.get("/persons", offset=10)) == []
    too_many = head_api.get("/persons", limit=201)
    assert too_many.status == 422
    assert list(too_many.data["errors"]) == ["limit"]
    assert head_api.get("/persons", limit=0).status == 422
    assert head_api.get("/persons", offset=-1).status == 422


def test_filters(world: World, head_api: ApiClient) -> None:
    a, b = world.a, world.b
    elderly = Tag.objects.get(code="elderly")
    reg.person_tag_set(actor=None, person=b.householder, tags=[elderly])
    floating = reg.person_create(
        actor=None, name="赵流动", grid=a.grid, residency=Residency.FLOATING
    )
    reg.person_move_out(actor=None, person=a.member)

    assert ids(head_api.get("/persons", q="建国")) == [a.householder.pk, b.householder.pk]
    assert ids(head_api.get("/persons", q="zjg")) == [a.householder.pk]
    assert ids(head_api.get("/persons", q=world.b.householder_phone)) == [b.householder.pk]
    assert ids(head_api.get("/persons", q=world.a.householder_id_number[-4:])) == [a.householder.pk]
    assert ids(head_api.get("/persons", tag="elderly")) == [b.householder.pk]
    assert ids(head_api.get("/persons", residency="floating")) == [floating.pk]
    assert ids(head_api.get("/persons")) == [
        a.householder.pk,
        b.householder.pk,
        b.member.pk,
        floating.pk,
    ]
    assert ids(head_api.get("/persons", status="moved_out")) == [a.member.pk]
    assert ids(head_api.get("/persons", status="all")) == [
        a.householder.pk,
        a.member.pk,
        b.householder.pk,
        b.member.pk,
        floating.pk,
    ]
    assert ids(head_api.get("/persons", area=a.grid.code)) == [a.householder.pk, floating.pk]
    assert ids(head_api.get("/persons", area=str(b.grid.pk))) == [b.householder.pk, b.member.pk]
    assert ids(head_api.get("/persons", area=world.community.code)) == [
        a.householder.pk,
        b.householder.pk,
        b.member.pk,
        floating.pk,
    ]
    # An area above the caller's scope (or unknown) gives nothing, not an error.
    assert ids(head_api.get("/persons", area=world.district.code)) == []
    assert ids(head_api.get("/persons", area="NOPE")) == []
    assert ids(head_api.get("/persons", household=b.household.pk)) == [
        b.householder.pk,
        b.member.pk,
    ]
    assert ids(head_api.get("/persons", household=b.household.pk, q="小B")) == [b.member.pk]
    assert head_api.get("/persons", residency="martian").status == 422


def test_create_in_household(world: World, a_api: ApiClient) -> None:
    nid = make_national_id(dt.date(1990, 1, 2), male=False)
    phone = make_phone()
    answer = a_api.post(
        "/persons",
        {
            "name": " 张小红 ",
            "national_id": nid,
            "phone": phone,
            "household": world.a.household.pk,
            "relation": "child_in_law",
            "tags": ["party_member", "minor"],
        },
    )
    assert answer.status == 201, answer.text
    person = Person.objects.get(pk=answer.data["id"])
    assert person.name == "张小红"
    assert person.reveal_national_id() == nid
    assert person.household_id == world.a.household.pk
    assert person.relation == "child_in_law"
    assert answer.data["tags"] == ["minor", "party_member"]
    assert answer.data["sex"] == "F"
    assert answer.data["provenance"]["name"]["source"] == "api"
    assert answer.data["provenance"]["name"]["by"] == world.a.worker.pk
    assert nid not in answer.text and phone not in answer.text
    entry = AuditEntry.objects.filter(
        action=AuditAction.CREATE, object_type="person", object_id=str(person.pk)
    ).get()
    assert (entry.channel, entry.actor_id) == ("api", world.a.worker.pk)


def test_create_in_grid_by_code(world: World, a_api: ApiClient) -> None:
    answer = a_api.post("/persons", {"name": "钱直登", "grid": world.a.grid.code})
    assert answer.status == 201
    assert answer.data["grid_id"] == world.a.grid.pk
    assert answer.data["household_id"] is None


def test_create_refuses_bad_input_with_field_messages(world: World, a_api: ApiClient) -> None:
    count = Person.objects.count()
    bad_nid = a_api.post(
        "/persons", {"name": "王五", "grid": world.a.grid.code, "national_id": "123"}
    )
    assert bad_nid.status == 422
    assert list(bad_nid.data["errors"]) == ["national_id"]
    no_relation = a_api.post("/persons", {"name": "王五", "household": world.a.household.pk})
    assert no_relation.status == 422
    assert no_relation.data["errors"] == {"relation": ["Choose the relation to the householder."]}
    assert no_relation.data["detail"] == "Choose the relation to the householder."
    unknown_tag = a_api.post(
        "/persons", {"name": "王五", "grid": world.a.grid.code, "tags": ["martian"]}
    )
    assert unknown_tag.status == 422
    assert unknown_tag.data["errors"] == {"tags": ["Unknown tag: martian"]}
    no_name = a_api.post("/persons", {"grid": world.a.grid.code})
    assert no_name.status == 422
    assert list(no_name.data["errors"]) == ["name"]
    assert no_name.data["detail"] == "The request is not valid; see the messages per field."
    assert Person.objects.count() == count


def test_update(world: World, a_api: ApiClient) -> None:
    p = world.a.member
    phone = make_phone()
    answer = a_api.patch(
        f"/persons/{p.pk}", {"phone": phone, "residency": "long_term", "tags": ["minor"]}
    )
    assert answer.status == 200, answer.text
    p.refresh_from_db()
    assert p.reveal_phone() == phone
    assert p.residency == "long_term"
    assert p.name == "张小A"  # not sent, not changed
    assert answer.data["phone_masked"] == p.phone_masked
    assert answer.data["tags"] == ["minor"]
    assert answer.data["provenance"]["phone"]["source"] == "api"
    change = AuditEntry.objects.filter(
        action=AuditAction.CHANGE, object_type="person", object_id=str(p.pk)
    ).first()
    assert change is not None and change.channel == "api"
    assert phone not in str(change.changes)
    assert RegisterEvent.objects.filter(person=p, kind="change").count() == 1


def test_update_refusal_changes_nothing(world: World, a_api: ApiClient) -> None:
    p = world.a.member
    answer = a_api.patch(f"/persons/{p.pk}", {"name": "新名", "phone": "12345", "tags": ["minor"]})
    assert answer.status == 422
    assert list(answer.data["errors"]) == ["phone"]
    p.refresh_from_db()
    assert (p.name, p.phone_masked, list(p.tags.all())) == ("张小A", "", [])
    # Tags are applied with the details or not at all.
    bad_tag = a_api.patch(f"/persons/{p.pk}", {"name": "新名", "tags": ["martian"]})
    assert bad_tag.status == 422
    p.refresh_from_db()
    assert p.name == "张小A"


def test_reveal_is_audited(world: World, a_api: ApiClient) -> None:
    p = world.a.householder
    answer = a_api.post(f"/persons/{p.pk}/reveal", {"field": "national_id", "reason": "核对低保"})
    assert answer.status == 200
    assert answer.data == {"field": "national_id", "value": world.a.householder_id_number}
    assert answer.headers["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.filter(action=AuditAction.REVEAL).get()
    assert (entry.actor_id, entry.object_id, entry.field, entry.reason, entry.channel) == (
        world.a.worker.pk,
        str(p.pk),
        "national_id",
        "核对低保",
        "api",
    )
    phone = a_api.post(f"/persons/{p.pk}/reveal", {"field": "phone", "reason": "回访"})
    assert phone.data == {"field": "phone", "value": world.a.householder_phone}


def test_reveal_needs_a_reason(world: World, a_api: ApiClient) -> None:
    p = world.a.householder
    for body in ({"field": "phone"}, {"field": "phone", "reason": " "}):
        answer = a_api.post(f"/persons/{p.pk}/reveal", body)
        assert answer.status == 422
        assert answer.data == {
            "detail": "State why you need the full value.",
            "errors": {"reason": ["State why you need the full value."]},
        }
    wrong_field = a_api.post(f"/persons/{p.pk}/reveal", {"field": "notes", "reason": "看看"})
    assert wrong_field.status == 422
    assert list(wrong_field.data["errors"]) == ["field"]
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_message_in_chinese(world: World, a_api: ApiClient) -> None:
    answer = a_api.call(
        "POST", f"/persons/{world.a.householder.pk}/reveal", {"field": "phone"}, lang="zh-hans"
    )
    assert answer.status == 422
    assert answer.data["detail"] != "State why you need the full value."


def test_move_out(world: World, a_api: ApiClient) -> None:
    p = world.a.member
    day = timezone.localdate()
    answer = a_api.post(
        f"/persons/{p.pk}/move-out", {"occurred_on": day.isoformat(), "destination": "北京"}
    )
    assert answer.status == 200, answer.text
    assert (answer.data["status"], answer.data["household_id"]) == ("moved_out", None)
    p.refresh_from_db()
    assert p.status == PersonStatus.MOVED_OUT
    event = RegisterEvent.objects.get(person=p, kind="move_out")
    assert (event.occurred_on, event.data) == (day, {"destination": "北京"})
    again = a_api.post(f"/persons/{p.pk}/move-out", {})
    assert again.status == 422
    assert again.data["detail"] == "This person no longer lives here."
    future = a_api.post(
        f"/persons/{world.a.householder.pk}/move-out",
        {"occurred_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat()},
    )
    assert future.status == 422
    assert list(future.data["errors"]) == ["occurred_on"]


def test_birth_date_only_for_those_who_may_reveal(world: World, dept_api: ApiClient) -> None:
    """With the masked ID, a full birth date would narrow the ID to a few candidates."""
    data = dept_api.get(f"/persons/{world.a.householder.pk}").data
    assert data["birth_date"] is None and data["birth_year"] == 1951
