"""A synthetic people roster as communities send them, for the import benchmarks.

Rows come in households (householder first, then spouse, children, a parent), dwellings fill
two entrances of eighteen floors, four flats a floor, buildings are spread over the grids of a
community and named in a 网格 column. Names are common Chinese surnames and given names,
national IDs are valid (check digit) and unique, phones are valid mobile numbers, birth dates
and sex agree with the ID; a few people carry a tag (老年人, 党员) in 人员类别.
Deterministic for a given row count and seed.

Usage: .venv/bin/python benchmarks/make_roster.py 100000 /tmp/roster.csv [--xlsx] [--grids 20]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linli.core.identity import national_id_check_digit

HEADER = [
    "序号",
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "联系电话",
    "网格",
    "楼栋",
    "单元",
    "房号",
    "与户主关系",
    "人员类别",
    "备注",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅文斌宇浩然子涵欣怡俊杰思雨晨"
)
REGIONS = ("110101", "310104", "370102", "440305", "510107", "330106", "420102", "610113")
PHONE_PREFIXES = ("138", "139", "158", "159", "186", "187", "135", "136", "177", "199")
RELATIONS = ("户主", "配偶", "儿子", "女儿", "母亲")
DWELLINGS_PER_BUILDING = 2 * 18 * 4
EPOCH = dt.date(1935, 1, 1)


def grid_names(grids: int) -> list[str]:
    return [f"第{i + 1}网格" for i in range(grids)]


def national_id(i: int) -> tuple[str, dt.date, str]:
    """The i-th ID: unique for i < 240,000,000; sex follows the sequence digit."""
    code = i % 1000
    rest = i // 1000
    region = REGIONS[rest % len(REGIONS)]
    day = (rest // len(REGIONS)) * 613 % 30_000
    birth = EPOCH + dt.timedelta(days=day)
    first17 = f"{region}{birth:%Y%m%d}{code:03d}"
    return first17 + national_id_check_digit(first17), birth, "男" if code % 2 else "女"


def rows(count: int, *, grids: int = 20, seed: int = 7) -> Iterator[list[str]]:
    rng = random.Random(seed)
    names = grid_names(grids)
    dwelling = 0
    position = 0
    size = rng.choice((1, 2, 2, 3, 3, 4))
    for i in range(count):
        if position >= size:
            dwelling += 1
            position = 0
            size = rng.choice((1, 2, 2, 3, 3, 4))
        building, rest = divmod(dwelling, DWELLINGS_PER_BUILDING)
        entrance, rest = divmod(rest, 72)
        floor, flat = divmod(rest, 4)
        nid, birth, sex = national_id(i)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}"
        category = rng.choices(("户籍", "常住", "流动", "租户"), (70, 15, 10, 5))[0]
        if birth.year < 1960 and rng.random() < 0.5:
            category += "、老年人"
        elif rng.random() < 0.03:
            category += "、党员"
        yield [
            str(i + 1),
            name,
            sex,
            f"{birth:%Y-%m-%d}" if rng.random() < 0.5 else "",
            nid,
            phone if rng.random() < 0.8 else "",
            names[building % grids],
            f"{building + 1}号楼",
            f"{entrance + 1}单元",
            f"{floor + 1}{flat + 1:02d}",
            RELATIONS[min(position, len(RELATIONS) - 1)],
            category,
            "",
        ]
        position += 1


def write_csv(path: Path, count: int, *, grids: int = 20) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        out.writerows(rows(count, grids=grids))
    return path


def write_xlsx(path: Path, count: int, *, grids: int = 20) -> Path:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append(["测试社区居民花名册"])
    ws.append(HEADER)
    for row in rows(count, grids=grids):
        ws.append(row)
    wb.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--xlsx", action="store_true")
    parser.add_argument("--grids", type=int, default=20)
    args = parser.parse_args()
    (write_xlsx if args.xlsx else write_csv)(args.path, args.rows, grids=args.grids)


if __name__ == "__main__":
    main()
