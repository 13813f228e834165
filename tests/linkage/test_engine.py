"""The linkage engine: compare() on each reason, blocking, link() and dedupe()."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from linli.linkage import engine as E
from linli.linkage.engine import Link, LinkRecord, compare, dedupe, link
from linli.linkage.keys import id_check_digit


def nid(first17: str) -> str:
    return first17 + id_check_digit(first17)


ID_A = nid("37010219900307451")  # born 1990-03-07, male
ID_B = nid("37010219851120002")  # born 1985-11-20, female
BIRTH_A = dt.date(1990, 3, 7)


def bidx(value: str) -> str:
    return hashlib.sha256(b"k" + value.encode()).hexdigest()[:32]


def rec(key: str = "r", **kw: object) -> LinkRecord:
    return LinkRecord(key=key, **kw)  # type: ignore[arg-type]


def reasons(a: LinkRecord, b: LinkRecord, **kw: object) -> tuple[str, ...]:
    found = compare(a, b, **kw)  # type: ignore[arg-type]
    assert found is not None
    return found.reasons


# ---------------------------------------------------------------- national ID


def test_exact_valid_id_is_always_a_match() -> None:
    a = rec("1", name="王晓明", id_number=ID_A)
    b = rec("2", name="李四", id_number=ID_A.lower(), phone="13900000000")
    found = compare(a, b)
    assert found == Link(
        left="1", right="2", score=1.0, level="match", reasons=("id_exact", "name_differs")
    )


def test_exact_id_through_the_blind_index() -> None:
    listed = rec("row-3", name="王晓明", id_number=ID_A)
    person = rec("17", name="王晓明", id_bidx=bidx(ID_A), id_tail=ID_A[-4:])
    assert compare(listed, person, blind_index=bidx) == Link(
        left="row-3", right="17", score=1.0, level="match", reasons=("id_exact", "name_exact")
    )
    # Without the function only the tail can be compared: strong, but not an exact ID.
    without = compare(listed, person)
    assert without is not None
    assert without.reasons == ("id_tail", "name_exact")
    assert without.score < 1.0


def test_transposed_and_one_digit_ids() -> None:
    swapped = ID_A[:2] + ID_A[3] + ID_A[2] + ID_A[4:]
    one_off = ID_A[:3] + ("9" if ID_A[3] != "9" else "8") + ID_A[4:]
    base = rec("1", name="王晓明", id_number=ID_A)
    assert reasons(base, rec("2", name="王晓明", id_number=swapped)) == (
        "id_transposed",
        "name_exact",
    )
    assert reasons(base, rec("2", name="王晓明", id_number=one_off)) == (
        "id_one_digit",
        "name_exact",
    )


def test_mistyped_id_against_the_register_tail_and_birth_date() -> None:
    typo = ID_A[:3] + ("9" if ID_A[3] != "9" else "8") + ID_A[4:]  # fails the check digit
    listed = rec("row", name="王小明", id_number=typo)
    person = rec("p", name="王晓明", id_bidx=bidx(ID_A), id_tail=ID_A[-4:], birth_date=BIRTH_A)
    found = compare(listed, person, blind_index=bidx)
    assert found is not None
    assert found.reasons == ("id_tail", "name_homophone", "birth_exact", "birth_from_id")
    assert found.level == "match"


def test_two_different_valid_ids_keep_people_apart() -> None:
    a = rec("1", name="王晓明", id_number=ID_A, phone="13812345678")
    b = rec("2", name="王晓明", id_number=ID_B, phone="13812345678")
    assert compare(a, b) is None


# ---------------------------------------------------------------- names, dates, phones


@pytest.mark.parametrize(
    ("other", "reason"),
    [
        ("王晓明", "name_exact"),
        ("王小明", "name_homophone"),
        ("汪晓敏", "name_near_pinyin"),
        ("王晓红", "name_similar"),
        ("wangxiaoming", "name_pinyin"),
    ],
)
def test_name_levels(other: str, reason: str) -> None:
    a = rec("1", name="王晓明", birth_date=BIRTH_A, phone="13812345678")
    b = rec("2", name=other, birth_date=BIRTH_A, phone="13812345678")
    assert reasons(a, b) == (reason, "birth_exact", "phone_exact")


def test_different_name_is_never_more_than_probable() -> None:
    a = rec("1", name="王晓明", birth_date=BIRTH_A, phone="13812345678", address="3栋2单元301")
    b = rec("2", name="王建国", birth_date=BIRTH_A, phone="13812345678", address="3-2-301")
    found = compare(a, b)
    assert found is not None
    assert found.level == "probable"
    assert found.reasons == ("name_differs", "birth_exact", "phone_exact", "address_same")


def test_birth_date_levels() -> None:
    a = rec("1", name="王晓明", birth_date=BIRTH_A)
    assert reasons(a, rec("2", name="王晓明", birth_date=dt.date(1990, 7, 3))) == (
        "name_exact",
        "birth_swapped",
    )
    assert compare(a, rec("2", name="王晓明", birth_date=dt.date(1971, 1, 9))) is None
    # A birth date read from a typed ID counts and says so.
    assert reasons(a, rec("2", name="王晓明", id_number=ID_A)) == (
        "name_exact",
        "birth_exact",
        "birth_from_id",
    )


def test_phone_levels() -> None:
    a = rec("1", name="王晓明", birth_date=BIRTH_A, phone="13812345678")

    def phone_reason(**kw: object) -> str:
        return reasons(a, rec("2", name="王晓明", birth_date=BIRTH_A, **kw))[-1]

    assert phone_reason(phone="138 1234 5678") == "phone_exact"
    assert phone_reason(phone="13812345679") == "phone_one_digit"
    assert phone_reason(phone="13812345687") == "phone_one_digit"
    assert phone_reason(phone="13999995678") == "phone_tail"
    assert phone_reason(phone_tail="5678") == "phone_tail"
    assert phone_reason(phone="15000001111") == "phone_changed"
    assert phone_reason(phone_bidx=bidx("13812345678")) == "birth_exact"  # no function: unknown
    assert (
        reasons(
            a,
            rec("2", name="王晓明", birth_date=BIRTH_A, phone_bidx=bidx("13812345678")),
            phone_blind_index=bidx,
        )[-1]
        == "phone_exact"
    )


def test_sex_and_address() -> None:
    a = rec("1", name="王晓明", birth_date=BIRTH_A, sex="M", address="幸福小区3号楼2单元301室")
    b = rec("2", name="王晓明", birth_date=BIRTH_A, sex="F", address="幸福小区3幢2单元301")
    assert reasons(a, b) == ("name_exact", "birth_exact", "sex_differs", "address_same")
    c = rec("2", name="王晓明", birth_date=BIRTH_A, sex="M", address="幸福小区3幢2单元302")
    assert reasons(a, c) == ("name_exact", "birth_exact", "address_similar")


def test_compare_is_symmetric() -> None:
    a = rec("1", name="王小明", id_number=ID_A[:-1] + "0", phone="13812345678")
    b = rec("2", name="王晓明", id_bidx=bidx(ID_A), id_tail=ID_A[-4:], birth_date=BIRTH_A)
    ab, ba = compare(a, b, blind_index=bidx), compare(b, a, blind_index=bidx)
    assert ab is not None and ba is not None
    assert (ab.score, ab.level, ab.reasons) == (ba.score, ba.level, ba.reasons)


def test_scores_are_ordered_by_evidence() -> None:
    base = rec("1", name="王晓明", birth_date=BIRTH_A, phone="13812345678")
    strong = compare(base, rec("2", name="王晓明", birth_date=BIRTH_A, phone="13812345678"))
    weaker = compare(base, rec("2", name="王小明", birth_date=BIRTH_A, phone="15000001111"))
    assert strong is not None and weaker is not None
    assert 1.0 > strong.score > weaker.score >= E.PROBABLE_THRESHOLD


# ---------------------------------------------------------------- link / dedupe


LEFT = [
    rec("L1", name="王晓明", id_number=ID_A, phone="13812345678"),
    rec("L2", name="李秀英", birth_date=dt.date(1962, 5, 1), phone="13700001111"),
    rec("L3", name="张伟", birth_date=dt.date(2001, 1, 2)),
]
RIGHT = [
    rec("R1", name="王小明", id_bidx=bidx(ID_A), id_tail=ID_A[-4:], birth_date=BIRTH_A),
    rec("R2", name="李秀瑛", birth_date=dt.date(1962, 1, 5), phone="13700001111"),
    rec("R3", name="张薇", birth_date=dt.date(1979, 8, 9)),
]


def test_link_finds_the_pairs_and_only_them() -> None:
    found = link(LEFT, RIGHT, blind_index=bidx)
    assert [(lk.left, lk.right, lk.level) for lk in found] == [
        ("L1", "R1", "match"),
        ("L2", "R2", "match"),
    ]
    assert found[0].reasons == ("id_exact", "name_homophone", "birth_exact", "birth_from_id")
    assert found[1].reasons == ("name_homophone", "birth_swapped", "phone_exact")


def test_link_is_symmetric() -> None:
    forward = {(lk.left, lk.right, lk.score, lk.level, lk.reasons) for lk in link(LEFT, RIGHT)}
    backward = {(lk.right, lk.left, lk.score, lk.level, lk.reasons) for lk in link(RIGHT, LEFT)}
    assert forward == backward
    assert len(forward) == 2


def test_link_thresholds() -> None:
    default = link(LEFT, RIGHT, blind_index=bidx)
    assert [lk.score for lk in default] == [1.0, 0.9999]
    # Only an exact valid ID reaches 1.0.
    assert link(LEFT, RIGHT, blind_index=bidx, probable_threshold=1.0) == default[:1]
    # A pair between the thresholds is probable.
    assert [lk.level for lk in link(LEFT, RIGHT, match_threshold=1.0)] == ["probable"] * 2


def test_dedupe_orders_keys_within_each_pair() -> None:
    found = dedupe([*RIGHT, *reversed(LEFT)])
    assert [(lk.left, lk.right) for lk in found] == [("L1", "R1"), ("L2", "R2")]


def test_blocking_never_compares_records_without_a_shared_key() -> None:
    ps = [E.prepare(r) for r in (*LEFT, *RIGHT)]
    assert E.blocking_keys(ps[2]) == ["Nzanwei", "nzanwei2001", "b20010102zan", "mzanwei0102"]
    # 张伟 and 张薇 share the name-alone block (same pinyin) but both have a birth date (in
    # different years), so they are not compared.
    assert E.candidate_pairs(ps[:3], ps[3:]) == {(0, 0), (1, 1)}
    # Without a birth date the name alone brings them together; they are then told apart.
    undated = E.prepare(rec("L4", name="张伟", sex="M"))
    assert E.candidate_pairs([undated], ps[3:]) == {(0, 2)}
    assert E.compare_prepared(undated, ps[5]) is None


# ---------------------------------------------------------------- every reason code


TWIN = nid("37010219900307453")  # ID_A's twin brother: same birth date, next number
REASON_CASES: list[tuple[LinkRecord, LinkRecord, tuple[str, ...]]] = [
    (
        rec("1", name="王晓明", id_number=ID_A, address="幸福小区3号楼2单元301室"),
        rec("2", name="王晓明", id_number=ID_A, address="3-2-301"),
        ("id_exact", "name_exact", "address_same"),
    ),
    (
        rec("1", name="王晓明", id_number=ID_A[:3] + "8" + ID_A[4:]),  # fails the check digit
        rec("2", name="王小明", id_bidx=bidx(ID_A), id_tail=ID_A[-4:], birth_date=BIRTH_A),
        ("id_tail", "name_homophone", "birth_exact", "birth_from_id"),
    ),
    (
        rec("1", name="王晓明", id_number=ID_A[:5] + ID_A[6] + ID_A[5] + ID_A[7:]),
        rec("2", name="wang xiaoming", id_number=ID_A),
        ("id_transposed", "name_pinyin"),
    ),
    (
        rec("1", name="王晓明", id_number=ID_A[:-2] + "9" + ID_A[-1]),
        rec("2", name="汪晓敏", id_number=ID_A),
        ("id_one_digit", "name_near_pinyin"),  # the birth dates come from those IDs
    ),
    (
        rec("1", name="王晓明", id_number=TWIN, phone="13812345678", address="幸福小区3栋2单元301"),
        rec("2", name="王晓亮", id_number=ID_A, phone="13812345678", address="幸福小区3栋2单元301"),
        ("id_differs", "name_similar", "phone_exact", "address_same"),
    ),
    (
        rec("1", name="王晓明", birth_date=dt.date(1990, 3, 8), phone="13812345678"),
        rec("2", name="王晓明", birth_date=BIRTH_A, phone="13812345679"),
        ("name_exact", "birth_close", "phone_one_digit"),
    ),
    (
        rec("1", name="王晓明", birth_date=BIRTH_A, phone="13812345678", sex="M"),
        rec("2", name="王晓明", birth_date=dt.date(1990, 7, 3), phone_tail="5678", sex="F"),
        ("name_exact", "birth_swapped", "phone_tail", "sex_differs"),
    ),
    (
        rec("1", name="王晓明", birth_date=BIRTH_A, phone="13812345678", address="幸福小区3栋"),
        rec("2", name="王晓明", birth_date=BIRTH_A, phone="15000000000", address="幸福小区9栋"),
        ("name_exact", "birth_exact", "phone_changed", "address_similar"),
    ),
    (
        rec("1", name="王晓明", birth_date=BIRTH_A, address="幸福小区3号楼2单元301室"),
        rec("2", name="王晓明", birth_date=BIRTH_A, address="幸福小区12号楼1单元1102室"),
        ("name_exact", "birth_exact", "address_same_place"),
    ),
    (
        rec("1", name="王晓明", birth_date=BIRTH_A, phone="13812345678", address="阳光花园1栋"),
        rec("2", name="王晓明", birth_date=BIRTH_A, phone="13812345678", address="和平路88号"),
        ("name_exact", "birth_exact", "phone_exact", "address_differs"),
    ),
    (
        rec("1", name="王晓明", id_number=ID_A, birth_date=BIRTH_A),
        rec("2", name="王建国", id_number=ID_A, birth_date=dt.date(1960, 1, 1)),
        ("id_exact", "name_differs", "birth_differs"),
    ),
]


@pytest.mark.parametrize(("a", "b", "expected"), REASON_CASES)
def test_reason_codes(a: LinkRecord, b: LinkRecord, expected: tuple[str, ...]) -> None:
    found = compare(a, b, blind_index=bidx, probable_threshold=0.0)
    assert found is not None
    assert found.reasons == expected


def test_reason_cases_cover_every_code() -> None:
    covered = {code for _a, _b, expected in REASON_CASES for code in expected}
    assert covered == set(E.REASONS)
