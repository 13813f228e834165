"""Importing a people roster into the register: previewed, all-or-nothing, idempotent.

`people_import` opens a file as a stream of rows (stream.open_rows), maps its columns
(mapping) and hands the rows to a `writer.Writer`, which cleans, looks up and writes them in
batches of 2,000 (creating the buildings, entrances, dwellings and households the file names,
moving people the file places elsewhere through the register's move service, with timeline
events, per-field provenance and one audit entry per batch; decisions 0020 and 0021).
All rows go in one transaction: a dry run does all the work and rolls it back, so the preview
counts are the counts a commit would give. Rejected rows are not written; they go to a CSV
error file the worker can fix and import again. The community's row is locked for the
import, so the same file imported twice at once commits once.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.core.spreadsheet import escape_cell
from linli.intake.errors import IntakeError
from linli.intake.mapping import Mapping, suggest_mapping
from linli.intake.models import ImportBatch, ImportKind, ImportStatus
from linli.intake.readers import Table
from linli.intake.stream import open_rows
from linli.intake.writer import Progress, Rejection, Writer

__all__ = ["ImportResult", "Rejection", "escape_cell", "people_import", "write_error_file"]

#: Header of the reason column added to the error file.
REASON_HEADER = "原因"


class _Rollback(Exception):
    """Raised at the end of a dry run so the transaction is rolled back."""


class _AlreadyCommitted(Exception):
    """Raised when, under the area's lock, the same file turns out to be committed."""

    def __init__(self, batch: ImportBatch) -> None:
        super().__init__(batch.pk)
        self.batch = batch


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    batch: ImportBatch
    table: Table | None
    mapping: Mapping | None
    counts: dict[str, int]
    rejected: list[Rejection] = field(default_factory=list)
    error_file: Path | None = None
    dry_run: bool = False
    #: The committed batch of the same file when this import was a repeat (nothing done).
    already_committed: ImportBatch | None = None

    @property
    def failed(self) -> bool:
        return self.batch.status == ImportStatus.FAILED


def _zero_counts(read: int = 0) -> dict[str, int]:
    return {"read": read, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}


# --- the error file -------------------------------------------------------------------------


def write_error_file(path: Path, headers: Sequence[str], rejected: Sequence[Rejection]) -> None:
    """The rejected rows as CSV (UTF-8 with BOM, which Excel needs to read Chinese): the
    original cells and a 原因 column, in the deployment's language."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = len(headers)
    with (
        translation.override(settings.LANGUAGE_CODE),
        path.open("w", encoding="utf-8-sig", newline="") as fh,
    ):
        writer = csv.writer(fh)
        writer.writerow([escape_cell(h) for h in headers] + [REASON_HEADER])
        for rej in rejected:
            cells = list(rej.cells[:width]) + [""] * (width - len(rej.cells))
            writer.writerow([escape_cell(c) for c in cells] + [escape_cell(str(rej.reason))])


# --- the service ----------------------------------------------------------------------------


def _check_area(actor: Any, area: Area) -> None:
    if area.kind not in (AreaKind.COMMUNITY, AreaKind.GRID):
        raise ValidationError({"area": _("Import into a community or a grid.")})
    if actor is not None and not scope_for(actor, Perm.CHANGE_REGISTER).covers(area):
        raise PermissionDenied(_("You may not change records outside your jurisdiction."))


def _check_mapping(mapping: Mapping) -> None:
    have = mapping.fields
    missing = [f for f in ("name", "building", "dwelling_number") if f not in have]
    if missing:
        raise IntakeError(
            "mapping_incomplete",
            _(
                "The file needs a name column (姓名), a building column (楼栋) and a dwelling "
                "number column (房号); check the header row or the mapping."
            ),
        )


def _committed(area: Area, sha: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(
            area=area, kind=ImportKind.PEOPLE, file_sha256=sha, status=ImportStatus.COMMITTED
        )
        .order_by("-committed_at")
        .first()
    )


def _lock_area(area: Area) -> None:
    """Serialise imports into one community: two imports of the same file must not both
    commit, and two files naming the same new building must not both create it. The
    community's row is locked (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
    transactions already admit one writer at a time)."""
    community_id = area.parent_id if area.kind == AreaKind.GRID else None
    community_id = community_id or area.pk
    Area.objects.select_for_update().filter(pk=community_id).values_list("pk").first()


def people_import(
    *,
    actor: Any,
    path: str | Path,
    area: Area,
    mapping: Mapping | None = None,
    dry_run: bool = False,
    source: str = "import",
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a people roster into *area* (a community or a grid).

    Raises PermissionDenied when the actor may not change the register of the area (nothing
    is written) and IntakeError when the file cannot be read or has no usable columns (also
    when that is found late in a large file: the import is then rolled back).
    A given *mapping* (a saved profile) is applied to the file's headers by header text.
    Re-importing a file already committed to the area does nothing and says so
    (`already_committed`). A write refused unexpectedly rolls the whole import back and the
    batch is recorded as failed, with the reason. *progress*, when given, is called with
    (rows done, rows expected) at most about every 1% of the file, and once at the end.
    A given *batch* (a workbench upload, see intake.jobs) is filled in instead of a new one.
    """
    _check_area(actor, area)
    path = Path(path)
    with open_rows(path, filename=path.name) as stream:
        # Hashed once the file passed the reader's first checks (size, zip directory).
        with path.open("rb") as fh:
            sha = hashlib.file_digest(fh, "sha256").hexdigest()
        table = stream.table
        mapping = (
            mapping.rebind(table.headers) if mapping is not None else suggest_mapping(table.headers)
        )
        _check_mapping(mapping)
        created_by = actor if getattr(actor, "is_authenticated", False) else None
        if batch is None:
            batch = ImportBatch(
                source=source[:64],
                file_name=path.name[:255],
                file_sha256=sha,
                kind=ImportKind.PEOPLE,
                area=area,
                created_by=created_by,
            )
        elif not batch.file_sha256:
            batch.file_sha256 = sha
        previous = _committed(area, sha)
        if previous is not None:
            return _repeat(previous, table, mapping, dry_run, previous.counts.get("read", 0))
        writer: Writer | None = None
        try:
            with transaction.atomic():
                _lock_area(area)
                previous = _committed(area, sha)
                if previous is not None:
                    raise _AlreadyCommitted(previous)
                writer = Writer(
                    actor=actor,
                    area=area,
                    mapping=mapping,
                    source=source,
                    file_name=path.name,
                    progress=progress,
                )
                writer.run(stream.rows, stream.estimated_rows)
                if dry_run:
                    raise _Rollback
                batch.status = ImportStatus.COMMITTED
                batch.committed_at = timezone.now()
                batch.counts = writer.counts
                batch.save()
                audit_record(
                    actor=actor,
                    action=AuditAction.CREATE,
                    obj=batch,
                    area=area,
                    object_label=batch.file_name,
                    changes={"counts": writer.counts, "source": source},
                )
        except _AlreadyCommitted as done:
            return _repeat(done.batch, table, mapping, dry_run, done.batch.counts.get("read", 0))
        except _Rollback:
            assert writer is not None
            batch.status = ImportStatus.PREVIEWED
            batch.counts = writer.counts
            batch.save()
        except (ValidationError, PermissionDenied, DatabaseError) as exc:
            if writer is not None:
                _audit_refusals(actor, writer)
            counts = writer.counts if writer is not None else _zero_counts()
            batch.status = ImportStatus.FAILED
            batch.counts = counts
            batch.failure = _failure_text(exc, writer.rows_at if writer else (0, 0))
            batch.save()
            return ImportResult(
                batch=batch, table=table, mapping=mapping, counts=counts, dry_run=dry_run
            )
    assert writer is not None
    _audit_refusals(actor, writer)
    error_file = None
    if writer.rejected:
        error_file = Path(settings.VAR_DIR) / "intake" / f"{batch.pk}.csv"
        write_error_file(error_file, table.headers, writer.rejected)
        batch.error_file = str(error_file)
        batch.save(update_fields=["error_file"])
    return ImportResult(
        batch=batch,
        table=table,
        mapping=mapping,
        counts=writer.counts,
        rejected=writer.rejected,
        error_file=error_file,
        dry_run=dry_run,
    )


def _audit_refusals(actor: Any, writer: Writer) -> None:
    """Like person_create's refusal of an ID registered in another jurisdiction: the grid that
    holds the person sees who tried (an import must not be a quiet way to probe IDs)."""
    if actor is None:
        return
    for person in writer.refused:
        audit_record(
            actor=actor,
            action=AuditAction.REFUSED,
            obj=person,
            area=person.grid,
            object_label=person.id_masked,
            reason="national ID already registered in another jurisdiction (import)",
        )


def _repeat(
    previous: ImportBatch, table: Table, mapping: Mapping, dry_run: bool, read: int
) -> ImportResult:
    return ImportResult(
        batch=previous,
        table=table,
        mapping=mapping,
        counts=_zero_counts(read) | {"unchanged": read},
        dry_run=dry_run,
        already_committed=previous,
    )


def _failure_text(exc: Exception, rows: tuple[int, int]) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        detail = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        detail = detail or exc.__class__.__name__
        first, last = rows
        if first == last:
            text = _("Row {row}: {detail} Nothing was imported.")
            return str(format_lazy(text, row=first, detail=detail))
        return str(
            format_lazy(
                _("Rows {first}–{last}: {detail} Nothing was imported."),
                first=first,
                last=last,
                detail=detail,
            )
        )
