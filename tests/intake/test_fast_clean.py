"""The import's fast paths give exactly what the full cleaners give, and its JSON templates
exactly what encoding the documents gives; a write that fails in the background fails the
import, names its own rows and leaves nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from linli.intake import bulk
from linli.intake import writer as writer_module
from linli.intake.mapping import suggest_mapping
from linli.intake.models import ImportBatch, ImportStatus
from linli.intake.normalise import normalise_national_id, normalise_phone
from linli.intake.services import people_import
from linli.intake.writer import (
    PROVENANCE_OPTIONAL,
    Reject,
    Writer,
    _plain_national_id,
    clean_row,
)
from linli.register.models import Person, RegisterEvent, Tag
from tests.factories import World, make_national_id
from tests.intake.conftest import first17_with_check, make_id

VALID = make_national_id(dt.date(1970, 1, 1))
ENDS_IN_X = make_id(first17_with_check("X"))


@pytest.mark.parametrize(
    "raw",
    [
        VALID,
        ENDS_IN_X,
        ENDS_IN_X.lower(),  # lower-case x: the full path folds it
        VALID[:-1] + str((int(VALID[-1]) + 1) % 10) if VALID[-1] != "X" else VALID,  # check
        "370102" + "19700230" + "001" + "0",  # no such day (check digit aside)
        make_id("99999919700101001"),  # unknown region
        make_id("37010229991231001"),  # born in the future
        make_id("37010219700101001").replace("3", "３", 1),  # a full-width digit
        f" {VALID} ",
        VALID[:17],
        "",
    ],
)
def test_a_plain_id_is_what_the_full_cleaner_makes_of_it(raw: str) -> None:
    full = normalise_national_id(raw)
    fast = _plain_national_id(raw)
    if fast is not None:
        assert full.ok and full.value == fast
    row = {"name": "张三", "national_id": raw}
    if full.ok:
        assert clean_row(row, set(), {}).national_id == full.value
    else:
        with pytest.raises(Reject) as rejected:
            clean_row(row, set(), {})
        assert str(rejected.value.reason) == str(full.reason)


@pytest.mark.parametrize("phone", ["13800001111", "19912345678", "12800001111", "1380000111"])
def test_a_plain_mobile_is_what_the_full_cleaner_makes_of_it(phone: str) -> None:
    full = normalise_phone(phone)
    row = {"name": "张三", "phone": phone}
    if full.ok:
        clean = clean_row(row, set(), {})
        assert (clean.phone, clean.notes) == (full.value, "")
    else:
        with pytest.raises(Reject):
            clean_row(row, set(), {})


def _writer(world: World, file_name: str = 'a "b" 名单.csv') -> Writer:
    mapping = suggest_mapping(["姓名", "身份证号", "楼栋", "房号"])
    return Writer(
        actor=world.a.worker,
        area=world.a.grid,
        mapping=mapping,
        source="民政\\局",
        file_name=file_name,
    )


def test_the_provenance_template_is_the_encoded_stamps(world: World) -> None:
    writer = _writer(world)
    optional = PROVENANCE_OPTIONAL
    for bits in range(1 << len(optional)):
        given = tuple(bool(bits >> i & 1) for i in range(len(optional)))
        fields = ["name", "residency", *(f for f, g in zip(optional, given, strict=True) if g)]
        text = "1234".join(writer._provenance_template(given))
        assert text == json.dumps(writer._stamps(fields, 1234), ensure_ascii=False)
    assert "77".join(writer._row_data) == json.dumps(
        {"import": writer.file_name, "row": 77}, ensure_ascii=False
    )


def test_a_builder_queues_what_add_queues(world: World) -> None:
    inserts = bulk.Inserts([RegisterEvent])
    build = inserts.builder(RegisterEvent, ("id", "kind", "summary", "data", "grid_id"))
    build((5, "change", "s", bulk.RawJSON('{"a": 1}'), world.a.grid.pk))
    inserts.add(
        RegisterEvent, id=5, kind="change", summary="s", data={"a": 1}, grid_id=world.a.grid.pk
    )
    built, added = inserts.rows[RegisterEvent]
    assert built == added
    with pytest.raises(ValueError):
        inserts.builder(RegisterEvent, ("kind",))


def test_categories_are_read_once_per_cell() -> None:
    tag = Tag(pk=1, code="elderly", name="老年人")
    memo: dict[str, Any] = {}
    first = clean_row(
        {"name": "张三", "residency": "流动、老年人"}, set(), {"老年人": tag}, memo=memo
    )
    assert memo == {"流动、老年人": ("floating", (tag,))}
    again = clean_row({"name": "李四", "residency": "流动、老年人"}, set(), {}, memo=memo)
    assert (first.residency, first.tags) == (again.residency, again.tags) == ("floating", (tag,))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="rows are written in the background on PostgreSQL only",
)
def test_a_write_failing_in_the_background_fails_the_import_and_names_its_rows(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "BATCH_ROWS", 2)
    original = bulk._write
    calls: list[int] = []

    def fail_second(raw: Any, work: Any, constraints: str) -> None:
        if constraints:  # the flush of a batch's rows (not of its new dwellings)
            calls.append(1)
            if len(calls) == 2:
                raise psycopg.errors.UniqueViolation("duplicate key")
        original(raw, work, constraints)

    monkeypatch.setattr(bulk, "_write", fail_second)
    before = Person.objects.count()
    lines = [
        f"新{i},{make_national_id(dt.date(1990, 1, i + 1))},{i + 10}号楼,{i + 1}01"
        for i in range(5)
    ]
    path = tmp_path / "five.csv"
    path.write_text("\n".join(["姓名,身份证号,楼栋,房号", *lines]) + "\n", encoding="utf-8")
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert result.failed
    assert Person.objects.count() == before
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    # The second batch is rows 4–5 of the file (the header is row 1).
    assert batch.failure == "第 4–5 行：duplicate key 本次未导入任何数据。"
