"""The UI is Chinese by default: every catalogue is complete and compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent / "linli"
CATALOGUES = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_there_are_catalogues() -> None:
    assert len(CATALOGUES) >= 5


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_catalogue_complete(po: Path) -> None:
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans")
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
    assert po.with_suffix(".mo").exists(), "run `make messages`"


def test_default_language_is_chinese(settings: object) -> None:
    from linli.accounts.roles import Role

    assert settings.LANGUAGE_CODE == "zh-hans"  # type: ignore[attr-defined]
    with translation.override("zh-hans"):
        assert str(Role.GRID_WORKER.label) == "网格员"
    with translation.override("en"):
        assert str(Role.GRID_WORKER.label) == "Grid worker"


@pytest.mark.django_db
def test_pages_are_chinese_for_an_english_browser_until_switched() -> None:
    from django.test import Client

    c = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in c.get("/w/login/").content.decode()
    c.post("/i18n/setlang/", {"language": "en", "next": "/w/login/"})
    assert "Sign in" in c.get("/w/login/").content.decode()
