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


# Django merges the apps' catalogues into one; where two apps translate the same English
# string differently, the app listed first in INSTALLED_APPS wins and the other app silently
# shows a translation written for another context ("Ledger" as 积分明细 on a report). A string
# whose meaning differs between apps takes a context (pgettext / {% translate … context … %}).
# These differ only in wording; either reads right wherever it shows.
SYNONYMS = {
    "name", "You may not do this.", "Your role does not include use of the API.",
    "Linli community register", "Community", "Grid", "code", "reason", "Breadcrumb",
    "Households", "Area", "Estates", "This is not a valid national ID number.",
    "Enter an 11-digit mobile number or a landline with its area code.", "Tags", "Sign out",
    "National ID", "Phone", "Decision", "Reason", "Registered by a worker", "phone", "source",
    "note", "In the register", "Per grid", "No area has the code %(code)s.",
    "There is no file %(file)s.", "Current address",
    "You may not change records outside your jurisdiction.", "description", "Edit",
    "What was done", "Residency", "Department", "Cancelled", "API", "department", "due",
    "Progress", "Householder", "Moved house", "Use a colour like #1a2b3c.", "Imported",
    "Residents", "Done", "Source", "Running", "Row",
    # one English word, two meanings in context (a pass issued / stock issued out; a message
    # sent / a gate scan uploaded; who receives a message / who receives stock; SMS tries /
    # screening calls)
    "Issue", "Recipient", "recipient", "Sent", "sent", "attempts",
}  # fmt: skip


def test_one_english_string_has_one_chinese_meaning() -> None:
    seen: dict[str, dict[str, str]] = {}
    for po in CATALOGUES:
        with po.open("rb") as fh:
            for m in read_po(fh, locale="zh_Hans"):
                if not m.id or m.context:
                    continue
                key = m.id if isinstance(m.id, str) else m.id[0]
                text = m.string if isinstance(m.string, str) else m.string[0]
                seen.setdefault(key, {})[po.parts[-5]] = text
    clashes = {k: v for k, v in seen.items() if len(set(v.values())) > 1 and k not in SYNONYMS}
    assert clashes == {}
