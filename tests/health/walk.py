"""Grid B's health objects for the cross-grid walk (tests/test_scoping_walk.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from linli.health import services as hs
from linli.health.models import (
    ImportRun,
    ImportRunStatus,
    PositiveAlert,
    TestRecord,
    TestRound,
    Vaccination,
)
from tests.factories import World


def health_extras(world: World) -> dict[str, Any]:
    """A round over grid B only, B's householder tested positive (an alert), and a dose for
    B's member."""
    rnd = hs.round_open(
        actor=None,
        name="乙网格核酸",
        area=world.b.grid,
        date=timezone.localdate(),
        sites=["乙采样点"],
    )
    rec, _ = hs.test_result_record(
        actor=None, round=rnd, person=world.b.householder, result="positive"
    )
    hs.vaccination_record(
        actor=None,
        person=world.b.member,
        dose=1,
        product="乙疫苗",
        vaccinated_on=dt.date(2021, 6, 1),
    )
    # A refused background import of grid B's worker: its page, bar and workbook are theirs
    # (no workbook file: the walk asks for the pages, which answer 404 before any file).
    run = ImportRun.objects.create(
        kind="results",
        round=rnd,
        file_name="乙结果.xlsx",
        status=ImportRunStatus.REFUSED,
        rows=1,
        refused=1,
        refused_preview=[[2, "原因"]],
        created_by=world.b.worker,
    )
    return {
        "round_b": rnd,
        "record_b": rec,
        "alert_b": PositiveAlert.objects.get(record=rec),
        "import_run_b": run,
    }


def health_snapshot() -> tuple[Any, ...]:
    """Everything a refused health write could change."""
    return (
        list(TestRound.objects.values_list("pk", "name", "status")),
        list(TestRecord.objects.values_list("pk", "result", "external_id")),
        list(Vaccination.objects.values_list("pk", "dose", "product")),
        list(PositiveAlert.objects.values_list("pk", "status", "quarantine_id")),
    )
