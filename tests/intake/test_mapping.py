"""Header recognition and the serialisable mapping."""

from __future__ import annotations

import json

import pytest

from linli.intake.mapping import (
    CONTAINED,
    EXACT,
    LOOSE,
    ColumnMatch,
    Mapping,
    fold_header,
    header_score,
    match_header,
    suggest_mapping,
)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("姓名", "name"),
        ("姓 名", "name"),
        ("身份证号", "national_id"),
        ("公民身份号码", "national_id"),
        ("证件号码", "national_id"),
        ("身份证号码", "national_id"),
        ("身份证号（18位）", "national_id"),
        ("*身份证号[必填]", "national_id"),
        ("联系电话", "phone"),
        ("手机号", "phone"),
        ("手机号码", "phone"),
        ("性别", "sex"),
        ("出生日期", "birth_date"),
        ("出生年月", "birth_date"),
        ("楼栋", "building"),
        ("楼号", "building"),
        ("单元", "entrance"),
        ("房号", "dwelling_number"),
        ("门牌号", "dwelling_number"),
        ("与户主关系", "relation"),
        ("户籍地址", "hukou_address"),
        ("现居住地址", "current_address"),
        ("现住址", "current_address"),
        ("人员类别", "residency"),
        ("人口类型", "residency"),
        ("备注", "notes"),
        ("　备　注：", "notes"),
    ],
)
def test_exact_headers(header: str, field: str) -> None:
    assert match_header(header) == (field, EXACT)


def test_loose_and_contained_headers() -> None:
    assert match_header("电话") == ("phone", LOOSE)
    assert match_header("栋") == ("building", LOOSE)
    assert match_header("室") == ("dwelling_number", LOOSE)
    assert match_header("本人手机号码") == ("phone", CONTAINED)
    assert match_header("序号") == (None, 0.0)
    assert match_header("车牌号") == (None, 0.0)


def test_fold_header() -> None:
    assert fold_header("身份证号（18位）") == "身份证号"
    assert fold_header("ＮＯ．") == "no."


def test_header_score_counts_known_names_and_row_numbers() -> None:
    assert header_score(["序号", "姓名", "身份证号", "宠物"]) == 3
    assert header_score(["花园社区2024年人口台账", ""]) == 0


def test_suggest_mapping() -> None:
    headers = ["序号", "姓名", "身份证号（18位）", "电话", "手机号码", "车牌号", "备注"]
    m = suggest_mapping(headers)
    assert m.fields == {"name": 1, "national_id": 2, "phone": 4, "notes": 6}
    assert [(c.index, c.header) for c in m.unmapped] == [(0, "序号"), (3, "电话"), (5, "车牌号")]
    assert m.columns[2] == ColumnMatch(2, "身份证号（18位）", "national_id", EXACT)
    assert "building" in m.missing and "name" not in m.missing
    assert m.extract(["1", "张三", "X", "", "13800138000"]) == {
        "name": "张三",
        "national_id": "X",
        "phone": "13800138000",
        "notes": "",
    }


def test_mapping_round_trips_through_json() -> None:
    m = suggest_mapping(["姓名", "身份证号", "联系电话", "其他"])
    data = json.loads(json.dumps(m.to_dict()))
    assert data["version"] == 1
    assert Mapping.from_dict(data) == m


def test_mapping_refuses_unknown_fields_and_versions() -> None:
    with pytest.raises(ValueError):
        Mapping.from_dict({"version": 1, "columns": [{"index": 0, "header": "x", "field": "pw"}]})
    with pytest.raises(ValueError):
        Mapping.from_dict({"version": 99, "columns": []})


def test_saved_mapping_follows_headers_to_new_positions() -> None:
    saved = Mapping(
        columns=[
            ColumnMatch(0, "姓名", "name", EXACT),
            ColumnMatch(1, "居住证号", "national_id", EXACT),  # fixed by the worker
        ]
    )
    again = saved.rebind(["居住证号", "新列", "姓名"])
    assert again.fields == {"national_id": 0, "name": 2}
    assert [c.header for c in again.unmapped] == ["新列"]
