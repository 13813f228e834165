"""Fixtures for the reports tests: the two-grid world with tagged and floating residents,
the shipped library loaded, and helpers to read outputs the way their consumers do."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from linli.register import services as reg
from linli.register.models import Person, Residency, Tag
from linli.reports.services import library_load
from tests.factories import World, make_national_id, make_phone, make_world

SOFFICE = shutil.which("soffice")


@pytest.fixture
def rworld(db: None, tmp_path: Path, settings: Any) -> World:
    """The world, plus a floating tenant and tags in each grid, and the library."""
    settings.VAR_DIR = tmp_path / "var"
    w = make_world()
    alone = Tag.objects.get(code="elderly_alone")
    key = Tag.objects.get(code="key_person")
    for g, tag in ((w.a, alone), (w.b, alone)):
        reg.person_tag_set(actor=None, person=g.householder, tags=[tag])
    for g, letter in ((w.a, "A"), (w.b, "B")):
        p = reg.person_create(
            actor=None,
            name=f"流动{letter}",
            national_id=make_national_id(),
            phone=make_phone(),
            household=g.household,
            relation="tenant",
            residency=Residency.FLOATING,
        )
        reg.person_tag_set(actor=None, person=p, tags=[key])
    library_load()
    return w


def b_markers(w: World) -> list[str]:
    """What only grid B's outputs may hold: names, masked IDs, phones, the address."""
    out = []
    for p in Person.objects.filter(grid=w.b.grid):
        out += [p.name, p.id_masked, p.phone_masked, p.reveal_national_id()]
    out += [w.b.dwelling.address, w.b.grid.name]
    return [m for m in out if m]


def soffice_texts(paths: list[Path], tmp: Path) -> dict[Path, str]:
    """Open each file with LibreOffice headless (one process for all) and return what it
    reads, as CSV (UTF-8)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp / "lo-out"
    out.mkdir(parents=True, exist_ok=True)
    texts: dict[Path, str] = {}
    for suffix in sorted({p.suffix for p in paths}):
        group = [p for p in paths if p.suffix == suffix]
        args = ["--infilter=CSV:44,34,76,1"] if suffix == ".csv" else []
        subprocess.run(
            [
                SOFFICE,
                "--headless",
                f"-env:UserInstallation=file://{tmp}/lo-profile",
                *args,
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76,1",
                "--outdir",
                str(out / suffix[1:]),
                *map(str, group),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        for p in group:
            produced = out / suffix[1:] / (p.stem + ".csv")
            assert produced.exists(), f"LibreOffice could not read {p.name}"
            texts[p] = produced.read_text(encoding="utf-8")
    return texts


def soffice_text(path: Path, tmp: Path) -> str:
    return soffice_texts([path], tmp)[path]


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
