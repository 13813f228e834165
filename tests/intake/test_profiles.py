"""Named mapping profiles: save, update, delete, scope, fitting a file, and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from linli.audit.models import AuditEntry
from linli.intake.mapping import ColumnMatch, Mapping, suggest_mapping
from linli.intake.models import MappingProfile
from linli.intake.profiles import (
    mapping_profile_delete,
    mapping_profile_fitting,
    mapping_profile_named,
    mapping_profile_save,
    mapping_profiles,
    profile_fits,
)
from linli.register.models import Person
from tests.factories import World

# A police-station list whose name column is headed 户主/成员 (not recognised).
HEADERS = ["序号", "户主/成员", "身份证号", "楼栋", "单元", "房号"]


def _fixed(headers: list[str] = HEADERS) -> Mapping:
    m = suggest_mapping(headers)
    cols = [
        ColumnMatch(c.index, c.header, "name", 1.0) if c.header == "户主/成员" else c
        for c in m.columns
    ]
    return Mapping(columns=cols)


def test_save_creates_then_updates_the_profile_of_that_name(world: World) -> None:
    p = mapping_profile_save(
        actor=world.a.worker,
        area=world.a.grid,
        name=" 派出所  名单 ",
        source="派出所",
        mapping=_fixed(),
    )
    assert (p.name, p.source, p.area, p.created_by) == (
        "派出所 名单",
        "派出所",
        world.a.grid,
        world.a.worker,
    )
    assert Mapping.from_dict(p.mapping).fields == {
        "name": 1,
        "national_id": 2,
        "building": 3,
        "entrance": 4,
        "dwelling_number": 5,
    }
    # The same name again updates it; nothing new is created.
    fewer = Mapping(
        columns=[
            c if c.field != "entrance" else ColumnMatch(c.index, c.header, None, 0)
            for c in _fixed().columns
        ]
    )
    again = mapping_profile_save(
        actor=world.a.worker, area=world.a.grid, name="派出所 名单", source="派出所", mapping=fewer
    )
    assert again.pk == p.pk
    assert MappingProfile.objects.count() == 1
    assert "entrance" not in Mapping.from_dict(again.mapping).fields
    actions = list(
        AuditEntry.objects.filter(object_type="mappingprofile")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "change"]
    # Saving the same thing once more is a no-op (no audit entry).
    mapping_profile_save(
        actor=world.a.worker, area=world.a.grid, name="派出所 名单", source="派出所", mapping=fewer
    )
    assert AuditEntry.objects.filter(object_type="mappingprofile").count() == 2


def test_the_same_name_may_live_in_two_areas(world: World) -> None:
    mapping_profile_save(
        actor=None, area=world.a.grid, name="月报", source="网格", mapping=_fixed()
    )
    mapping_profile_save(
        actor=None, area=world.b.grid, name="月报", source="网格", mapping=_fixed()
    )
    assert MappingProfile.objects.filter(name="月报").count() == 2


@pytest.mark.parametrize(
    ("name", "mapping", "key"),
    [
        ("", _fixed(), "name"),
        ("x" * 101, _fixed(), "name"),
        ("缺列", suggest_mapping(HEADERS), "mapping"),  # no name column
    ],
)
def test_unusable_profiles_are_refused(world: World, name: str, mapping: Mapping, key: str) -> None:
    with pytest.raises(ValidationError) as exc:
        mapping_profile_save(
            actor=world.a.worker, area=world.a.grid, name=name, source="s", mapping=mapping
        )
    assert list(exc.value.message_dict) == [key]
    assert not MappingProfile.objects.exists()


def test_a_field_fed_twice_is_refused(world: World) -> None:
    cols = [*_fixed().columns, ColumnMatch(6, "姓名", "name", 1.0)]
    with pytest.raises(ValidationError) as exc:
        mapping_profile_save(
            actor=None, area=world.a.grid, name="重复", source="s", mapping=Mapping(columns=cols)
        )
    assert exc.value.message_dict["mapping"] == ["每个字段只能对应一列；有字段被选了两次。"]


def test_profiles_outside_the_jurisdiction_are_invisible_and_untouchable(world: World) -> None:
    pa = mapping_profile_save(
        actor=None, area=world.a.grid, name="A表", source="s", mapping=_fixed()
    )
    pb = mapping_profile_save(
        actor=None, area=world.b.grid, name="B表", source="s", mapping=_fixed()
    )
    assert list(mapping_profiles(user=world.a.worker)) == [pa]
    assert list(mapping_profiles(user=world.head)) == [pa, pb]
    assert mapping_profile_named(user=world.a.worker, area=world.b.grid, name="B表") is None
    with pytest.raises(PermissionDenied):
        mapping_profile_save(
            actor=world.a.worker, area=world.b.grid, name="B表", source="x", mapping=_fixed()
        )
    with pytest.raises(PermissionDenied):
        mapping_profile_delete(actor=world.a.worker, profile=pb)
    pb.refresh_from_db()
    assert pb.source == "s"
    mapping_profile_delete(actor=world.b.worker, profile=pb)
    assert list(MappingProfile.objects.all()) == [pa]
    # Deleting again changes nothing and does not fail.
    mapping_profile_delete(actor=world.b.worker, profile=pb)
    assert AuditEntry.objects.filter(object_type="mappingprofile", action="delete").count() == 1


def test_a_community_profile_serves_its_grids_the_nearest_first(world: World) -> None:
    up = mapping_profile_save(
        actor=None, area=world.community, name="表", source="s", mapping=_fixed()
    )
    assert mapping_profile_named(user=None, area=world.a.grid, name="表") == up
    own = mapping_profile_save(
        actor=None, area=world.a.grid, name="表", source="s", mapping=_fixed()
    )
    assert mapping_profile_named(user=None, area=world.a.grid, name="表") == own
    assert mapping_profile_named(user=None, area=world.b.grid, name="表") == up
    # A grid worker does not see the community's profile (it is outside their scope).
    own.delete()
    assert mapping_profile_named(user=world.a.worker, area=world.a.grid, name="表") is None
    assert mapping_profile_named(user=world.head, area=world.a.grid, name="表") == up


def test_a_profile_fits_the_same_headers_in_any_order_only(world: World) -> None:
    p = mapping_profile_save(
        actor=None, area=world.a.grid, name="表", source="派出所", mapping=_fixed()
    )
    assert profile_fits(p, list(reversed(HEADERS)))
    assert profile_fits(p, [*HEADERS, ""])  # an empty header cell is no column
    assert not profile_fits(p, [*HEADERS, "工作单位"])  # a new column: ask the worker
    assert not profile_fits(p, HEADERS[:-1])  # the dwelling number column is gone
    found = mapping_profile_fitting(
        user=world.a.worker, area=world.a.grid, source="派出所", headers=list(reversed(HEADERS))
    )
    assert found == p
    assert (
        mapping_profile_fitting(
            user=world.a.worker, area=world.a.grid, source="民政", headers=HEADERS
        )
        is None
    )
    assert (
        mapping_profile_fitting(
            user=world.b.worker, area=world.a.grid, source="派出所", headers=HEADERS
        )
        is None
    )


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def police_csv(world: World, tmp_path: Path, settings: Any) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    path = tmp_path / "police.csv"
    path.write_text(
        ",".join(HEADERS) + "\n" + f"1,张建国,{world.a.householder_id_number},1号楼,1单元,301\n"
        "2,新人,,1号楼,1单元,302\n",
        encoding="utf-8",
    )
    return path


def _import(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_cli_saves_and_uses_a_profile_by_name(
    world: World, police_csv: Path, tmp_path: Path
) -> None:
    code = world.a.grid.code
    # Without a mapping the name column is not recognised: nothing can be imported.
    with pytest.raises(CommandError):
        _import(str(police_csv), "--area", code, "--dry-run")
    # The old way still works: a JSON mapping file, and it can be saved as a profile.
    js = tmp_path / "m.json"
    js.write_text(json.dumps(_fixed().to_dict()), encoding="utf-8")
    out = _import(
        str(police_csv),
        "--area",
        code,
        "--mapping",
        str(js),
        "--save-mapping",
        "派出所表",
        "--source",
        "派出所",
        "--dry-run",
    )
    assert "映射已保存为方案 派出所表。" in out
    assert not Person.objects.filter(name="新人").exists()
    profile = MappingProfile.objects.get()
    assert (profile.name, profile.source, profile.area) == ("派出所表", "派出所", world.a.grid)
    # Next month: the profile by name, no JSON file.
    out = _import(str(police_csv), "--area", code, "--mapping", "派出所表", "--source", "派出所")
    assert "读取 2 行：新建 1，更新 0，无变化 1，拒绝 0" in out
    assert Person.objects.filter(name="新人").count() == 1
    # Not a tty: no progress line (no carriage return) in the output.
    assert "\r" not in out


def test_cli_unknown_profile_is_a_clear_error(world: World, police_csv: Path) -> None:
    with pytest.raises(CommandError) as exc:
        _import(str(police_csv), "--area", world.a.grid.code, "--mapping", "没有这个")
    assert str(exc.value) == f"{world.a.grid.name} 没有名为 没有这个 的映射方案。"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_prints_a_progress_line_on_a_terminal(world: World, police_csv: Path) -> None:
    mapping_profile_save(actor=None, area=world.a.grid, name="表", source="s", mapping=_fixed())
    out = _Tty()
    call_command(
        "import", str(police_csv), "--area", world.a.grid.code, "--mapping", "表", stdout=out
    )
    text = out.getvalue()
    assert "\r正在导入：2 / 2 行（100%）\n" in text
    assert text.splitlines()[-1].startswith("已导入（批次")
