"""Comparison keys for record linkage: names as pinyin, IDs, phones, dates and addresses.

Pure functions (no Django, no database) used by :mod:`linli.linkage.engine`.

Names are compared as *per-character sets of readings*: pypinyin's heteronym table gives every
reading of a character (单 → dan/chan/shan), so two names are homophones when, position by
position, the characters share a reading. Southern speakers (and the workers who type what they
hear) confuse a few sounds; :data:`NEAR_PINYIN` folds them so that 刘/牛 (liu/niu) or
陈/岑 (chen/cen) meet. The table is deliberately small: every fold makes more strangers look
alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata

from pypinyin import Style, pinyin
from rapidfuzz.distance import OSA, Hamming

# Initials and finals folded together for "near pinyin" comparisons. Each entry maps a prefix
# (initials) or suffix (finals) to its folded form. Kept small and documented in decision 0019:
#   zh/z, ch/c, sh/s  — flat and retroflex sibilants (southern Mandarin, Wu, Cantonese speakers)
#   n/l               — Sichuan, Hunan, Hubei, Fujian
#   f/h (before u)    — Fujian, Hunan, Cantonese (hu ↔ fu)
#   ang/an, eng/en, ing/in — nasal finals
NEAR_INITIALS: tuple[tuple[str, str], ...] = (
    ("zh", "z"),
    ("ch", "c"),
    ("sh", "s"),
    ("n", "l"),
)
# h before u sounds as f (湖南 read as funan): hu/fu, hua/fa, huang/fang, hui/fei, hun/fen.
_HU_AS_F: dict[str, str] = {"u": "u", "i": "ei", "n": "en", "o": "o"}
NEAR_FINALS: tuple[tuple[str, str], ...] = (
    ("iang", "ian"),
    ("uang", "uan"),
    ("ang", "an"),
    ("eng", "en"),
    ("ing", "in"),
)

# The reading a character takes as a surname where that differs from its most common reading.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "区": "ou",
    "乐": "yue",
    "尉": "yu",
    "盖": "ge",
    "缪": "miao",
    "种": "chong",
    "覃": "qin",
    "员": "yun",
    "秘": "bi",
    "召": "shao",
    "长": "chang",
    "重": "chong",
    "翟": "zhai",
    "沈": "shen",
    "那": "na",
    "隗": "wei",
    "冼": "xian",
    "纪": "ji",
    "蕃": "pi",
    "宿": "su",
    "折": "she",
    "句": "gou",
}

_NAME_DROP = re.compile(r"[\s·•．.\-_,，、()（）\[\]【】\"'“”‘’0-9]")
_DIGITS = re.compile(r"\d+")
_ADDRESS_DROP = re.compile(r"[\s,，。.、·\-—－_/／()（）#＃]")
_ID_FOLD = re.compile(r"[\s\-]")
# Weights of the ISO 7064 MOD 11-2 check digit of the 18-character resident identity number.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def fold(value: str) -> str:
    """Full-width to half-width (NFKC) and strip surrounding space."""
    return unicodedata.normalize("NFKC", value).strip()


def normalise_name(name: str) -> str:
    """A name as compared: NFKC, no spaces, dots or digits; Latin letters lower case."""
    return _NAME_DROP.sub("", fold(name)).lower()


@functools.lru_cache(maxsize=65_536)
def char_readings(char: str) -> frozenset[str]:
    """Every toneless reading of one character (a Latin letter reads as itself)."""
    if not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"):
        return frozenset((char,))
    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    found = {r for group in readings for r in group if r}
    return frozenset(found) if found else frozenset((char,))


@functools.lru_cache(maxsize=65_536)
def char_default_reading(char: str, *, surname: bool = False) -> str:
    """The reading used for blocking keys: the surname reading when asked, else the commonest."""
    if surname and char in SURNAME_READINGS:
        return SURNAME_READINGS[char]
    if not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"):
        return char
    readings = pinyin(char, style=Style.NORMAL, heteronym=False, errors="ignore")
    return readings[0][0] if readings and readings[0] else char


@functools.lru_cache(maxsize=4_096)
def near_syllable(syllable: str) -> str:
    """Fold a syllable by :data:`NEAR_INITIALS` and :data:`NEAR_FINALS` (at most one each)."""
    s = syllable
    if s.startswith("hu"):
        rest = s[2:]
        s = "f" + _HU_AS_F.get(rest, rest or "u")
    for old, new in NEAR_INITIALS:
        if s.startswith(old):
            s = new + s[len(old) :]
            break
    for old, new in NEAR_FINALS:
        if s.endswith(old):
            s = s[: -len(old)] + new
            break
    return s


@functools.lru_cache(maxsize=65_536)
def char_near_readings(char: str) -> frozenset[str]:
    """The readings of a character after near-pinyin folding."""
    return frozenset(near_syllable(r) for r in char_readings(char))


@functools.lru_cache(maxsize=262_144)
def name_syllables(name: str) -> tuple[str, ...]:
    """One reading per character of a normalised name, the surname reading for the first."""
    return tuple(char_default_reading(c, surname=(i == 0)) for i, c in enumerate(name))


def name_pinyin(name: str) -> str:
    """The name's pinyin as one lower-case string (surname reading first): 单田芳 → shantianfang."""
    return "".join(name_syllables(normalise_name(name)))


def name_near_key(name: str) -> str:
    """Blocking key: the near-folded pinyin of a normalised name (王晓明 = 王小明 = wangxiaomin)."""
    return "".join(near_syllable(s) for s in name_syllables(name))


def is_homophone(a: str, b: str) -> bool:
    """Same length and, at every position, the same character or one sharing a reading."""
    if len(a) != len(b) or not a:
        return False
    return all(x == y or char_readings(x) & char_readings(y) for x, y in zip(a, b, strict=True))


def is_near_homophone(a: str, b: str) -> bool:
    """Same length and, at every position, readings that agree after near-pinyin folding."""
    if len(a) != len(b) or not a:
        return False
    return all(
        x == y or char_near_readings(x) & char_near_readings(y) for x, y in zip(a, b, strict=True)
    )


# ---------------------------------------------------------------- national IDs


def id_check_digit(first17: str) -> str:
    """The check character of an 18-character resident identity number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_id(value: str) -> str:
    """Fold an ID as typed (full-width, spaces, lower-case x); 15-digit IDs become 18."""
    number = _ID_FOLD.sub("", fold(value)).upper()
    if len(number) == 15 and number.isdigit():
        first17 = number[:6] + "19" + number[6:]
        number = first17 + id_check_digit(first17)
    return number


def id_birth_date(number: str) -> dt.date | None:
    """The birth date written in an 18-character ID (valid or not), or None."""
    if len(number) != 18 or not number[6:14].isdigit():
        return None
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_sex(number: str) -> str:
    """ "M"/"F" from the 17th digit of an 18-character ID, or ""."""
    if len(number) != 18 or not number[16].isdigit():
        return ""
    return "M" if int(number[16]) % 2 else "F"


def id_is_valid(number: str) -> bool:
    """A normalised 18-character ID with a right check digit and a possible birth date."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[17] != id_check_digit(number[:17]):
        return False
    birth = id_birth_date(number)
    return birth is not None and dt.date(1880, 1, 1) <= birth


# ---------------------------------------------------------------- phones


def normalise_phone(value: str) -> str:
    """Digits only, without a +86 / 0086 prefix."""
    digits = "".join(c for c in fold(value) if c.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


# ---------------------------------------------------------------- strings of digits


def one_digit_off(a: str, b: str) -> bool:
    """Same length and exactly one position differs."""
    return len(a) == len(b) and Hamming.distance(a, b) == 1


def adjacent_swap(a: str, b: str) -> bool:
    """Same length and b is a with two neighbouring (different) characters swapped."""
    return len(a) == len(b) and Hamming.distance(a, b) == 2 and OSA.distance(a, b) == 1


# ---------------------------------------------------------------- dates


def birth_swapped(a: dt.date, b: dt.date) -> bool:
    """The same year with day and month swapped (3 April written as 4 March)."""
    return a != b and a.year == b.year and a.month == b.day and a.day == b.month


@functools.lru_cache(maxsize=65_536)
def birth_block_key(d: dt.date) -> str:
    """A key equal for a date and its day/month swap: year plus the sorted pair."""
    lo, hi = sorted((d.month, d.day))
    return f"{d.year:04d}{lo:02d}{hi:02d}"


# ---------------------------------------------------------------- addresses


def normalise_address(value: str) -> str:
    """NFKC, no spaces or punctuation; 幢/号楼 written as 栋, 室 dropped."""
    s = _ADDRESS_DROP.sub("", fold(value))
    s = s.replace("幢", "栋").replace("号楼", "栋").replace("楼栋", "栋").replace("室", "")
    return s


def address_place(normalised: str) -> str:
    """The place an address names before its numbers: 金桥苑30栋1单元301 → 金桥苑.

    "" when the address starts with a number (3-2-301).
    """
    return re.split(r"\d", normalised, maxsplit=1)[0]


def address_numbers(value: str) -> tuple[str, ...]:
    """The runs of digits of an address in order: 3号楼2单元301室 → ("3", "2", "301")."""
    return tuple(n.lstrip("0") or "0" for n in _DIGITS.findall(fold(value)))
