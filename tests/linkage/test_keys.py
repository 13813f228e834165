"""Comparison keys: names as pinyin (homophones, heteronyms, near pinyin), IDs, phones, dates."""

from __future__ import annotations

import datetime as dt

from linli.linkage import keys as K


def test_normalise_name_folds_width_spaces_and_dots() -> None:
    assert K.normalise_name(" 王 晓明 ") == "王晓明"
    assert K.normalise_name("阿卜杜·热合曼") == "阿卜杜热合曼"
    assert K.normalise_name("ＷＡＮＧ Xiao") == "wangxiao"


def test_heteronyms_give_every_reading() -> None:
    assert K.char_readings("单") == frozenset({"dan", "chan", "shan"})
    assert K.char_readings("曾") == frozenset({"ceng", "zeng"})
    assert K.char_readings("a") == frozenset({"a"})


def test_surname_reading_is_used_for_the_first_character() -> None:
    assert K.name_syllables("单田芳") == ("shan", "tian", "fang")
    assert K.name_syllables("曾小贤") == ("zeng", "xiao", "xian")
    # In the given name the commonest reading stays.
    assert K.name_syllables("王单") == ("wang", "dan")
    assert K.name_pinyin("单 田芳") == "shantianfang"


def test_homophones_share_a_reading_at_every_position() -> None:
    assert K.is_homophone("王晓明", "王小明")
    assert K.is_homophone("单田芳", "善田芳")  # 单 read shan as a surname
    assert K.is_homophone("曾伟", "增伟")  # 曾 read zeng
    assert not K.is_homophone("王晓明", "王晓")
    assert not K.is_homophone("王晓明", "汪晓敏")  # ming/min: only near
    assert not K.is_homophone("", "")


def test_near_pinyin_table() -> None:
    pairs = {
        "zhang": "zan",
        "zang": "zan",
        "chen": "cen",
        "shi": "si",
        "nan": "lan",
        "lan": "lan",
        "ming": "min",
        "huang": "fan",
        "fang": "fan",
        "hui": "fei",
        "hu": "fu",
        "ren": "ren",
    }
    assert {s: K.near_syllable(s) for s in pairs} == pairs
    assert K.is_near_homophone("刘德华", "牛德华")
    assert K.is_near_homophone("陈明", "岑敏")
    assert K.is_near_homophone("黄丽", "方丽")
    assert not K.is_near_homophone("王丽", "李丽")
    assert K.name_near_key("王晓明") == K.name_near_key("王小敏") == "wanxiaomin"


def test_national_id_normalisation_and_validity() -> None:
    assert K.id_check_digit("11010519491231002") == "X"
    assert K.normalise_id("１１０１０５ １９４９１２３１００２ｘ") == "11010519491231002X"
    assert K.id_is_valid("11010519491231002X")
    assert not K.id_is_valid("110105194912310021")  # check digit
    assert not K.id_is_valid("11010519491331002X")  # month 13
    assert not K.id_is_valid("1101051949123100")
    # 15-digit IDs (before 1999) gain the century and a check digit.
    fifteen = K.normalise_id("110105491231002")
    assert fifteen == "11010519491231002X"
    assert K.id_birth_date(fifteen) == dt.date(1949, 12, 31)
    assert K.id_sex("11010519491231002X") == "F"
    assert K.id_sex("11010519491231001X") == "M"
    assert K.id_birth_date("110105194913310021") is None


def test_phone_normalisation() -> None:
    assert K.normalise_phone("+86 138-1234-5678") == "13812345678"
    assert K.normalise_phone("0086１３８１２３４５６７８") == "13812345678"
    assert K.normalise_phone("0531-8888 6666") == "053188886666"


def test_digit_string_errors() -> None:
    assert K.one_digit_off("13812345678", "13812345679")
    assert not K.one_digit_off("13812345678", "13812345678")
    assert not K.one_digit_off("13812345678", "13812345687")
    assert K.adjacent_swap("13812345678", "13812345687")
    assert not K.adjacent_swap("13812345678", "13812345678")
    assert not K.adjacent_swap("13812345678", "13812345876")


def test_birth_dates() -> None:
    assert K.birth_swapped(dt.date(1990, 3, 7), dt.date(1990, 7, 3))
    assert not K.birth_swapped(dt.date(1990, 3, 3), dt.date(1990, 3, 3))
    assert not K.birth_swapped(dt.date(1990, 3, 7), dt.date(1991, 7, 3))
    assert K.birth_block_key(dt.date(1990, 3, 7)) == K.birth_block_key(dt.date(1990, 7, 3))
    assert K.birth_block_key(dt.date(1990, 3, 7)) == "19900307"


def test_addresses() -> None:
    assert K.normalise_address("3号楼 2单元 301室") == "3栋2单元301"
    assert K.normalise_address("3幢2单元301") == "3栋2单元301"
    assert K.address_numbers("3号楼2单元0301室") == ("3", "2", "301")
    assert K.address_numbers("３-２-３０１") == ("3", "2", "301")


def test_address_place() -> None:
    assert K.address_place(K.normalise_address("金桥苑30号楼1单元301室")) == "金桥苑"
    assert K.address_place(K.normalise_address("东方小区 18栋4单元401")) == "东方小区"
    assert K.address_place(K.normalise_address("历下区和平路12号")) == "历下区和平路"
    assert K.address_place(K.normalise_address("3-2-301")) == ""
