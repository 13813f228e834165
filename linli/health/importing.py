"""Bulk import of test results and vaccinations from .xlsx/.xls/.csv files.

Files are read by linli.intake's readers (encodings, header row, totals rows, hostile files);
columns are recognised by their header names. The import is all or nothing: when any row is
refused, nothing is written and the refused rows come back as a workbook with the reason for
each, in Chinese (the people fixing the file read Chinese whatever the worker's UI language).
Importing the same file twice changes nothing: a person has one record per round and one row
per dose, and an unchanged row is recognised as such.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.core.scoping import scope_for
from linli.core.spreadsheet import escape_cell
from linli.health import services as svc
from linli.health.models import HealthSource, TestResult, TestRound
from linli.intake.errors import IntakeError
from linli.intake.mapping import fold_header, match_header
from linli.intake.readers import Table, read_table
from linli.register.models import Person

# Our own columns (folded header -> field); name and national ID come from intake's synonyms.
_HEADERS: dict[str, str] = {
    "检测结果": "result",
    "核酸结果": "result",
    "结果": "result",
    "result": "result",
    "采样编号": "external_id",
    "样本编号": "external_id",
    "样本号": "external_id",
    "条码号": "external_id",
    "试管编号": "external_id",
    "sampleno": "external_id",
    "采样时间": "sampled_at",
    "采样日期": "sampled_at",
    "剂次": "dose",
    "针次": "dose",
    "第几剂": "dose",
    "接种剂次": "dose",
    "dose": "dose",
    "疫苗": "product",
    "疫苗名称": "product",
    "疫苗厂家": "product",
    "生产企业": "product",
    "vaccine": "product",
    "接种日期": "vaccinated_on",
    "接种时间": "vaccinated_on",
    "date": "vaccinated_on",
    "接种单位": "site",
    "接种点": "site",
    "接种地点": "site",
}
_RESULTS = {
    "阴性": TestResult.NEGATIVE,
    "negative": TestResult.NEGATIVE,
    "neg": TestResult.NEGATIVE,
    "-": TestResult.NEGATIVE,
    "阳性": TestResult.POSITIVE,
    "positive": TestResult.POSITIVE,
    "pos": TestResult.POSITIVE,
    "+": TestResult.POSITIVE,
    "待出": TestResult.PENDING,
    "待检": TestResult.PENDING,
    "pending": TestResult.PENDING,
}
REQUIRED = {
    "results": ("national_id", "result"),
    "vaccinations": ("national_id", "dose", "product", "vaccinated_on"),
}


@dataclass
class ImportOutcome:
    """What an import did: counts when it was written, else the refused rows (nothing
    written). ``problem`` is a message about the whole file (unreadable, columns missing)."""

    written: bool = False
    changed: int = 0
    unchanged: int = 0
    rows: int = 0
    problem: str = ""
    headers: list[str] = field(default_factory=list)
    refused: list[tuple[int, list[str], str]] = field(default_factory=list)

    def refused_workbook(self) -> bytes:
        """The refused rows as .xlsx: the original cells, the row number and the reason."""
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "未导入的行"
        # Cells go back as the file had them, escaped: openpyxl stores text starting with "="
        # as a formula, which the worker's Excel would run.
        ws.append(["原行号", *map(escape_cell, self.headers), "未导入原因"])
        for number, cells, reason in self.refused:
            ws.append([number, *map(escape_cell, cells), escape_cell(reason)])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


def _columns(table: Table) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        folded = fold_header(header)
        name = _HEADERS.get(folded)
        if name is None:
            known, _score = match_header(header)
            if known in ("national_id", "name"):
                name = known
        if name and name not in found:
            found[name] = i
    return found


def parse_day(text: str) -> dt.date:
    """A date as people type it: 2026-11-20, 2026/11/20, 2026.11.20, 20261120, 2026年11月20日."""
    t = text.strip().split("T")[0].split(" ")[0]
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", t) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", t
    )
    if not m:
        raise ValueError(text)
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def _reason(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


def _person(cells: list[str], cols: dict[str, int], may: Any) -> Person:
    person = svc.person_by_national_id(cells[cols["national_id"]])
    # Outside the worker's scope answers exactly like a number the register does not know.
    if not may.covers(person.grid):
        raise ValidationError(svc.unknown_id_message())
    typed = cells[cols["name"]].strip().replace(" ", "") if "name" in cols else ""
    if typed and typed != person.name:
        raise ValidationError(_("The name does not match the national ID number."))
    return person


class _Refused(Exception):
    pass


def import_file(
    *,
    actor: Any,
    kind: str,
    data: bytes,
    filename: str,
    round: TestRound | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Import results (into *round*) or vaccinations from a file, all or nothing;
    *progress(done, total)* is told every few hundred rows (a background run's bar)."""
    if kind == "results" and round is None:
        raise ValueError("results need a round")
    if actor is not None and scope_for(actor, Perm.RECORD_HEALTH).is_empty:
        raise PermissionDenied
    with translation.override("zh-hans"):
        return _import(
            actor=actor, kind=kind, data=data, filename=filename, rnd=round, progress=progress
        )


_PROGRESS_EVERY = 200


def _import(
    *,
    actor: Any,
    kind: str,
    data: bytes,
    filename: str,
    rnd: TestRound | None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    out = ImportOutcome()
    try:
        table = read_table(data, filename=filename)
    except IntakeError as exc:
        out.problem = str(exc.message)
        return out
    out.headers = list(table.headers)
    cols = _columns(table)
    missing = [c for c in REQUIRED[kind] if c not in cols]
    if missing:
        labels = {
            "national_id": "身份证号",
            "result": "检测结果",
            "dose": "剂次",
            "product": "疫苗名称",
            "vaccinated_on": "接种日期",
        }
        out.problem = _("Columns missing: %(cols)s.") % {
            "cols": "、".join(labels[c] for c in missing)
        }
        return out
    if not table.rows:
        out.problem = _("The file contains no rows.")
        return out
    may = scope_for(actor, Perm.RECORD_HEALTH) if actor is not None else None

    class _All:
        def covers(self, area: Any) -> bool:
            return True

    scope: Any = may or _All()
    out.rows = len(table.rows)
    seen: dict[tuple[Any, ...], int] = {}
    try:
        with transaction.atomic():
            for done, row in enumerate(table.rows):
                if progress is not None and done % _PROGRESS_EVERY == 0:
                    progress(done, out.rows)
                cells = list(row.cells)
                try:
                    did = _one(actor, kind, cells, cols, scope, rnd, seen, row.number)
                except ValidationError as exc:
                    out.refused.append((row.number, cells, _reason(exc)))
                    continue
                except PermissionDenied:
                    out.refused.append(
                        (
                            row.number,
                            cells,
                            _("Nobody in the register has this national ID number."),
                        )
                    )
                    continue
                out.changed += did
                out.unchanged += not did
            if out.refused:
                raise _Refused
    except _Refused:
        out.changed = out.unchanged = 0
        return out
    out.written = True
    return out


def _one(
    actor: Any,
    kind: str,
    cells: list[str],
    cols: dict[str, int],
    scope: Any,
    rnd: TestRound | None,
    seen: dict[tuple[Any, ...], int],
    number: int,
) -> bool:
    person = _person(cells, cols, scope)
    if kind == "results":
        assert rnd is not None
        text = cells[cols["result"]].strip().lower()
        result = _RESULTS.get(text)
        if result is None:
            raise ValidationError(_("The result must be negative, positive or pending."))
        key: tuple[Any, ...] = ("r", person.pk)
        if key in seen:
            raise ValidationError(
                _("The same person is on row %(row)d already.") % {"row": seen[key]}
            )
        seen[key] = number
        sampled_at = None
        if "sampled_at" in cols and cells[cols["sampled_at"]].strip():
            try:
                day = parse_day(cells[cols["sampled_at"]])
            except ValueError:
                raise ValidationError(_("The sampling date is not a date.")) from None
            sampled_at = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 0)))
        _rec, did = svc.test_result_record(
            actor=actor,
            round=rnd,
            person=person,
            result=result,
            source=HealthSource.IMPORT,
            external_id=cells[cols["external_id"]] if "external_id" in cols else "",
            sampled_at=sampled_at,
        )
        return did
    try:
        dose = int(cells[cols["dose"]].strip().lstrip("第").rstrip("剂针"))
    except ValueError:
        raise ValidationError(
            _("The dose number is 1 to %(max)d.") % {"max": svc.MAX_DOSE}
        ) from None
    try:
        day = parse_day(cells[cols["vaccinated_on"]])
    except ValueError:
        raise ValidationError(_("The vaccination date is not a date.")) from None
    key = ("v", person.pk, dose)
    if key in seen:
        raise ValidationError(_("The same person is on row %(row)d already.") % {"row": seen[key]})
    seen[key] = number
    _vac, did = svc.vaccination_record(
        actor=actor,
        person=person,
        dose=dose,
        product=cells[cols["product"]],
        vaccinated_on=day,
        site=cells[cols["site"]] if "site" in cols else "",
        source=HealthSource.IMPORT,
    )
    return did
