"""An ID still held by a merged (absorbed) record names the record it was merged into: a
re-import updates the survivor and a received list finds the survivor; after an undo, the
same ID names the restored record again."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from linli.intake.services import people_import
from linli.linkage import listmatch
from linli.linkage import services as svc
from linli.linkage.models import PersonMerge, WatchListEntry
from linli.register import services as reg
from linli.register.models import Person, PersonStatus, Residency
from tests.factories import World, make_national_id

pytestmark = pytest.mark.django_db

IMPORT_HEADER = "姓名,身份证号,楼栋,单元,房号,与户主关系,人员类别"


@pytest.fixture(autouse=True)
def _var(tmp_path: Path, settings: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def merged(world: World) -> dict[str, Any]:
    """Grid A's householder typed in again with another ID (a mistyped one the police list
    carried), merged into the householder: the kept record keeps its own ID, the absorbed
    one keeps the other."""
    other_id = make_national_id(dt.date(1951, 3, 9))
    dup = reg.person_create(
        actor=None,
        name=world.a.householder.name,
        national_id=other_id,
        grid=world.a.grid,
        source="police",
    )
    merge = svc.person_merge(
        actor=None,
        keep=world.a.householder,
        absorb=dup,
        reason="同一人",
        choices={"identity": "keep"},
    )
    dup.refresh_from_db()
    assert dup.status == PersonStatus.MERGED and dup.merged_into_id == world.a.householder.pk
    assert dup.id_bidx  # the absorbed record still holds the other ID
    return {"dup": dup, "other_id": other_id, "merge": merge}


def _roster(tmp_path: Path, name: str, national_id: str, residency: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(
        # No relation: after an undo the restored record joins the household as "other".
        f"{IMPORT_HEADER}\n{name},{national_id},1号楼,1单元,301,,{residency}\n",
        encoding="utf-8",
    )
    return path


def test_reimport_with_the_absorbed_id_updates_the_survivor(
    world: World, merged: dict[str, Any], tmp_path: Path
) -> None:
    head, dup = world.a.householder, merged["dup"]
    path = _roster(tmp_path, head.name, merged["other_id"], "流动人口")
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert result.counts == {"read": 1, "created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    head.refresh_from_db()
    assert head.residency == Residency.FLOATING
    assert head.provenance["residency"]["file"] == "roster.csv"
    before = dup.updated_at
    dup.refresh_from_db()
    assert dup.status == PersonStatus.MERGED and dup.updated_at == before
    assert dup.residency == Residency.REGISTERED


def test_rows_with_both_ids_of_one_merged_person(
    world: World, merged: dict[str, Any], tmp_path: Path
) -> None:
    head = world.a.householder
    path = tmp_path / "two.csv"
    path.write_text(
        f"{IMPORT_HEADER}\n"
        f"{head.name},{world.a.householder_id_number},1号楼,1单元,301,户主,户籍人口\n"
        f"{head.name},{merged['other_id']},1号楼,1单元,301,户主,流动人口\n",
        encoding="utf-8",
    )
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert result.counts["rejected"] == 1 and result.rejected[0].row == 3
    head.refresh_from_db()
    assert head.residency == Residency.REGISTERED


def test_after_an_undo_the_id_names_the_restored_record(
    world: World, merged: dict[str, Any], tmp_path: Path
) -> None:
    head, dup = world.a.householder, merged["dup"]
    svc.person_unmerge(actor=None, merge=PersonMerge.objects.get(pk=merged["merge"].pk))
    dup.refresh_from_db()
    assert dup.status == PersonStatus.LIVING and dup.merged_into_id is None
    path = _roster(tmp_path, head.name, merged["other_id"], "流动人口")
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert result.counts["updated"] == 1
    dup.refresh_from_db()
    head.refresh_from_db()
    assert dup.residency == Residency.FLOATING
    assert head.residency == Residency.REGISTERED


def _list(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "list.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["姓名", "身份证号", "来源地"], *rows])
    return path


@pytest.mark.parametrize("whole", [False, True], ids=["by-batch", "whole-index"])
def test_a_list_finds_the_survivor_then_after_undo_the_restored_record(
    world: World, merged: dict[str, Any], tmp_path: Path, monkeypatch: Any, whole: bool
) -> None:
    # Both ways of looking IDs up: a short list's batch queries and a long list's read of the
    # whole index (forced here by lowering the threshold).
    monkeypatch.setattr(listmatch, "SCAN_FROM_ROWS", 0 if whole else 10**9)
    head, dup = world.a.householder, merged["dup"]
    path = _list(tmp_path, [[head.name, merged["other_id"], "某市"]])
    first = svc.watch_list_match(actor=None, path=path, list_name="一", area=world.community)
    assert first.counts["exact"] == 1
    entry = WatchListEntry.objects.get(watch_list=first.watch_list)
    assert entry.person_id == head.pk and entry.reasons == ["id_exact"]
    # Outside the survivor's grid the ID finds nobody.
    in_b = svc.watch_list_match(actor=None, path=path, list_name="一", area=world.b.grid)
    assert in_b.counts["exact"] == 0
    svc.person_unmerge(actor=None, merge=PersonMerge.objects.get(pk=merged["merge"].pk))
    again = svc.watch_list_match(actor=None, path=path, list_name="二", area=world.community)
    entry = WatchListEntry.objects.get(watch_list=again.watch_list)
    assert entry.result == "exact" and entry.person_id == dup.pk


def test_a_chain_of_merges_ends_at_the_last_survivor(world: World, merged: dict[str, Any]) -> None:
    from linli.register.selectors import merge_survivors

    # The survivor of the first merge is absorbed in turn by grid A's member (a test only:
    # the point is the chain, not that they are the same person).
    svc.person_merge(
        actor=None,
        keep=world.a.member,
        absorb=world.a.householder,
        reason="链",
        choices={"identity": "keep"},
    )
    dup = Person.objects.get(pk=merged["dup"].pk)
    assert merge_survivors([dup])[dup.pk].pk == world.a.member.pk
