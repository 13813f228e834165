"""Every shipped template on the demo register as ``make setup`` seeds it (a smaller register,
the same commands): ``linli report render --all`` writes each format for a demo community, and
the consumer reads every file back (LibreOffice for xlsx and csv, a PDF reader for PDF).

The demo declares no emergency, so the two emergency templates (来返人员登记表,
居家隔离人员健康监测表) are rightly empty there: their form, header block and a zero total."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from linli.areas.models import Area
from linli.reports.library import LIBRARY
from linli.reports.registry import shipped_templates
from tests.reports.conftest import soffice_texts

pytestmark = pytest.mark.django_db

EMPTY_ON_THE_DEMO = {"arrivals-register", "home-quarantine-monitoring"}


@pytest.fixture
def demo(settings: Any, tmp_path: Path) -> Area:
    settings.VAR_DIR = tmp_path / "var"
    call_command("seed_demo", "--people", "600")
    call_command("seed_orders_demo")
    call_command("seed_volunteers")
    call_command("report", "load-library")
    return Area.objects.get(name="春风社区")


def test_every_shipped_template_renders_on_the_demo(
    demo: Area, tmp_path: Path, capsys: Any
) -> None:
    for fmt in ("xlsx", "csv", "pdf"):
        _render_all(demo, tmp_path, capsys, fmt)


def _render_all(demo: Area, tmp_path: Path, capsys: Any, fmt: str) -> None:
    out = tmp_path / fmt
    capsys.readouterr()
    call_command(
        "report", "render", "--all", "--area", demo.code, "--out", str(out), "--format", fmt
    )
    printed = [line.split() for line in capsys.readouterr().out.splitlines() if "→" in line]
    rows = {parts[0]: int(parts[1]) for parts in printed}
    codes = set(LIBRARY) | set(shipped_templates())
    assert set(rows) == codes
    assert {c for c, n in rows.items() if n == 0} == EMPTY_ON_THE_DEMO, rows
    files = sorted(out.iterdir())
    assert len(files) == len(codes) and all(p.suffix == f".{fmt}" for p in files)
    if fmt == "pdf":
        texts = ["\n".join(pg.extract_text() for pg in PdfReader(p).pages) for p in files]
    else:
        read = soffice_texts(files, tmp_path / f"lo-{fmt}")
        texts = [read[p] for p in files]
    for path, text in zip(files, texts, strict=True):
        assert "春风社区" in path.name and text.strip(), path.name
    joined = "\n".join(texts)
    # CSV is the table alone; xlsx and PDF carry the form's title and header block.
    expected = (
        ("与户主关系", "来自何地", "服务时长（小时）", "超期未办结")
        if fmt == "csv"
        else ("实有人口花名册", "工单办理情况统计表", "志愿服务时长登记表", "来返人员登记表")
    )
    for text in expected:
        assert text in joined, (fmt, text)
