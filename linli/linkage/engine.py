"""Record linkage: which records of two lists (or of one) describe the same person.

A pure library: no Django models, no database; it runs in a plain Python process. The app
(:mod:`linli.linkage` services) turns register rows and list rows into :class:`LinkRecord`
values and gets back :class:`Link` values it can store, queue for review and explain.

How it works (decision 0019):

1. **Prepare** each record once: fold the name, its pinyin readings, the ID (15 → 18
   characters, validity by check digit), its blind index (when the caller passes the register's
   blind-index function), the birth date (given, else read from the ID, even an invalid one),
   the phone, the address and its runs of digits.
2. **Block**: every record gets a handful of keys (:func:`blocking_keys`); only records that
   share a key are compared, never all pairs. A block whose pairs exceed ``max_block_pairs`` is
   skipped (recall cost documented in decision 0019).
3. **Compare** a candidate pair field by field into comparison levels (exact / homophone /
   near pinyin / edit distance for names, exact / day-month swap for birth dates, exact /
   one digit / tail / changed for phones, exact / transposed / one digit / tail for IDs …).
4. **Score** with Fellegi–Sunter weights: each level adds log2(m/u) where m is how often true
   matches show that level and u how often strangers do; the sum plus a prior gives a match
   probability. An exact valid national ID is always a match.

Each :class:`Link` carries the machine codes of every comparison (:data:`REASONS`) so a worker
can see why two records were put together.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from linli.linkage import keys as K

BlindIndex = Callable[[str], str]

MATCH_THRESHOLD = 0.95
PROBABLE_THRESHOLD = 0.5
# Prior log2-odds that two records compared at random are the same person, for compare() on
# its own (about 1 in 65,000: a community list against a district register); link() and
# dedupe() derive it from the sizes of the sets (size_prior). It shifts every score equally.
PRIOR_LOG2 = -16.0
# Blocks bigger than this many pairs are skipped (a name like 张伟 in one birth year of a
# million people); the other keys of the same records still bring true pairs together.
MAX_BLOCK_PAIRS = 2_500
# The smallest u of an exact name (the smoothing in _count_names does the real work).
NAME_U_FLOOR = 1e-6
NAME_U_PSEUDO = 10_000


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """One side of a comparison: a register person or a list row, as far as it is known."""

    key: str  # caller's id (person pk as str, or list row number)
    name: str = ""  # as written (Chinese), normalised inside the engine
    id_number: str = ""  # plaintext national ID if the caller has it (list side), else ""
    id_bidx: str = ""  # blind index of the ID (register side has only this): exact comparisons
    id_tail: str = ""  # last 4 characters of the ID (register keeps them): partial evidence
    phone: str = ""  # plaintext if available
    phone_bidx: str = ""
    phone_tail: str = ""
    birth_date: dt.date | None = None
    sex: str = ""  # "M" / "F" / ""
    address: str = ""  # free text (building/room or street address)


@dataclass(frozen=True, slots=True)
class Link:
    """Two records judged to be the same person, how surely, and why."""

    left: str
    right: str
    score: float  # 0..1
    level: str  # "match" | "probable"
    reasons: tuple[str, ...]


# Comparison levels: reason code shown to the worker, m (share among true matches), u (share
# among strangers). Values fixed from the synthetic roster and the literature (decision 0019).
_LEVELS: dict[str, tuple[str, float, float]] = {
    # national ID
    "id_exact": ("id_exact", 0.94, 1e-9),
    "id_exact_invalid": ("id_exact", 0.30, 1e-7),
    "id_transposed": ("id_transposed", 0.03, 1e-8),
    "id_one_digit": ("id_one_digit", 0.03, 1e-8),
    "id_tail": ("id_tail", 0.70, 1e-4),  # beside a mistyped (invalid) ID
    "id_tail_full": ("id_tail", 0.97, 1e-4),  # two valid IDs we cannot compare in full
    "id_differs": ("id_differs", 5e-4, 0.999),
    "id_differs_weak": ("id_differs", 0.01, 0.06),
    # name (name_exact's u is replaced by the name's frequency in link() and dedupe())
    "name_exact": ("name_exact", 0.85, 1e-4),
    "name_pinyin": ("name_pinyin", 0.05, 3e-4),
    "name_homophone": ("name_homophone", 0.08, 4e-5),
    "name_near": ("name_near_pinyin", 0.02, 4e-5),
    "name_similar": ("name_similar", 0.04, 1e-3),
    "name_similar_short": ("name_similar", 0.015, 5e-3),
    "name_differs": ("name_differs", 5e-4, 0.99),
    # birth date
    "birth_exact": ("birth_exact", 0.95, 4e-5),
    "birth_swapped": ("birth_swapped", 0.01, 1e-5),
    "birth_close": ("birth_close", 0.04, 1e-3),
    "birth_differs": ("birth_differs", 0.003, 0.999),
    # phone
    "phone_exact": ("phone_exact", 0.75, 5e-5),
    "phone_one_digit": ("phone_one_digit", 0.03, 2e-6),
    "phone_tail_only": ("phone_tail", 0.75, 1e-4),  # only the last four are known
    "phone_tail": ("phone_tail", 0.005, 1e-4),  # the rest differs
    "phone_changed": ("phone_changed", 0.21, 0.9999),
    # sex
    "sex_same": ("", 0.99, 0.5),
    "sex_differs": ("sex_differs", 0.01, 0.5),
    # address
    "address_same": ("address_same", 0.85, 1.5e-4),
    # Beside the same phone an address says little more: strangers sharing a phone are family.
    "address_same_household": ("address_same", 0.85, 0.3),
    "address_similar": ("address_similar", 0.01, 3e-4),
    "address_same_place": ("address_same_place", 0.10, 1e-2),  # same estate or street
    "address_differs": ("address_differs", 0.12, 0.9999),
}
WEIGHTS: dict[str, float] = {k: math.log2(m / u) for k, (_r, m, u) in _LEVELS.items()}
REASON: dict[str, str] = {k: r for k, (r, _m, _u) in _LEVELS.items()}
# Every code a Link's reasons can contain.
REASONS: tuple[str, ...] = (
    "id_exact",
    "id_transposed",
    "id_one_digit",
    "id_tail",
    "id_differs",
    "name_exact",
    "name_pinyin",
    "name_homophone",
    "name_near_pinyin",
    "name_similar",
    "name_differs",
    "birth_exact",
    "birth_swapped",
    "birth_close",
    "birth_differs",
    "birth_from_id",
    "phone_exact",
    "phone_one_digit",
    "phone_tail",
    "phone_changed",
    "sex_differs",
    "address_same",
    "address_similar",
    "address_same_place",
    "address_differs",
)
# Without support from the name or the ID a pair is at most "probable" (twins share a birth
# date, a phone and an address; a worker must look).
_SUPPORT = frozenset(
    {
        "id_exact_invalid",
        "id_transposed",
        "id_one_digit",
        "id_tail",
        "id_tail_full",
        "name_exact",
        "name_pinyin",
        "name_homophone",
        "name_near",
        "name_similar",
        "name_similar_short",
    }
)


@dataclass(slots=True)
class Prepared:
    """A record with everything the comparisons and blocking keys need, computed once."""

    key: str
    name: str
    ascii_name: bool
    id_plain: str
    id_valid: bool
    id_bidx: str
    id_tail: str
    phone_plain: str
    phone_bidx: str
    phone_tail: str
    birth: dt.date | None
    birth_from_id: bool
    sex: str
    address: str
    address_numbers: tuple[str, ...]
    address_place: str
    name_u: float = 0.0  # share of all records with this name, when the caller counted them


def prepare(
    record: LinkRecord,
    *,
    blind_index: BlindIndex | None = None,
    phone_blind_index: BlindIndex | None = None,
) -> Prepared:
    """Normalise one record (see the module docstring, step 1)."""
    name = K.normalise_name(record.name)
    id_plain = K.normalise_id(record.id_number) if record.id_number else ""
    id_valid = K.id_is_valid(id_plain) if id_plain else False
    id_bidx = record.id_bidx
    if not id_bidx and id_valid and blind_index is not None:
        id_bidx = blind_index(id_plain)
    id_tail = (record.id_tail or id_plain[-4:]).upper()
    phone_plain = K.normalise_phone(record.phone) if record.phone else ""
    phone_bidx = record.phone_bidx
    if not phone_bidx and phone_plain and phone_blind_index is not None:
        phone_bidx = phone_blind_index(phone_plain)
    phone_tail = record.phone_tail or phone_plain[-4:]
    birth = record.birth_date
    birth_from_id = False
    if birth is None and id_plain:
        birth = K.id_birth_date(id_plain)
        birth_from_id = birth is not None
    sex = record.sex.upper()[:1] if record.sex else ""
    if not sex and id_plain:
        sex = K.id_sex(id_plain)
    address = K.normalise_address(record.address) if record.address else ""
    return Prepared(
        key=record.key,
        name=name,
        ascii_name=bool(name) and name.isascii(),
        id_plain=id_plain,
        id_valid=id_valid,
        id_bidx=id_bidx,
        id_tail=id_tail,
        phone_plain=phone_plain,
        phone_bidx=phone_bidx,
        phone_tail=phone_tail,
        birth=birth,
        birth_from_id=birth_from_id,
        sex=sex,
        address=address,
        address_numbers=K.address_numbers(record.address) if record.address else (),
        address_place=K.address_place(address),
    )


# ---------------------------------------------------------------- field comparisons


def _compare_id(a: Prepared, b: Prepared) -> str | None:
    if a.id_plain and b.id_plain:
        if a.id_plain == b.id_plain:
            return "id_exact" if a.id_valid else "id_exact_invalid"
        if K.adjacent_swap(a.id_plain, b.id_plain):
            return "id_transposed"
        if K.one_digit_off(a.id_plain, b.id_plain):
            return "id_one_digit"
        return "id_differs" if a.id_valid and b.id_valid else "id_differs_weak"
    if a.id_bidx and b.id_bidx:
        return "id_exact" if a.id_bidx == b.id_bidx else "id_differs"
    if a.id_tail and b.id_tail:
        full = (a.id_valid or bool(a.id_bidx)) and (b.id_valid or bool(b.id_bidx))
        if a.id_tail == b.id_tail:
            # Both are valid IDs we cannot compare in full (no blind-index function): a shared
            # tail is then weaker evidence than beside an invalid (mistyped) ID.
            return "id_tail_full" if full else "id_tail"
        return "id_differs" if full else "id_differs_weak"
    return None


def _compare_name(a: Prepared, b: Prepared) -> str | None:
    x, y = a.name, b.name
    if not x or not y:
        return None
    if x == y:
        return "name_exact"
    if a.ascii_name != b.ascii_name:
        latin, han = (x, y) if a.ascii_name else (y, x)
        return "name_pinyin" if latin == "".join(K.name_syllables(han)) else "name_differs"
    if K.is_homophone(x, y):
        return "name_homophone"
    if K.is_near_homophone(x, y):
        return "name_near"
    longest = max(len(x), len(y))
    if len(x) == len(y):
        off = sum(
            1
            for p, q in zip(x, y, strict=True)
            if p != q and not (K.char_near_readings(p) & K.char_near_readings(q))
        )
        if off == 1:
            return "name_similar" if longest >= 3 else "name_similar_short"
    elif Levenshtein.distance(x, y) == 1 and longest >= 3:
        return "name_similar"
    return "name_differs"


def _compare_birth(a: Prepared, b: Prepared) -> str | None:
    if a.birth is None or b.birth is None:
        return None
    if a.birth == b.birth:
        return "birth_exact"
    if K.birth_swapped(a.birth, b.birth):
        return "birth_swapped"
    x, y = f"{a.birth:%Y%m%d}", f"{b.birth:%Y%m%d}"
    if K.one_digit_off(x, y) or K.adjacent_swap(x, y):
        return "birth_close"
    return "birth_differs"


def _compare_phone(a: Prepared, b: Prepared) -> str | None:
    if a.phone_plain and b.phone_plain:
        if a.phone_plain == b.phone_plain:
            return "phone_exact"
        if K.one_digit_off(a.phone_plain, b.phone_plain) or K.adjacent_swap(
            a.phone_plain, b.phone_plain
        ):
            return "phone_one_digit"
        return "phone_tail" if a.phone_tail == b.phone_tail else "phone_changed"
    if a.phone_bidx and b.phone_bidx:
        if a.phone_bidx == b.phone_bidx:
            return "phone_exact"
        return "phone_tail" if a.phone_tail == b.phone_tail else "phone_changed"
    if a.phone_tail and b.phone_tail:
        return "phone_tail_only" if a.phone_tail == b.phone_tail else "phone_changed"
    return None


def _compare_address(a: Prepared, b: Prepared) -> str | None:
    if not a.address or not b.address:
        return None
    if a.address == b.address:
        return "address_same"
    if a.address_numbers and a.address_numbers == b.address_numbers:
        # "3栋2单元301" and "3-2-301": the same building, entrance and room.
        return "address_same"
    if Levenshtein.normalized_similarity(a.address, b.address) >= 0.8:
        return "address_similar"
    if a.address_place and a.address_place == b.address_place:
        return "address_same_place"
    return "address_differs"


def _score(weight: float, prior_log2: float = PRIOR_LOG2) -> float:
    total = max(-50.0, min(50.0, prior_log2 + weight))  # stays below 1.0 in floats
    return 1.0 / (1.0 + 2.0 ** (-total))


def comparison_levels(a: Prepared, b: Prepared) -> list[str]:
    """The comparison level of each field both records have (keys of :data:`WEIGHTS`)."""
    levels: list[str] = []
    id_level = _compare_id(a, b)
    if id_level is not None:
        levels.append(id_level)
    for fn in (_compare_name, _compare_birth, _compare_phone):
        level = fn(a, b)
        if level is None:
            continue
        if (
            fn is _compare_birth
            and a.birth_from_id
            and b.birth_from_id
            and id_level is not None
            and id_level not in ("id_tail", "id_tail_full")
        ):
            continue  # both birth dates were read from the IDs just compared: no new evidence
        levels.append(level)
    if a.sex and b.sex:
        levels.append("sex_same" if a.sex == b.sex else "sex_differs")
    address_level = _compare_address(a, b)
    if address_level == "address_same" and "phone_exact" in levels:
        address_level = "address_same_household"
    if address_level is not None:
        levels.append(address_level)
    return levels


def compare_prepared(
    a: Prepared,
    b: Prepared,
    *,
    match_threshold: float = MATCH_THRESHOLD,
    probable_threshold: float = PROBABLE_THRESHOLD,
    prior_log2: float = PRIOR_LOG2,
) -> Link | None:
    """Compare two prepared records; a Link when the score reaches the probable threshold."""
    levels = comparison_levels(a, b)
    id_level = levels[0] if levels and levels[0].startswith("id_") else None
    reasons = [REASON[lv] for lv in levels if REASON[lv]]
    if (a.birth_from_id or b.birth_from_id) and any(
        lv in ("birth_exact", "birth_swapped", "birth_close", "birth_differs") for lv in levels
    ):
        reasons.append("birth_from_id")
    if id_level == "id_exact":
        level, score = "match", 1.0
    else:
        weight = sum(WEIGHTS[lv] for lv in levels)
        if "name_exact" in levels and (a.name_u or b.name_u):
            # Term frequency: 王伟 shared by two records says less than 欧阳翠珊 does.
            u = max(a.name_u, b.name_u, NAME_U_FLOOR)
            weight += math.log2(_LEVELS["name_exact"][1] / u) - WEIGHTS["name_exact"]
        score = _score(weight, prior_log2)
        if score < probable_threshold:
            return None
        if score >= match_threshold and _SUPPORT.intersection(levels):
            level = "match"
        else:
            level = "probable"
        score = min(round(score, 4), 0.9999)  # 1.0 is kept for an exact valid ID
    left, right = (a.key, b.key)
    return Link(left=left, right=right, score=score, level=level, reasons=tuple(reasons))


def compare(
    a: LinkRecord,
    b: LinkRecord,
    *,
    blind_index: BlindIndex | None = None,
    phone_blind_index: BlindIndex | None = None,
    match_threshold: float = MATCH_THRESHOLD,
    probable_threshold: float = PROBABLE_THRESHOLD,
) -> Link | None:
    """Compare two records; None when they are not even a probable match.

    ``blind_index`` turns a valid plaintext national ID into the register's blind index (the
    app passes ``lambda v: crypto.blind_index("national_id", v)``); ``phone_blind_index`` the
    same for phones. Without them plaintext meets blind index only through the tails.
    """
    return compare_prepared(
        prepare(a, blind_index=blind_index, phone_blind_index=phone_blind_index),
        prepare(b, blind_index=blind_index, phone_blind_index=phone_blind_index),
        match_threshold=match_threshold,
        probable_threshold=probable_threshold,
    )


# ---------------------------------------------------------------- blocking


def _name_keys(p: Prepared) -> tuple[str, ...]:
    return _near_name_keys(p.name)[0] if p.name else ()


def _surname_keys(p: Prepared) -> tuple[str, ...]:
    return _near_name_keys(p.name)[1] if p.name else ()


def _with_birth(p: Prepared, suffix: str) -> list[str]:
    return [n + suffix for n in _name_keys(p)]


# Blocking key families: (code, the record's keys in that family). Two records are compared
# when they share a key of one family. Documented with their recall cost in decision 0019.
BlockFamily = tuple[str, Callable[[Prepared], Iterable[str]]]
BLOCK_FAMILIES: tuple[BlockFamily, ...] = (
    ("i", lambda p: (p.id_bidx,) if p.id_bidx else ()),  # ID blind index
    ("I", lambda p: (p.id_plain,) if len(p.id_plain) == 18 else ()),  # ID plaintext
    ("p", lambda p: (p.phone_bidx,) if p.phone_bidx else ()),  # phone blind index
    ("P", lambda p: (p.phone_plain,) if p.phone_plain else ()),  # phone plaintext
    ("N", _name_keys),  # name alone: pairs only where a birth date is missing
    ("n", lambda p: _with_birth(p, str(p.birth.year)) if p.birth else ()),  # name + year
    (
        "b",  # birth date (day/month swap-proof) + surname
        lambda p: [K.birth_block_key(p.birth) + s for s in _surname_keys(p)] if p.birth else (),
    ),
    ("m", lambda p: _with_birth(p, f"{p.birth:%m%d}") if p.birth else ()),  # name + month-day
    ("t", lambda p: [p.id_tail + s for s in _surname_keys(p)] if p.id_tail else ()),
    ("q", lambda p: [p.phone_tail + s for s in _surname_keys(p)] if p.phone_tail else ()),
    (
        "a",  # surname + the digits of the address (the same flat)
        lambda p: (
            [s + "-".join(p.address_numbers) for s in _surname_keys(p)] if p.address_numbers else ()
        ),
    ),
)


def blocking_keys(p: Prepared) -> list[str]:
    """The blocks a record belongs to (family code + key); see :data:`BLOCK_FAMILIES`.

    ``i``/``I`` ID blind index / plaintext, ``p``/``P`` phone blind index / plaintext,
    ``N`` near-pinyin name alone (pairs only where a birth date is missing, see
    :func:`candidate_pairs`), ``n`` near-pinyin name + birth year, ``b`` birth date (day/month
    swap-proof) + near-pinyin surname, ``m`` name + month and day (a mistyped year),
    ``t`` ID tail + surname, ``q`` phone tail + surname, ``a`` surname + digits of the
    address.
    """
    return [code + k for code, keys in BLOCK_FAMILIES for k in keys(p)]


@functools.lru_cache(maxsize=262_144)
def _near_name_keys(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Near-pinyin forms of a whole name and of its surname.

    The surname reading and, when different, the commonest reading of the first character
    (a worker who does not know 单 reads shan as a surname may have written 丹).
    """
    syllables = K.name_syllables(name)
    if not syllables:
        return (), ()
    rest = "".join(K.near_syllable(s) for s in syllables[1:])
    firsts = sorted(
        {K.near_syllable(syllables[0]), K.near_syllable(K.char_default_reading(name[0]))}
    )
    return tuple(f + rest for f in firsts), tuple(firsts)


def candidate_pairs(
    left: Sequence[Prepared],
    right: Sequence[Prepared],
    *,
    max_block_pairs: int = MAX_BLOCK_PAIRS,
) -> set[tuple[int, int]]:
    """Index pairs (left, right) that share at least one block.

    One family at a time, and the right side indexed only under keys the left side has, so
    memory holds one family's index. The name-alone family (``N``) pairs only records of
    which at least one has no birth date: two dated records meet through ``n``/``m`` instead.
    """
    width = len(right)
    return {(c // width, c % width) for c in _candidate_codes(left, right, max_block_pairs)}


def _candidate_codes(
    left: Sequence[Prepared], right: Sequence[Prepared], max_block_pairs: int
) -> set[int]:
    """:func:`candidate_pairs` as codes i * len(right) + j (half the memory of tuples)."""
    width = len(right)
    pairs: set[int] = set()
    for code, keys in BLOCK_FAMILIES:
        lb: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(left):
            for k in keys(p):
                lb[k].append(i)
        rb: dict[str, list[int]] = defaultdict(list)
        for j, p in enumerate(right):
            for k in keys(p):
                if k in lb:
                    rb[k].append(j)
        for k, ri in rb.items():
            li = lb[k]
            if code == "N":
                l0 = [i for i in li if left[i].birth is None]
                r0 = [j for j in ri if right[j].birth is None]
                if len(l0) * len(ri) + len(li) * len(r0) > max_block_pairs:
                    continue
                pairs.update(i * width + j for i in l0 for j in ri)
                pairs.update(i * width + j for i in li for j in r0)
            elif len(li) * len(ri) <= max_block_pairs:
                pairs.update(i * width + j for i in li for j in ri)
    return pairs


def candidate_pairs_within(
    records: Sequence[Prepared], *, max_block_pairs: int = MAX_BLOCK_PAIRS
) -> set[tuple[int, int]]:
    """Index pairs (i < j) of one set that share at least one block (``N``: as above)."""
    pairs: set[tuple[int, int]] = set()
    for code, keys in BLOCK_FAMILIES:
        blocks: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(records):
            for k in keys(p):
                blocks[k].append(i)
        for members in blocks.values():
            n = len(members)
            if n < 2:
                continue
            if code == "N":
                without = [i for i in members if records[i].birth is None]
                if len(without) * n > max_block_pairs:
                    continue
                pairs.update((min(i, j), max(i, j)) for i in without for j in members if i != j)
            elif n * (n - 1) // 2 <= max_block_pairs:
                pairs.update((members[x], members[y]) for x in range(n) for y in range(x + 1, n))
    return pairs


# ---------------------------------------------------------------- the two entry points


def size_prior(size: int) -> float:
    """Prior log2-odds that a compared pair is the same person, for a set of *size* records.

    A record of the smaller side has (at most) one partner among the larger side's *size*
    records, so a pair drawn at random is the same person with probability about 1/size.
    Bounded to [-24, -10]: below 1,000 records the prior stays that of 1,000 so that small
    lists do not make weak evidence look strong.
    """
    return max(-24.0, min(-10.0, -math.log2(max(size, 1))))


def _count_names(prepared: Sequence[Prepared]) -> None:
    """Set each record's ``name_u``: the share of the records that carry its name."""
    # Smoothed towards the default u as if NAME_U_PSEUDO more records had been seen, so a name
    # seen once among ten records is not taken as a one-in-ten name.
    counts = Counter(p.name for p in prepared if p.name)
    u0 = _LEVELS["name_exact"][2]
    denominator = len(prepared) + NAME_U_PSEUDO
    for p in prepared:
        if p.name:
            p.name_u = (counts[p.name] + u0 * NAME_U_PSEUDO) / denominator


def link(
    left: Iterable[LinkRecord],
    right: Iterable[LinkRecord],
    *,
    blind_index: BlindIndex | None = None,
    match_threshold: float = MATCH_THRESHOLD,
    probable_threshold: float = PROBABLE_THRESHOLD,
    phone_blind_index: BlindIndex | None = None,
    max_block_pairs: int = MAX_BLOCK_PAIRS,
    prior_log2: float | None = None,
) -> list[Link]:
    """Pairs (left record, right record) that are a match or a probable match.

    ``prior_log2`` defaults to "each record of the smaller side has one partner on the larger
    side": log2(1 / size of the larger side) (see :func:`size_prior`).

    Sorted by left key, then right key. A left record may link to several right records (the
    caller decides; e.g. the review queue shows them side by side).
    """
    lp = [prepare(r, blind_index=blind_index, phone_blind_index=phone_blind_index) for r in left]
    rp = [prepare(r, blind_index=blind_index, phone_blind_index=phone_blind_index) for r in right]
    _count_names([*lp, *rp])
    prior = size_prior(max(len(lp), len(rp))) if prior_log2 is None else prior_log2
    links = []
    width = len(rp)
    for code in _candidate_codes(lp, rp, max_block_pairs):
        found = compare_prepared(
            lp[code // width],
            rp[code % width],
            match_threshold=match_threshold,
            probable_threshold=probable_threshold,
            prior_log2=prior,
        )
        if found is not None:
            links.append(found)
    links.sort(key=lambda lk: (lk.left, lk.right))
    return links


def dedupe(
    records: Iterable[LinkRecord],
    *,
    blind_index: BlindIndex | None = None,
    match_threshold: float = MATCH_THRESHOLD,
    probable_threshold: float = PROBABLE_THRESHOLD,
    phone_blind_index: BlindIndex | None = None,
    max_block_pairs: int = MAX_BLOCK_PAIRS,
    prior_log2: float | None = None,
) -> list[Link]:
    """Pairs within one set that are the same person; in each, ``left`` < ``right``.

    ``prior_log2`` defaults to log2(1 / number of records) (see :func:`size_prior`).
    """
    ps = [prepare(r, blind_index=blind_index, phone_blind_index=phone_blind_index) for r in records]
    _count_names(ps)
    prior = size_prior(len(ps)) if prior_log2 is None else prior_log2
    links = []
    for i, j in candidate_pairs_within(ps, max_block_pairs=max_block_pairs):
        a, b = (ps[i], ps[j]) if ps[i].key < ps[j].key else (ps[j], ps[i])
        found = compare_prepared(
            a,
            b,
            match_threshold=match_threshold,
            probable_threshold=probable_threshold,
            prior_log2=prior,
        )
        if found is not None:
            links.append(found)
    links.sort(key=lambda lk: (lk.left, lk.right))
    return links
