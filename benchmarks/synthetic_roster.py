"""A synthetic Chinese roster with known truth, for measuring record linkage.

Two lists of the same people as a community would have them: the *register* (right side:
clean, IDs for most people, one address format) and an incoming *list* (left side: a city or
department list typed by someone else), plus people found in only one of them. Households
share an address, often a phone and the surname, and a few are twins: the hard negatives.

The list's errors, each drawn independently per person (rates in :data:`LIST_ERRORS`):
missing IDs (30%), adjacent digits swapped or one digit wrong in the ID, 15-digit old IDs,
homophone characters (王晓明/王小明), near-pinyin characters (刘/牛, 明/民), other typos and
dropped characters in the name, day/month swapped or mistyped birth dates, changed or mistyped
phones, missing sex, people who moved, and addresses written another way (3-2-301).

Deterministic for a seed. ``python benchmarks/synthetic_roster.py 10000 out.pickle``.
"""

from __future__ import annotations

import datetime as dt
import pickle
import random
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from faker.providers.person.zh_CN import Provider as NameProvider
from pypinyin import Style, lazy_pinyin

from linli.linkage.keys import id_check_digit, near_syllable

REGION_CODES = [
    "370102", "370103", "370104", "370105", "370112", "370181", "410105", "130102",
    "320102", "340104", "420102", "510104", "440103", "350102", "430102", "110101",
]  # fmt: skip
ESTATES = [
    "幸福", "阳光", "和谐", "锦绣", "翠苑", "金桥", "绿洲", "春晖", "明珠", "东方",
    "嘉园", "华庭", "丽景", "泉城", "望湖", "书香", "康乐", "朝阳", "滨河", "兴隆",
]  # fmt: skip
ESTATE_SUFFIX = ["小区", "花园", "家园", "新村", "苑"]
# Characters common in given names (beyond Faker's short lists), split by the sex they lean to.
GIVEN_MALE = (
    "伟强磊洋勇军杰涛超明刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国峰志永德文亮"
    "海成东晓小新立光春家中宏子金庆天博君彬睿兵坤晨昊泽瑞铭轩凡翔栋宗荣振清卫民"
)
GIVEN_FEMALE = (
    "芳娜敏静丽艳娟霞燕玲丹萍红梅莉婷雪慧琳颖倩洁秀英兰桂玉凤云琴莹佳欣怡晶璐瑶悦"
    "媛蕾薇雯露月晴诗梦思雨馨蓉珍翠淑美珊晓小春文华"
)

# Share of list rows with each error.
LIST_ERRORS = {
    "id_missing": 0.30,
    "id_transposed": 0.03,
    "id_one_digit": 0.03,
    "id_old_15": 0.01,
    "name_homophone": 0.08,
    "name_near_pinyin": 0.03,
    "name_typo": 0.03,
    "name_dropped_char": 0.01,
    "birth_missing_with_id": 0.5,
    "birth_missing_without_id": 0.15,
    "birth_swapped": 0.04,
    "birth_typo": 0.02,
    "sex_missing": 0.2,
    "sex_wrong": 0.01,
    "phone_missing": 0.08,
    "phone_changed": 0.20,
    "phone_one_digit": 0.03,
    "address_missing": 0.15,
    "address_moved": 0.12,
}
REGISTER_ERRORS = {"id_missing": 0.05, "phone_missing": 0.10, "name_typo": 0.02}
ONLY_ONE_SIDE = 0.10  # of all people, this share is only on the list, and as many only registered
REFERENCE_DAY = dt.date(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Row:
    """One row of either side; the fields of linli.linkage.engine.LinkRecord."""

    key: str
    name: str = ""
    id_number: str = ""
    phone: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    address: str = ""


@dataclass(slots=True)
class Roster:
    """The two sides and the true pairs (left key, right key)."""

    left: list[Row] = field(default_factory=list)
    right: list[Row] = field(default_factory=list)
    truth: set[tuple[str, str]] = field(default_factory=set)

    def dump(self, path: Path) -> None:
        with path.open("wb") as fh:
            pickle.dump(
                {
                    "left": [asdict(r) for r in self.left],
                    "right": [asdict(r) for r in self.right],
                    "truth": sorted(self.truth),
                },
                fh,
            )

    @classmethod
    def load(cls, path: Path) -> Roster:
        with path.open("rb") as fh:
            data = pickle.load(fh)  # noqa: S301 (a file this module wrote)
        return cls(
            left=[Row(**r) for r in data["left"]],
            right=[Row(**r) for r in data["right"]],
            truth={tuple(t) for t in data["truth"]},  # type: ignore[misc]
        )


@dataclass(slots=True)
class _Person:
    pid: int
    name: str
    id_number: str
    birth: dt.date
    sex: str
    phone: str
    estate: str
    building: int
    entrance: int
    room: int


def _common_chars() -> list[str]:
    """The 3,755 most common characters (GB2312 level 1): what a worker's keyboard offers."""
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


class _Typist:
    """Character substitutions a typist makes: homophones, near pinyin, random slips."""

    def __init__(self) -> None:
        self.common = _common_chars()
        self.by_reading: dict[str, list[str]] = defaultdict(list)
        self.by_near: dict[str, list[str]] = defaultdict(list)
        for c in self.common:
            reading = lazy_pinyin(c, style=Style.NORMAL)[0]
            self.by_reading[reading].append(c)
            self.by_near[near_syllable(reading)].append(c)

    def reading(self, c: str) -> str:
        return lazy_pinyin(c, style=Style.NORMAL)[0]

    def homophone(self, rng: random.Random, c: str) -> str | None:
        options = [x for x in self.by_reading[self.reading(c)] if x != c]
        return rng.choice(options) if options else None

    def near(self, rng: random.Random, c: str) -> str | None:
        r = self.reading(c)
        options = [x for x in self.by_near[near_syllable(r)] if self.reading(x) != r]
        return rng.choice(options) if options else None

    def slip(self, rng: random.Random, c: str) -> str:
        while True:
            x = rng.choice(self.common)
            if x != c:
                return x


_SURNAMES = list(NameProvider.last_names)
_SURNAME_WEIGHTS = list(NameProvider.last_names.values())


def _given(rng: random.Random, sex: str) -> str:
    pool = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
    if rng.random() < 0.3:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"


def _national_id(rng: random.Random, birth: dt.date, sex: str, used: set[str]) -> str:
    while True:
        seq = rng.randrange(100) * 10 + rng.choice(
            (1, 3, 5, 7, 9) if sex == "M" else (0, 2, 4, 6, 8)
        )
        first17 = f"{rng.choice(REGION_CODES)}{birth:%Y%m%d}{seq:03d}"
        number = first17 + id_check_digit(first17)
        if number not in used:
            used.add(number)
            return number


def _birth(rng: random.Random, age: int) -> dt.date:
    return REFERENCE_DAY - dt.timedelta(days=age * 365 + rng.randrange(365))


def _population(rng: random.Random, n: int) -> list[_Person]:
    people: list[_Person] = []
    used: set[str] = set()
    estates = [e + s for e in ESTATES for s in ESTATE_SUFFIX]
    while len(people) < n:
        estate = rng.choice(estates)
        building, entrance = rng.randint(1, 30), rng.randint(1, 4)
        room = rng.randint(1, 18) * 100 + rng.randint(1, 4)
        surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
        head_age = rng.randint(22, 90)
        head_sex = rng.choice("MF")
        family_phone = _phone(rng)
        members: list[tuple[str, int, str, str]] = [
            (surname, head_age, head_sex, family_phone)
        ]  # (surname, age, sex, phone)
        size = rng.choices([1, 2, 3, 4, 5], weights=[18, 32, 28, 15, 7])[0]
        if size >= 2:
            spouse_surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
            members.append(
                (
                    spouse_surname,
                    max(20, head_age + rng.randint(-4, 4)),
                    "F" if head_sex == "M" else "M",
                    _phone(rng) if rng.random() < 0.7 else family_phone,
                )
            )
        child_age = max(0, head_age - rng.randint(22, 34))
        for i in range(size - 2):
            twin = i > 0 and rng.random() < 0.05
            age = child_age if twin else max(0, head_age - rng.randint(22, 34))
            phone = family_phone if age < 16 or rng.random() < 0.3 else _phone(rng)
            members.append((surname, age, rng.choice("MF"), phone))
        births: dict[int, dt.date] = {}
        names: set[str] = set()
        for surname_i, age, sex, phone in members:
            birth = births.setdefault(age, _birth(rng, age))
            name = surname_i + _given(rng, sex)
            while name in names:  # parents do not give two children one name
                name = surname_i + _given(rng, sex)
            names.add(name)
            people.append(
                _Person(
                    pid=len(people),
                    name=name,
                    id_number=_national_id(rng, birth, sex, used),
                    birth=birth,
                    sex=sex,
                    phone=phone,
                    estate=estate,
                    building=building,
                    entrance=entrance,
                    room=room,
                )
            )
    return people[:n]


def _address(p: _Person, style: int) -> str:
    if style == 0:
        return f"{p.estate}{p.building}号楼{p.entrance}单元{p.room}室"
    if style == 1:
        return f"{p.building}-{p.entrance}-{p.room}"
    return f"{p.estate}{p.building}栋{p.entrance}单元{p.room}"


def _mistype_name(rng: random.Random, typist: _Typist, name: str) -> str:
    r = rng.random()
    cut = 0.0
    rates = LIST_ERRORS
    for kind in ("name_homophone", "name_near_pinyin", "name_typo", "name_dropped_char"):
        cut += rates[kind]
        if r >= cut:
            continue
        pos = rng.randrange(1, len(name)) if len(name) > 1 else 0
        if kind == "name_dropped_char":
            return name[:pos] + name[pos + 1 :] if len(name) >= 3 else name
        c = name[pos]
        if kind == "name_homophone":
            new = typist.homophone(rng, c)
        elif kind == "name_near_pinyin":
            new = typist.near(rng, c)
        else:
            new = typist.slip(rng, c)
        return name[:pos] + (new or c) + name[pos + 1 :]
    return name


def _mistype_digits(rng: random.Random, value: str, *, swap: bool, upto: int) -> str:
    for _ in range(20):
        i = rng.randrange(upto - 1)
        if swap:
            if value[i] != value[i + 1]:
                return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
        else:
            d = rng.choice([x for x in "0123456789" if x != value[i]])
            return value[:i] + d + value[i + 1 :]
    return value


def _mistype_date(rng: random.Random, birth: dt.date) -> dt.date:
    """One digit of YYYYMMDD typed wrong (and still a date)."""
    text = f"{birth:%Y%m%d}"
    for _ in range(50):
        typo = _mistype_digits(rng, text, swap=False, upto=9)
        try:
            found = dt.datetime.strptime(typo, "%Y%m%d").date()
        except ValueError:
            continue
        if found != birth and found.year > 1900:
            return found
    return birth


def _list_row(rng: random.Random, typist: _Typist, p: _Person, key: str) -> Row:
    e = LIST_ERRORS
    name = _mistype_name(rng, typist, p.name)
    id_number = ""
    if rng.random() >= e["id_missing"]:
        r = rng.random()
        if r < e["id_transposed"]:
            id_number = _mistype_digits(rng, p.id_number, swap=True, upto=17)
        elif r < e["id_transposed"] + e["id_one_digit"]:
            id_number = _mistype_digits(rng, p.id_number, swap=False, upto=17)
        elif r < e["id_transposed"] + e["id_one_digit"] + e["id_old_15"] and p.birth.year < 2000:
            id_number = p.id_number[:6] + p.id_number[8:17]
        else:
            id_number = p.id_number.lower() if rng.random() < 0.2 else p.id_number
    birth: dt.date | None = p.birth
    missing = e["birth_missing_with_id"] if id_number else e["birth_missing_without_id"]
    if rng.random() < missing:
        birth = None
    else:
        r = rng.random()
        if r < e["birth_swapped"] and p.birth.day <= 12 and p.birth.day != p.birth.month:
            birth = p.birth.replace(month=p.birth.day, day=p.birth.month)
        elif r < e["birth_swapped"] + e["birth_typo"]:
            birth = _mistype_date(rng, p.birth)
    sex = "" if rng.random() < e["sex_missing"] else p.sex
    if sex and rng.random() < e["sex_wrong"]:
        sex = "F" if sex == "M" else "M"
    phone = p.phone
    r = rng.random()
    if r < e["phone_missing"]:
        phone = ""
    elif r < e["phone_missing"] + e["phone_changed"]:
        phone = _phone(rng)
    elif r < e["phone_missing"] + e["phone_changed"] + e["phone_one_digit"]:
        phone = _mistype_digits(rng, phone, swap=False, upto=11)
    address = ""
    if rng.random() >= e["address_missing"]:
        q = p
        if rng.random() < e["address_moved"]:
            q = replace(p, building=rng.randint(1, 30), room=rng.randint(1, 18) * 100 + 1)
        address = _address(q, rng.choice((0, 1, 2)))
    return Row(key, name, id_number, phone, birth, sex, address)


def _register_row(rng: random.Random, typist: _Typist, p: _Person, key: str) -> Row:
    e = REGISTER_ERRORS
    name = p.name
    if rng.random() < e["name_typo"] and len(name) > 1:
        pos = rng.randrange(1, len(name))
        name = name[:pos] + typist.slip(rng, name[pos]) + name[pos + 1 :]
    id_number = "" if rng.random() < e["id_missing"] else p.id_number
    phone = "" if rng.random() < e["phone_missing"] else p.phone
    return Row(key, name, id_number, phone, p.birth, p.sex, _address(p, 0))


def generate(n: int, *, seed: int = 2026) -> Roster:
    """N people on both sides, plus ``ONLY_ONE_SIDE``·N on each side alone."""
    rng = random.Random(seed)
    typist = _Typist()
    extra = round(n * ONLY_ONE_SIDE)
    people = _population(rng, n + 2 * extra)
    rng.shuffle(people)
    both, left_only, right_only = people[:n], people[n : n + extra], people[n + extra :]
    left_people = both + left_only
    right_people = both + right_only
    rng.shuffle(left_people)
    rng.shuffle(right_people)
    roster = Roster()
    left_key: dict[int, str] = {}
    for i, p in enumerate(left_people):
        left_key[p.pid] = f"L{i}"
        roster.left.append(_list_row(rng, typist, p, f"L{i}"))
    for i, p in enumerate(right_people):
        roster.right.append(_register_row(rng, typist, p, f"R{i}"))
        if p.pid in left_key:
            roster.truth.add((left_key[p.pid], f"R{i}"))
    return roster


def main(argv: list[str]) -> None:
    n, out = int(argv[0]), Path(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else 2026
    generate(n, seed=seed).dump(out)


if __name__ == "__main__":
    main(sys.argv[1:])
