"""The two library templates of linli.health: test-round statistics and vaccination coverage
statistics render per child area with exact numbers, open in LibreOffice, and a grid worker's
render holds nothing of the sibling grid."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from linli.health import services as hs
from linli.reports.models import RenderStatus, ReportTemplate
from tests.factories import World
from tests.reports.conftest import csv_rows
from tests.reports.test_renders import _render, _texts

pytestmark = pytest.mark.django_db

CODES = ["test-round-statistics", "vaccination-coverage-statistics"]


@pytest.fixture
def health(rworld: World) -> Any:
    """rworld has 3 living people per grid (householder b. 1951/1952, a child b. 2012, a
    floating tenant b. 1980). A: 2 negative, 1 positive... see the numbers below."""
    w = rworld
    rnd = hs.round_open(
        actor=None, name="第一轮", area=w.community, date=dt.date(2026, 11, 20), sites=["广场"]
    )
    a_people = list(w.a.grid.persons.order_by("pk"))
    b_people = list(w.b.grid.persons.order_by("pk"))
    hs.test_result_record(actor=None, round=rnd, person=a_people[0], result="negative")
    hs.test_result_record(actor=None, round=rnd, person=a_people[1], result="positive")
    hs.test_sample(actor=None, round=rnd, person=a_people[2])
    hs.test_result_record(actor=None, round=rnd, person=b_people[0], result="negative")

    def doses(p: Any, n: int) -> None:
        for d in range(1, n + 1):
            hs.vaccination_record(
                actor=None, person=p, dose=d, product="科兴", vaccinated_on=dt.date(2021, d, 1)
            )

    doses(a_people[0], 3)  # 60+
    doses(a_people[1], 1)  # 0–17
    doses(a_people[2], 2)  # 18–59
    doses(b_people[0], 1)  # 60+
    return rnd


def _data(text: str) -> dict[str, list[str]]:
    rows = [r for r in csv_rows(text) if any(c.strip() for c in r)]
    return {r[1] or r[0]: r[2:] for r in rows if r and (r[0].isdigit() or r[0] == "合计")}


def test_templates_are_in_the_library_once(rworld: World) -> None:
    call_command("report", "load-library")
    for code in CODES:
        assert ReportTemplate.objects.filter(code=code).count() == 1


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_statistics_are_exact_and_open_in_libreoffice(
    rworld: World,
    health: Any,
    tmp_path: Path,
    fmt: str,
) -> None:
    w = rworld
    renders = [_render(w.head, code, w.community, fmt) for code in CODES]
    assert [r.status for r in renders] == [RenderStatus.DONE] * 2, [r.error for r in renders]
    tests_text, vacc_text = _texts(renders, tmp_path)
    t = _data(tests_text)
    # people, sampled, negative, positive, pending, missing
    assert t["网格A"] == ["3", "3", "1", "1", "1", "0"]
    assert t["网格B"] == ["3", "1", "1", "0", "0", "2"]
    assert t["合计"][-6:] == ["6", "4", "2", "1", "1", "2"]
    v = _data(vacc_text)
    # all: people ≥1 ≥2 booster, none; then 0–17, 18–59, 60+: people ≥1 ≥2 booster
    assert v["网格A"] == [
        "3",
        "3",
        "2",
        "1",
        "0",
        "1",
        "1",
        "0",
        "0",
        "1",
        "1",
        "1",
        "0",
        "1",
        "1",
        "1",
        "1",
    ]
    assert v["网格B"] == [
        "3",
        "1",
        "0",
        "0",
        "2",
        "1",
        "0",
        "0",
        "0",
        "1",
        "0",
        "0",
        "0",
        "1",
        "1",
        "0",
        "0",
    ]
    if fmt == "xlsx":
        assert "测试社区核酸检测轮次统计表" in tests_text
        assert "测试社区新冠疫苗接种情况统计表" in vacc_text
        assert "填报单位：测试社区" in tests_text


def test_grid_worker_render_holds_only_their_grid(
    rworld: World,
    health: Any,
    tmp_path: Path,
) -> None:
    w = rworld
    renders = [_render(w.a.worker, code, w.a.grid, "xlsx") for code in CODES]
    tests_text, vacc_text = _texts(renders, tmp_path)
    for text in (tests_text, vacc_text):
        assert "网格B" not in text
    assert _data(tests_text)["网格A"] == ["3", "3", "1", "1", "1", "0"]
    # A department holds no health permission: its render counts nobody.
    from linli.accounts.services import user_create

    dept, _ = user_create(
        actor=None, username="dept-h", password="x-pass-2026", role="department", area=w.community
    )
    render = _render(dept, CODES[0], w.community, "csv")
    assert render.status == RenderStatus.DONE
    (text,) = _texts([render], tmp_path / "dept")
    assert set(_data(text)["合计"][-6:]) == {"0"}
