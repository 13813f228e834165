"""The shipped template library: forms communities are really asked for, fed by the register.

Each entry is a spec (linli/reports/spec.py) keyed by its code; ``linli report load-library``
loads them (idempotent: a changed spec becomes a new version). The titles, header blocks
(填报单位 / 填报人 / 联系电话 / 填报日期, signature lines) and columns follow the paper forms;
they are data in the deployment's language, like a form a department sends down.

Templates that need other capabilities' records (arrivals, home quarantine, test rounds,
vaccination, work orders, volunteer hours) are shipped by those capabilities from their own
``report_sources`` module with ``registry.register_template`` next to their row sets.
"""

from __future__ import annotations

from typing import Any

_INFO = ["填报单位：{area}", "填报人：", "联系电话：", "填报日期：{date}"]
_FOOTER = ["负责人（签字）：", "审核人：", "填报人："]


def _col(source: str, label: str, group: str = "", width: int | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"source": source, "label": label}
    if group:
        c["group"] = group
    if width:
        c["width"] = width
    return c


def _ledger(title: str, rowset: str, columns: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    header = {"title": title, "info": _INFO, "footer": _FOOTER}
    header.update(extra.pop("header", {}))
    return {"kind": "ledger", "rowset": rowset, "header": header, "columns": columns, **extra}


LIBRARY: dict[str, dict[str, Any]] = {
    "floating-population": _ledger(
        "{community}流动人口登记表",
        "register.person",
        [
            _col("seq", "序号"),
            _col("name", "姓名", "基本情况"),
            _col("sex", "性别", "基本情况"),
            _col("birth_date", "出生日期", "基本情况"),
            _col("national_id", "公民身份号码", "基本情况"),
            _col("phone", "联系电话", "基本情况"),
            _col("residency", "人口类别", "居住情况"),
            _col("address", "现住址", "居住情况"),
            _col("dwelling_use", "住所类型", "居住情况"),
            _col("registered_on", "登记日期", "居住情况"),
            _col("grid", "所属网格"),
            _col("manual", "备注", width=14),
        ],
        header={"department": "公安派出所", "unit": ""},
        filters={"status": "living", "residency": ["floating", "tenant"]},
        group_by="grid",
        subtotals=True,
    ),
    "rented-dwellings": _ledger(
        "{community}出租房屋登记表",
        "register.dwelling",
        [
            _col("seq", "序号"),
            _col("address", "房屋地址", "房屋情况"),
            _col("estate", "小区", "房屋情况"),
            _col("floor_area", "建筑面积（㎡）", "房屋情况"),
            _col("householders", "承租人", "承租情况"),
            _col("residents", "居住人数", "承租情况"),
            _col("tenants", "其中流动人口", "承租情况"),
            _col("grid", "所属网格"),
            _col("manual", "治安责任书签订", width=12),
            _col("manual", "备注", width=12),
        ],
        header={"department": "公安派出所 / 住建部门"},
        filters={"use": ["rented"]},
        group_by="grid",
        subtotals=True,
    ),
    "elderly-alone-care": _ledger(
        "{community}独居老人关爱台账",
        "register.person",
        [
            _col("seq", "序号"),
            _col("name", "姓名"),
            _col("sex", "性别"),
            _col("age", "年龄"),
            _col("national_id", "公民身份号码"),
            _col("phone", "联系电话"),
            _col("address", "家庭住址"),
            _col("tags", "其他情况（标签）"),
            _col("grid", "所属网格"),
            _col("manual", "走访日期", "关爱走访", width=10),
            _col("manual", "走访情况", "关爱走访", width=18),
            _col("manual", "走访人", "关爱走访", width=8),
        ],
        header={"department": "民政部门"},
        filters={"status": "living", "tags_any": ["elderly_alone"]},
        sort=[{"source": "age", "descending": True}],
        group_by="grid",
        subtotals=True,
    ),
    "special-groups": _ledger(
        "{community}特殊人群台账",
        "register.person",
        [
            _col("seq", "序号"),
            _col("name", "姓名"),
            _col("sex", "性别"),
            _col("age", "年龄"),
            _col("national_id", "公民身份号码"),
            _col("phone", "联系电话"),
            _col("address", "现住址"),
            _col("tags", "类别"),
            _col("household_size", "家庭人数"),
            _col("grid", "所属网格"),
            _col("manual", "帮扶措施", width=16),
        ],
        header={"department": "民政部门 / 残联"},
        filters={
            "status": "living",
            "tags_any": ["disabled", "low_income", "chronic_illness", "pregnant"],
        },
        group_by="grid",
        subtotals=True,
    ),
    "key-persons": _ledger(
        "{community}重点人员台账",
        "register.person",
        [
            _col("seq", "序号"),
            _col("name", "姓名"),
            _col("sex", "性别"),
            _col("age", "年龄"),
            _col("national_id", "公民身份号码"),
            _col("phone", "联系电话"),
            _col("address", "现住址"),
            _col("residency", "人口类别"),
            _col("tags", "人员类别"),
            _col("grid", "所属网格"),
            _col("manual", "管控措施", width=14),
            _col("manual", "责任人", width=8),
        ],
        header={"department": "综治中心 / 公安派出所"},
        filters={"status": "living", "tags_any": ["key_person"]},
        group_by="grid",
        subtotals=True,
    ),
    "household-roster": _ledger(
        "{community}实有人口花名册",
        "register.person",
        [
            _col("seq", "序号"),
            _col("address", "住址", width=26),
            _col("householder", "户主姓名"),
            _col("name", "姓名"),
            _col("relation", "与户主关系"),
            _col("sex", "性别"),
            _col("birth_date", "出生日期"),
            _col("national_id", "公民身份号码"),
            _col("residency", "人口类别"),
            _col("phone", "联系电话"),
        ],
        header={"department": "社区居委会"},
        filters={"status": "living"},
        group_by="grid",
        subtotals=True,
    ),
    "grid-population": {
        "kind": "statistics",
        "rowset": "register.person",
        "header": {
            "title": "{area}网格人口统计表",
            "info": _INFO,
            "unit": "单位：人",
            "footer": _FOOTER,
            "department": "街道办事处",
        },
        "filters": {"status": "living"},
        "dimension": "child_area",
        "dimension_label": "辖区（网格）",
        "measures": [
            {"key": "total", "label": "实有人口", "group": ""},
            {
                "key": "registered",
                "label": "户籍",
                "where": {"residency": ["registered"]},
                "group": "按人口类别",
            },
            {
                "key": "long_term",
                "label": "常住",
                "where": {"residency": ["long_term"]},
                "group": "按人口类别",
            },
            {
                "key": "floating",
                "label": "流动/租住",
                "where": {"residency": ["floating", "tenant"]},
                "group": "按人口类别",
            },
            {"key": "male", "label": "男", "where": {"sex": "M"}, "group": "按性别"},
            {"key": "female", "label": "女", "where": {"sex": "F"}, "group": "按性别"},
            {"key": "minors", "label": "0–17岁", "where": {"age_max": 17}, "group": "按年龄"},
            {
                "key": "adults",
                "label": "18–59岁",
                "where": {"age_min": 18, "age_max": 59},
                "group": "按年龄",
            },
            {"key": "elderly", "label": "60岁及以上", "where": {"age_min": 60}, "group": "按年龄"},
            {
                "key": "elderly_alone",
                "label": "独居老人",
                "where": {"tags_any": ["elderly_alone"]},
                "group": "重点关注",
            },
            {
                "key": "disabled",
                "label": "残疾人",
                "where": {"tags_any": ["disabled"]},
                "group": "重点关注",
            },
            {
                "key": "low_income",
                "label": "低保",
                "where": {"tags_any": ["low_income"]},
                "group": "重点关注",
            },
        ],
    },
    "dwelling-occupancy": {
        "kind": "statistics",
        "rowset": "register.dwelling",
        "header": {
            "title": "{area}房屋入住情况统计表",
            "info": _INFO,
            "unit": "单位：套、㎡",
            "footer": _FOOTER,
            "department": "住建部门",
        },
        "dimension": "child_area",
        "dimension_label": "辖区（网格）",
        "measures": [
            {"key": "total", "label": "房屋总数"},
            {
                "key": "occupied",
                "label": "有人居住",
                "where": {"occupied": "yes"},
                "group": "入住情况",
            },
            {"key": "empty", "label": "无人居住", "where": {"occupied": "no"}, "group": "入住情况"},
            {"key": "owner", "label": "自住", "where": {"use": ["owner"]}, "group": "房屋用途"},
            {"key": "rented", "label": "出租", "where": {"use": ["rented"]}, "group": "房屋用途"},
            {"key": "vacant", "label": "空置", "where": {"use": ["vacant"]}, "group": "房屋用途"},
            {"key": "other", "label": "其他", "where": {"use": ["other"]}, "group": "房屋用途"},
            {"key": "area", "label": "建筑面积合计", "agg": "sum", "measure": "floor_area"},
        ],
    },
    "key-groups-by-tag": {
        "kind": "statistics",
        "rowset": "register.person",
        "header": {
            "title": "{area}重点人群分类统计表",
            "info": _INFO,
            "unit": "单位：人",
            "footer": _FOOTER,
            "department": "民政部门",
        },
        "filters": {"status": "living"},
        "dimension": "tag",
        "dimension_label": "人员类别",
        "measures": [
            {"key": "total", "label": "人数"},
            {"key": "male", "label": "男", "where": {"sex": "M"}},
            {"key": "female", "label": "女", "where": {"sex": "F"}},
            {"key": "elderly", "label": "其中60岁及以上", "where": {"age_min": 60}},
            {
                "key": "floating",
                "label": "其中流动人口",
                "where": {"residency": ["floating", "tenant"]},
            },
        ],
    },
}
