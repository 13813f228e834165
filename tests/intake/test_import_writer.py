"""The batched write path of the people import: places, households, tags, provenance, moves,
batch boundaries, dry run, rollback, the audit chain and the lock against a double commit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError

from linli.audit.models import AuditEntry
from linli.audit.services import audit_verify_chain
from linli.intake import writer as writer_module
from linli.intake.models import ImportBatch, ImportKind, ImportStatus
from linli.intake.services import people_import
from linli.intake.writer import Writer
from linli.register.models import (
    Building,
    Dwelling,
    Entrance,
    EventKind,
    Household,
    HouseholdStatus,
    Membership,
    Person,
    PersonTag,
    RegisterEvent,
    Relation,
    Residency,
    Sex,
)
from tests.factories import World, make_national_id

MAN_1970 = make_national_id(dt.date(1970, 1, 1))
HEADER = "姓名,身份证号,性别,出生日期,楼栋,单元,房号,与户主关系,人员类别"


@pytest.fixture(autouse=True)
def _var(tmp_path: Path, settings: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"


def _csv(tmp_path: Path, name: str, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _everything() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (
            Building,
            Entrance,
            Dwelling,
            Household,
            Person,
            Membership,
            PersonTag,
            RegisterEvent,
            AuditEntry,
        )
    }


def _reasons(result: Any) -> list[tuple[int, str]]:
    from django.utils import translation

    with translation.override("zh-hans"):
        return [(r.row, str(r.reason)) for r in result.rejected]


def test_new_building_entrance_dwelling_and_household_in_the_grid(
    world: World, tmp_path: Path
) -> None:
    head_id = make_national_id(dt.date(1960, 1, 2))
    path = _csv(
        tmp_path,
        "民政.csv",
        [
            f"陈一,{head_id},男,,5号楼,2单元,502,户主,户籍、独居老人",
            "陈二,,女,1962年4月1日,5号楼,2单元,0502,配偶,流动",
        ],
    )
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid, source="民政")
    assert result.counts == {"read": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0}

    building = Building.objects.get(name="5号楼")
    assert (building.grid, building.estate.name, building.floors) == (world.a.grid, "测试小区", 6)
    dwelling = Dwelling.objects.get(building=building)
    assert dwelling.entrance is not None and dwelling.entrance.name == "2单元"
    assert (dwelling.number, dwelling.floor, dwelling.grid) == ("502", 5, world.a.grid)
    assert dwelling.address == "测试小区5号楼2单元502"

    chen1, chen2 = Person.objects.get(name="陈一"), Person.objects.get(name="陈二")
    household = Household.objects.get(dwelling=dwelling)
    assert household.householder == chen1 and household.grid == world.a.grid
    assert (chen1.relation, chen1.sex, chen1.birth_date) == (
        Relation.SELF,
        Sex.MALE,
        dt.date(1960, 1, 2),
    )
    assert (chen2.relation, chen2.sex, chen2.birth_date) == (
        Relation.SPOUSE,
        Sex.FEMALE,
        dt.date(1962, 4, 1),
    )
    assert (chen1.residency, chen2.residency) == (Residency.REGISTERED, Residency.FLOATING)
    assert chen1.reveal_national_id() == head_id and chen1.id_masked.endswith(head_id[-4:])
    assert [t.code for t in chen1.tags.all()] == ["elderly_alone"]
    assert not chen2.tags.exists()
    assert sorted(m.relation for m in Membership.objects.filter(household=household)) == [
        Relation.SELF,
        Relation.SPOUSE,
    ]

    # Provenance per field: which source, which file, which row, when, by whom.
    stamp = chen1.provenance["national_id"]
    assert {k: stamp[k] for k in ("source", "file", "row", "by")} == {
        "source": "民政",
        "file": "民政.csv",
        "row": 2,
        "by": world.a.worker.pk,
    }
    assert chen2.provenance["birth_date"]["row"] == 3
    assert "national_id" not in chen2.provenance and "phone" not in chen1.provenance

    # The timelines: the household moved in, each person moved in, the tag was added.
    assert list(
        RegisterEvent.objects.filter(household=household, person=None).values_list(
            "kind", flat=True
        )
    ) == [EventKind.MOVE_IN]
    assert sorted(RegisterEvent.objects.filter(person=chen1).values_list("kind", flat=True)) == [
        EventKind.MOVE_IN,
        EventKind.TAGGED,
    ]
    move_in = RegisterEvent.objects.get(person=chen2)
    assert move_in.summary == "迁入 测试小区5号楼2单元502"
    assert move_in.data == {"import": "民政.csv", "row": 3}
    assert move_in.actor == world.a.worker

    # One audit entry for the batch names what it created; the chain still verifies.
    entry = AuditEntry.objects.get(object_label="民政.csv 2–3")
    assert entry.area == world.a.grid and entry.actor == world.a.worker
    assert entry.changes["persons_created"] == [chen1.pk, chen2.pk]
    assert entry.changes["households_created"] == [household.pk]
    assert entry.changes["dwellings_created"] == [dwelling.pk]
    assert audit_verify_chain()[1] is None


def test_a_community_import_needs_the_grid_of_a_new_building(world: World, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "c.csv",
        [
            "甲,,男,,7号楼,,101,户主,,,网格B",
            "乙,,男,,8号楼,,101,户主,,,",
            "丙,,男,,9号楼,,101,户主,,,网格Z",
            "丁,,男,,1号楼,1单元,302,户主,,,",
        ],
        header=HEADER + ",备注,网格",
    )
    before = Building.objects.count()
    result = people_import(actor=world.head, path=path, area=world.community)
    assert result.counts == {"read": 4, "created": 2, "updated": 0, "unchanged": 0, "rejected": 2}
    assert _reasons(result) == [
        (
            3,
            "8号楼 101：测试社区的登记册中没有这栋楼。"
            "如需新建，请在“网格”列填写所属网格，或导入到该网格。",
        ),
        (4, "网格Z：测试社区没有这个网格。"),
    ]
    assert Building.objects.count() == before + 1
    assert Building.objects.get(name="7号楼").grid == world.b.grid
    assert Person.objects.get(name="甲").grid == world.b.grid
    # An existing dwelling is found without a grid column.
    assert Person.objects.get(name="丁").household.dwelling.number == "302"  # type: ignore[union-attr]


def test_a_building_of_the_estate_in_another_grid_is_not_created_twice(
    world: World, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "x.csv", ["孙某,,男,,2号楼,1单元,303,户主,"])
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert _reasons(result) == [(2, "2号楼 1单元 303：测试小区的这栋楼不在网格A范围内。")]
    assert Building.objects.filter(name="2号楼").count() == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "甲,,男,,1号楼,1单元,302,户主,流动、火星人",
            "火星人：不是已知的人员类别。"
            "请填写 户籍、常住、流动 或 租户，或登记册中已有的标签名称。",
        ),
        (
            f"甲,{MAN_1970},女,,1号楼,1单元,302,户主,",
            "文件中的性别与身份证号不符。",
        ),
        (
            f"甲,{MAN_1970},,1971-01-01,1号楼,1单元,302,户主,",
            "文件中的出生日期与身份证号不符。",
        ),
        ("甲,,男,2999-01-01,1号楼,1单元,302,户主,", "2999-01-01：年份不合理。"),
        ("甲,,未知,,1号楼,1单元,302,户主,", "未知：请填写“男”或“女”。"),
    ],
)
def test_bad_values_reject_the_row(world: World, tmp_path: Path, line: str, reason: str) -> None:
    before = _everything()
    result = people_import(actor=None, path=_csv(tmp_path, "r.csv", [line]), area=world.a.grid)
    assert _reasons(result) == [(2, reason)]
    after = _everything()
    # Only the import's own audit entry is new.
    assert after == before | {"AuditEntry": before["AuditEntry"] + 1}


def test_categories_add_tags_to_people_already_registered(world: World, tmp_path: Path) -> None:
    nid = world.a.householder_id_number
    path = _csv(tmp_path, "t.csv", [f"张建国,{nid},,,1号楼,1单元,301,户主,党员、退役军人"])
    result = people_import(actor=None, path=path, area=world.a.grid)
    assert result.counts["updated"] == 1
    head = world.a.householder
    assert sorted(head.tags.values_list("code", flat=True)) == ["party_member", "veteran"]
    event = RegisterEvent.objects.get(person=head, kind=EventKind.TAGGED)
    assert event.summary == "党员, 退役军人"
    # The same categories again: nothing new.
    again = _csv(tmp_path, "t2.csv", [f"张建国,{nid},,,1号楼,1单元,301,户主,党员"])
    assert people_import(actor=None, path=again, area=world.a.grid).counts["unchanged"] == 1
    assert RegisterEvent.objects.filter(person=head, kind=EventKind.TAGGED).count() == 1


def test_a_person_in_another_dwelling_moves_there(world: World, tmp_path: Path) -> None:
    member = world.a.member
    member_id = member.reveal_national_id()
    new_id = make_national_id(dt.date(1988, 8, 8))
    first = _csv(tmp_path, "m1.csv", [f"周新,{new_id},,,1号楼,1单元,302,户主,"])
    people_import(actor=None, path=first, area=world.a.grid)
    mover = Person.objects.get(name="周新")
    old_household = mover.household
    assert old_household is not None

    # Next month: 周新 lives in 303 (a dwelling the register does not have yet), and the
    # child of household A has moved in with 周新's old household in 302.
    second = _csv(
        tmp_path,
        "m2.csv",
        [f"周新,{new_id},,,1号楼,1单元,303,户主,", f"张小A,{member_id},,,1号楼,1单元,302,女儿,"],
    )
    result = people_import(actor=world.a.worker, path=second, area=world.a.grid)
    assert result.counts == {"read": 2, "created": 0, "updated": 2, "unchanged": 0, "rejected": 0}

    mover.refresh_from_db()
    assert mover.household is not None and mover.household != old_household
    assert mover.household.dwelling is not None and mover.household.dwelling.number == "303"
    assert mover.household.householder == mover and mover.relation == Relation.SELF
    old_household.refresh_from_db()
    assert old_household.householder is None
    spans = list(Membership.objects.filter(person=mover).order_by("id"))
    assert [(s.household_id, s.ended_on is not None) for s in spans] == [
        (old_household.pk, True),
        (mover.household.pk, False),
    ]
    assert RegisterEvent.objects.filter(person=mover, kind=EventKind.MOVE_HOUSE).count() == 1

    member.refresh_from_db()
    assert member.household == old_household and member.relation == Relation.CHILD
    assert old_household.status == HouseholdStatus.ACTIVE
    entry = AuditEntry.objects.filter(object_label="m2.csv 2–3").get()
    # Moves into households already there go first, so 302 is never left empty.
    assert entry.changes["persons_moved"] == [member.pk, mover.pk]
    assert audit_verify_chain()[1] is None


def test_a_repeated_id_across_two_batches_of_2000_is_rejected(world: World, tmp_path: Path) -> None:
    ids = [make_national_id(dt.date(1940, 1, 1) + dt.timedelta(days=i)) for i in range(2000)]
    lines = [f"测试{i},{nid},,,1号楼,1单元,302,,流动" for i, nid in enumerate(ids)]
    lines.append(f"重复,{ids[9]},,,1号楼,1单元,302,,")
    calls: list[tuple[int, int]] = []
    result = people_import(
        actor=None,
        path=_csv(tmp_path, "big.csv", lines),
        area=world.a.grid,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert result.counts == {
        "read": 2001,
        "created": 2000,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    assert _reasons(result) == [(2002, "该身份证号在文件前面的行中已出现。")]
    # (0, expected) first, then every 1% of the expected rows (21, rounded up) as rows join
    # the batch being written, then (read, read): the contract intake.jobs relies on.
    assert calls == [(0, 2001)] + [(k * 21, 2001) for k in range(1, 96)] + [(2001, 2001)]
    # Two batches, two audit entries, one chain.
    labels = list(
        AuditEntry.objects.filter(object_label__startswith="big.csv ")
        .order_by("id")
        .values_list("object_label", flat=True)
    )
    # The second batch (row 2002) wrote nothing, so it has no entry of its own.
    assert labels == ["big.csv 2–2001"]
    assert AuditEntry.objects.filter(object_label="big.csv", object_type="importbatch").count() == 1
    assert audit_verify_chain()[1] is None


def test_a_repeated_name_in_one_dwelling_is_rejected(world: World, tmp_path: Path) -> None:
    path = _csv(tmp_path, "n.csv", ["吴某,,,,1号楼,1单元,302,户主,", "吴某,,,,1号楼,1单元,0302,,"])
    result = people_import(actor=None, path=path, area=world.a.grid)
    assert _reasons(result) == [(3, "同一房屋中同名人员在文件前面的行中已出现。")]
    assert Person.objects.filter(name="吴某").count() == 1


def _five_new(tmp_path: Path) -> Path:
    return _csv(
        tmp_path,
        "five.csv",
        [
            f"新{i},{make_national_id(dt.date(1990, 1, i + 1))},,,{i + 10}号楼,1单元,{i + 1}01,"
            "户主,独居老人"
            for i in range(5)
        ],
    )


def test_dry_run_leaves_nothing(world: World, tmp_path: Path) -> None:
    before = _everything()
    result = people_import(
        actor=world.a.worker, path=_five_new(tmp_path), area=world.a.grid, dry_run=True
    )
    assert result.counts["created"] == 5
    assert _everything() == before
    assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED


def test_a_failure_in_the_last_batch_rolls_back_the_first(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "BATCH_ROWS", 2)
    original = Writer._create
    calls: list[int] = []

    def fail_third(self: Writer, items: Any, done: Any) -> None:
        calls.append(len(items))
        if len(calls) == 3:
            raise DatabaseError("disk full")
        original(self, items, done)

    monkeypatch.setattr(Writer, "_create", fail_third)
    before = _everything()
    result = people_import(actor=world.a.worker, path=_five_new(tmp_path), area=world.a.grid)
    assert calls == [2, 2, 1]
    assert result.failed
    assert _everything() == before
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    assert batch.failure == "第 6 行：disk full 本次未导入任何数据。"


def test_an_import_that_waited_for_the_same_file_commits_nothing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports of one file: the second passes the first check before the first commits,
    then waits for the community's lock; under the lock it finds the first committed."""
    import hashlib

    from linli.intake import services

    path = _five_new(tmp_path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    original = services._lock_area
    other: list[ImportBatch] = []

    def lock_after_the_other_commits(area: Any) -> None:
        other.append(
            ImportBatch.objects.create(
                source="import",
                file_name=path.name,
                file_sha256=sha,
                kind=ImportKind.PEOPLE,
                area=area,
                status=ImportStatus.COMMITTED,
                counts={"read": 5},
            )
        )
        original(area)

    monkeypatch.setattr(services, "_lock_area", lock_after_the_other_commits)
    before = _everything()
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid)
    assert result.already_committed == other[0]
    assert result.counts == {"read": 5, "created": 0, "updated": 0, "unchanged": 5, "rejected": 0}
    assert _everything() == before


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_imports_of_one_file_commit_once(
    tmp_path: Path, migration_seeds: None
) -> None:
    """Real concurrency needs a server database: on PostgreSQL two threads import the same
    file at once; the community's row lock lets one commit and shows the other the commit."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite admits one writer at a time by itself; run with DATABASE_URL")
    from tests.factories import make_world

    world = make_world()
    path = _five_new(tmp_path)
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(people_import(actor=None, path=path, area=world.a.grid))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert sorted(r.already_committed is not None for r in results) == [False, True]
    assert ImportBatch.objects.filter(status=ImportStatus.COMMITTED).count() == 1
    assert Person.objects.filter(name__startswith="新").count() == 5


def test_an_id_of_another_jurisdiction_leaves_a_trace_there_even_in_a_dry_run(
    world: World, tmp_path: Path
) -> None:
    from linli.audit.models import AuditAction

    nid = world.b.householder_id_number
    path = _csv(tmp_path, "probe.csv", [f"李建国,{nid},,,1号楼,1单元,302,户主,"])
    result = people_import(actor=world.a.worker, path=path, area=world.a.grid, dry_run=True)
    assert _reasons(result) == [(2, "该身份证号已在其他辖区登记，请联系社区办理迁转。")]
    entry = AuditEntry.objects.get(action=AuditAction.REFUSED)
    assert (entry.actor, entry.area, entry.object_id) == (
        world.a.worker,
        world.b.grid,
        str(world.b.householder.pk),
    )
    assert entry.object_label == world.b.householder.id_masked
    assert audit_verify_chain()[1] is None


def test_a_building_the_import_creates_grows_to_its_highest_floor(
    world: World, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "tall.csv",
        ["高一,,男,,20号楼,1单元,301,户主,", "高二,,男,,20号楼,1单元,1702,户主,"],
    )
    result = people_import(actor=None, path=path, area=world.a.grid)
    assert result.counts["created"] == 2
    building = Building.objects.get(name="20号楼")
    assert building.floors == 17
    assert sorted(Dwelling.objects.filter(building=building).values_list("floor", flat=True)) == [
        3,
        17,
    ]
    # An existing building keeps its floor count: a flat above it is refused.
    high = _csv(tmp_path, "high.csv", ["高三,,男,,1号楼,1单元,1701,户主,"])
    assert _reasons(people_import(actor=None, path=high, area=world.a.grid)) == [
        (2, "1号楼 1单元 1701：房号表示第 17 层，但登记的 1号楼 只有 6 层。")
    ]


def test_an_import_analyses_the_tables_it_doubled_and_writes_the_same(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: once a written table doubled (and grew by at least 3 rows here), the
    import analyses it between batches, before the batch's lookups; the rows are the same."""
    from django.db import connection

    from linli.intake import bulk

    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE is run on PostgreSQL only; run with DATABASE_URL")
    with connection.cursor() as cur:
        # What the table held at its last analysis (earlier tests may have left statistics).
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'register_person'::regclass")
        held = max(int(cur.fetchone()[0]), 0)
    n = held + 7
    lines = [
        f"析{i},{make_national_id(dt.date(1950, 1, 1) + dt.timedelta(days=i))},,,"
        f"{i // 100 + 20}号楼,1单元,{i % 100 // 4 + 1}0{i % 4 + 1},户主,"
        for i in range(n)
    ]
    monkeypatch.setattr(writer_module, "BATCH_ROWS", max(2, n // 4))
    monkeypatch.setattr(bulk, "ANALYZE_MIN_ROWS", 3)
    seen: list[Writer] = []
    analyze = Writer._analyze

    def spy(self: Writer) -> None:
        analyze(self)
        seen.append(self)

    monkeypatch.setattr(Writer, "_analyze", spy)
    before = _everything()
    result = people_import(
        actor=world.a.worker, path=_csv(tmp_path, "many.csv", lines), area=world.a.grid
    )
    assert result.counts == {"read": n, "created": n, "updated": 0, "unchanged": 0, "rejected": 0}
    analysed = seen[-1].analysed
    assert "register_person" in {t for _read, tables in analysed for t in tables}
    assert all(0 < read <= n for read, _tables in analysed)
    after = _everything()
    assert after["Person"] - before["Person"] == n
    assert after["Household"] - before["Household"] == n
