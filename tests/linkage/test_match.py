"""Matching a received list: exact, probable, not found; flags; the report; re-runs."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from linli.audit.models import AuditEntry
from linli.linkage import services as svc
from linli.linkage.models import (
    ConcernCategory,
    ConcernFlag,
    FlagEvent,
    FlagStatus,
    WatchList,
    WatchListEntry,
)
from tests.factories import World, make_national_id

pytestmark = pytest.mark.django_db


def _swap_two_digits(number: str) -> str:
    """The same ID with two adjacent digits swapped (a typing slip: the check digit fails)."""
    i = 10
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def write_list(path: Path, world: World, *, member_id: str) -> Path:
    stranger = make_national_id(dt.date(1990, 1, 2))
    rows = [
        ["序号", "姓名", "身份证号", "联系电话", "来源地", "抵达时间"],
        [
            "1",
            world.a.householder.name,
            world.a.householder_id_number,
            "",
            "某市某区",
            "2026-11-01",
        ],
        ["2", world.b.householder.name, world.b.householder_id_number, "", "某市", "2026-11-02"],
        ["3", world.a.member.name, _swap_two_digits(member_id), "", "某省", "11月3日"],
        ["4", "赵六", stranger, "13700000000", '=HYPERLINK("http://x")', "2026-11-04"],
        ["5", "", "", "", "某地", ""],
        ["6", world.a.householder.name, "", world.a.householder_phone, "某市", "2026-11-05"],
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def city_list(tmp_path: Path, world: World) -> Path:
    from linli.register.models import Person

    member = Person.objects.get(pk=world.a.member.pk)
    # The member's plaintext ID, as the city's list carries it (the test world made it).
    member_id = world.a.member.reveal_national_id()
    assert member.id_bidx
    return write_list(tmp_path / "来返人员.csv", world, member_id=member_id)


@pytest.fixture
def category() -> ConcernCategory:
    return ConcernCategory.objects.get(code="risk_area_arrival")


def test_match_counts_flags_and_report(
    world: World, city_list: Path, category: ConcernCategory, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    result = svc.watch_list_match(
        actor=world.head,
        path=city_list,
        list_name="11月来返",
        area=world.community,
        category=category,
    )
    assert result.counts == {"rows": 6, "exact": 2, "probable": 2, "not_found": 1, "rejected": 1}
    entries = {e.row: e for e in WatchListEntry.objects.filter(watch_list=result.watch_list)}
    assert entries[2].result == "exact" and entries[2].person_id == world.a.householder.pk
    assert entries[3].result == "exact" and entries[3].person_id == world.b.householder.pk
    assert entries[4].result == "probable" and entries[4].person_id == world.a.member.pk
    # The register keeps no plaintext ID: the slip shows as the same last four digits.
    assert entries[4].reasons == ["id_tail", "name_exact"]
    assert entries[7].result == "probable" and entries[7].person_id == world.a.householder.pk
    assert entries[5].result == "not_found" and entries[5].person_id is None
    assert entries[6].result == "rejected"
    # Masked values only are stored.
    assert entries[2].id_masked == world.a.householder.id_masked
    assert entries[2].origin == "某市某区" and entries[2].arrived == "2026-11-01"
    # One flag per person (the householder is on the list twice), in the person's grid.
    flags = {f.person_id: f for f in ConcernFlag.objects.all()}
    assert set(flags) == {world.a.householder.pk, world.b.householder.pk, world.a.member.pk}
    assert flags[world.b.householder.pk].grid == world.b.grid
    assert (
        flags[world.a.householder.pk].reason
        == "在名单“11月来返”中（第 2 行）；某市某区，2026-11-01"
    )
    assert flags[world.a.member.pk].reason.startswith("疑似在名单“11月来返”中（第 4 行）")
    assert FlagEvent.objects.filter(kind="raised").count() == 3
    # The report: rows not found and unreadable, original cells, formula escaped.
    assert result.report_file is not None
    with result.report_file.open(encoding="utf-8-sig") as fh:
        report = list(csv.reader(fh))
    assert report[0] == ["序号", "姓名", "身份证号", "联系电话", "来源地", "抵达时间", "结果"]
    assert [r[0] for r in report[1:]] == ["4", "5"]
    assert report[1][4] == '\'=HYPERLINK("http://x")'
    assert report[1][6] == "库中未找到"
    assert AuditEntry.objects.filter(object_type="watchlist").count() == 1


def test_rerunning_the_same_list_changes_nothing(
    world: World, city_list: Path, category: ConcernCategory, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    first = svc.watch_list_match(
        actor=None, path=city_list, list_name="11月来返", area=world.community, category=category
    )
    counts = (
        WatchList.objects.count(),
        WatchListEntry.objects.count(),
        ConcernFlag.objects.count(),
    )
    again = svc.watch_list_match(
        actor=None, path=city_list, list_name="11月来返", area=world.community, category=category
    )
    assert again.repeated and again.watch_list == first.watch_list
    assert again.counts == first.counts
    assert (
        WatchList.objects.count(),
        WatchListEntry.objects.count(),
        ConcernFlag.objects.count(),
    ) == counts


def test_grid_scope_matches_only_its_grid(
    world: World, city_list: Path, category: ConcernCategory, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    with pytest.raises(PermissionDenied):
        svc.watch_list_match(
            actor=world.a.worker, path=city_list, list_name="x", area=world.community
        )
    assert WatchList.objects.count() == 0
    result = svc.watch_list_match(
        actor=world.a.worker, path=city_list, list_name="x", area=world.a.grid, category=category
    )
    # B's householder is not in grid A: not found there.
    assert result.counts == {"rows": 6, "exact": 1, "probable": 2, "not_found": 2, "rejected": 1}
    assert not ConcernFlag.objects.filter(grid=world.b.grid).exists()


def test_the_command_prints_the_counts(
    world: World, city_list: Path, settings: Any, tmp_path: Path, capsys: Any
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    call_command(
        "match",
        str(city_list),
        "--list-name",
        "11月来返",
        "--area",
        world.community.code,
        "--category",
        "health_code",
    )
    out = capsys.readouterr().out
    assert "共读取 6 行：比中 2 人，疑似比中 2 人，库中未找到 1 人，无法识别 1 行" in out
    assert "list-" in out and "not-found.csv" in out
    assert ConcernFlag.objects.filter(category__code="health_code").count() == 3


def test_follow_up_queue(
    world: World, city_list: Path, category: ConcernCategory, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    result = svc.watch_list_match(
        actor=None, path=city_list, list_name="11月来返", area=world.community, category=category
    )
    a = Client()
    a.force_login(world.a.worker)
    page = a.get(reverse("linkage:followups")).content.decode()
    assert world.a.householder.name in page and world.a.member.name in page
    assert world.b.householder.name not in page
    flag = ConcernFlag.objects.get(person=world.a.householder)
    # No note: refused, nothing changes.
    r = a.post(
        reverse("linkage:flag_action", args=[flag.pk, "follow_up"]), {"note": " "}, follow=True
    )
    assert "请填写处置情况" in r.content.decode()
    assert ConcernFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN
    a.post(
        reverse("linkage:flag_action", args=[flag.pk, "follow_up"]),
        {"note": "已电话联系，居家监测"},
    )
    flag.refresh_from_db()
    assert (flag.status, flag.note, flag.followed_up_by) == (
        "followed_up",
        "已电话联系，居家监测",
        world.a.worker,
    )
    assert list(flag.events.values_list("kind", flat=True)) == ["raised", "follow_up"]
    # Grid B's worker cannot touch it.
    b = Client()
    b.force_login(world.b.worker)
    other = ConcernFlag.objects.get(person=world.a.member)
    assert b.post(reverse("linkage:flag_action", args=[other.pk, "close"])).status_code == 404
    assert ConcernFlag.objects.get(pk=other.pk).status == FlagStatus.OPEN
    # The list page and its report: for the community's staff, audited.
    h = Client()
    h.force_login(world.head)
    detail = h.get(reverse("linkage:list_detail", args=[result.watch_list.pk])).content.decode()
    assert "赵六" in detail
    r = h.get(reverse("linkage:list_report", args=[result.watch_list.pk]))
    assert r.status_code == 200
    assert b"".join(r.streaming_content).decode("utf-8-sig").splitlines()[1].startswith("4,赵六")
    assert AuditEntry.objects.filter(action="export", object_type="watchlist").count() == 1
    assert a.get(reverse("linkage:list_detail", args=[result.watch_list.pk])).status_code == 404


def test_upload_from_the_workbench(
    world: World, city_list: Path, category: ConcernCategory, settings: Any, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.VAR_DIR = tmp_path / "var"
    h = Client()
    h.force_login(world.head)
    url = reverse("linkage:list_upload")
    assert h.get(url).status_code == 200
    junk = SimpleUploadedFile("名单.xlsx", b"not a workbook at all" * 10)
    r = h.post(url, {"name": "11月来返", "area": world.community.pk, "file": junk})
    body = r.content.decode()
    assert r.status_code == 200
    assert "实际上不是 Excel 工作簿" in body
    assert 'value="11月来返"' in body  # what was typed is kept
    assert WatchList.objects.count() == 0
    good = SimpleUploadedFile("来返人员.csv", city_list.read_bytes())
    r = h.post(
        url,
        {"name": "11月来返", "area": world.community.pk, "category": category.pk, "file": good},
    )
    watch_list = WatchList.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse(
        "linkage:list_detail", args=[watch_list.pk]
    )
    assert watch_list.counts == {
        "rows": 6,
        "exact": 2,
        "probable": 2,
        "not_found": 1,
        "rejected": 1,
    }
    assert ConcernFlag.objects.count() == 3
    assert list((tmp_path / "var" / "linkage" / "uploads").iterdir()) == []  # not kept
    # A grid worker may match only against their own grid: the community is not offered.
    a = Client()
    a.force_login(world.a.worker)
    again = SimpleUploadedFile("x.csv", city_list.read_bytes())
    r = a.post(url, {"name": "x", "area": world.community.pk, "file": again})
    assert r.status_code == 200 and WatchList.objects.count() == 1
