"""Pinyin forms of names, so workers can search 张三 by "zs" or "zhangsan"."""

from __future__ import annotations

import functools

from pypinyin import Style, lazy_pinyin


@functools.lru_cache(maxsize=200_000)
def pinyin_forms(name: str) -> tuple[str, str]:
    """(full pinyin without tones or spaces, initials), lower case."""
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full[:128], initials[:32]
