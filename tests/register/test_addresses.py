"""户籍地址 and 现居住地址: imported with provenance, typed in the person form, shown on the
person page, kept by a merge's undo, offered as report columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.intake.services import people_import
from linli.register import services as reg
from linli.register.models import Person, RegisterEvent
from linli.reports import engine
from linli.reports.spec import spec_validate
from tests.factories import World, make_national_id

pytestmark = pytest.mark.django_db

HEADER = "姓名,身份证号,楼栋,单元,房号,与户主关系,户籍地址,现居住地址"


@pytest.fixture(autouse=True)
def _var(tmp_path: Path, settings: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"


def _roster(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_import_stores_both_addresses_with_provenance(world: World, tmp_path: Path) -> None:
    new_id = make_national_id(dt.date(1990, 2, 3))
    head = world.a.householder
    path = _roster(
        tmp_path,
        f"王新,{new_id},1号楼,1单元,302,户主,山东省济南市历下区某街1号,　某小区１号楼302 ",
        f"{head.name},{world.a.householder_id_number},1号楼,1单元,301,户主,山东省济南市,",
    )
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid, source="民政")
    assert result.counts["created"] == 1 and result.counts["updated"] == 1
    new = Person.objects.get(name="王新")
    # Cleaned like every text cell: full-width digits and spaces folded, trimmed.
    assert (new.hukou_address, new.current_address) == (
        "山东省济南市历下区某街1号",
        "某小区1号楼302",
    )
    assert new.provenance["hukou_address"]["source"] == "民政"
    assert new.provenance["current_address"]["row"] == 2
    head.refresh_from_db()
    assert head.hukou_address == "山东省济南市" and head.current_address == ""
    assert head.provenance["hukou_address"]["file"] == "roster.csv"
    change = RegisterEvent.objects.filter(person=head, kind="change").latest("id")
    assert change.summary == "修改了：户籍地址" and change.data["changes"]["hukou_address"]["to"]


def test_an_address_over_200_characters_rejects_the_row(world: World, tmp_path: Path) -> None:
    path = _roster(tmp_path, f"王长,{make_national_id()},1号楼,1单元,302,户主,{'长' * 201},")
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert result.counts["rejected"] == 1 and not Person.objects.filter(name="王长").exists()


def test_the_form_and_page(world: World) -> None:
    person = world.a.member
    c = Client()
    c.force_login(world.a.worker)
    edit = reverse("workbench:person_edit", args=[person.pk])
    assert "户籍地址" in c.get(edit).content.decode()
    r = c.post(
        edit,
        {
            "name": person.name,
            "residency": "registered",
            "relation": "child",
            "hukou_address": " 河北省保定市 ",
            "current_address": "测试小区1号楼301",
        },
    )
    assert r.status_code == 302
    person.refresh_from_db()
    assert (person.hukou_address, person.current_address) == ("河北省保定市", "测试小区1号楼301")
    assert person.provenance["hukou_address"]["source"] == "worker"
    page = c.get(reverse("workbench:person_detail", args=[person.pk])).content.decode()
    assert "河北省保定市" in page and "现居住地址（填报）" in page
    # Too long: the form answers, keeps what was typed, changes nothing.
    r = c.post(
        edit,
        {
            "name": "新名",
            "residency": "registered",
            "relation": "child",
            "hukou_address": "长" * 201,
        },
    )
    assert r.status_code == 200 and 'value="新名"' in r.content.decode()
    person.refresh_from_db()
    assert person.name == world.a.member.name
    # Grid B's worker cannot open it.
    b = Client()
    b.force_login(world.b.worker)
    assert b.get(edit).status_code == 404


def test_create_with_addresses(world: World) -> None:
    person = reg.person_create(
        actor=None, name="赵新", grid=world.a.grid, hukou_address="湖南省长沙市", source="police"
    )
    assert person.hukou_address == "湖南省长沙市"
    assert person.provenance["hukou_address"]["source"] == "police"
    assert "current_address" not in person.provenance


def test_a_merge_fills_the_kept_records_blank_address_and_undo_restores_it(world: World) -> None:
    from linli.linkage import services as link

    dup = reg.person_create(
        actor=None, name=world.a.householder.name, grid=world.a.grid, hukou_address="某省某市"
    )
    merge = link.person_merge(actor=None, keep=world.a.householder, absorb=dup, reason="同一人")
    keep = Person.objects.get(pk=world.a.householder.pk)
    assert keep.hukou_address == "某省某市"
    link.person_unmerge(actor=None, merge=merge)
    keep.refresh_from_db()
    assert keep.hukou_address == ""


def test_report_columns(world: World) -> None:
    reg.person_update(actor=None, person=world.a.member, data={"hukou_address": "河北省"})
    spec = spec_validate(
        {
            "kind": "ledger",
            "rowset": "register.person",
            "header": {"title": "户籍"},
            "columns": [
                {"source": "name", "label": "姓名"},
                {"source": "hukou_address", "label": "户籍地址"},
                {"source": "current_address_written", "label": "现居住地址"},
            ],
        }
    )
    table = engine.build_table(spec, user=world.a.worker, area=world.a.grid)
    rows = [cells for kind, cells in table.rows if kind == "data"]
    assert [world.a.member.name, "河北省", ""] in rows
    assert all(r[0] != world.b.member.name for r in rows)  # grid B is not in A's report
