"""The workbench import flow: upload → mapping → preview → commit, run in the background.

An `ImportBatch` walks an explicit state machine (`TRANSITIONS`); each step is recorded as an
`ImportEvent` (the batch's timeline). The uploaded file is kept under
``LINLI_VAR_DIR/intake/batches/<id>/`` (never under static or media). Preview and commit run
as a huey task (`linli.intake.tasks.run_import_batch`), enqueued after the transaction
commits; the task calls `people_import` on the batch with a progress callback.

Progress while rows are worked through is written to a small file next to the upload, not to
the database: the import runs in one transaction, and on SQLite a second connection could not
write while it holds the write lock (on PostgreSQL the row would stay invisible until commit).
`rows_done` / `rows_total` on the batch are set at the start and at the end. See decision 0017.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.identity import mask_national_id, mask_phone
from linli.core.language import deployment_text
from linli.core.scoping import scope_for
from linli.intake.errors import IntakeError
from linli.intake.mapping import Mapping, suggest_mapping
from linli.intake.models import ImportBatch, ImportEvent, ImportKind, ImportStatus
from linli.intake.profiles import (
    mapping_problem,
    mapping_profile_fitting,
    mapping_profile_save,
    profile_mapping,
)
from linli.intake.readers import Table, read_table

log = logging.getLogger("linli.intake")

S = ImportStatus
#: The allowed steps of a batch; anything else raises ImportTransitionError.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.READING: frozenset({S.UPLOADED, S.FAILED}),
    S.UPLOADED: frozenset({S.QUEUED}),
    S.QUEUED: frozenset({S.RUNNING, S.FAILED}),
    S.RUNNING: frozenset({S.PREVIEWED, S.COMMITTED, S.FAILED}),
    S.PREVIEWED: frozenset({S.QUEUED, S.UPLOADED}),
    S.FAILED: frozenset({S.QUEUED, S.UPLOADED}),
    S.COMMITTED: frozenset(),
}

ALLOWED_SUFFIXES = (".xlsx", ".xls", ".csv")
#: Rejected rows kept on the batch for the preview page (the file holds them all).
REJECTED_SAMPLE = 20
#: First rows kept on the batch for the mapping page (masked).
SAMPLE_ROWS = 5
UPLOAD_MAX_MB_DEFAULT = 100
#: Uploads up to this size are read during the request (see reads_inline).
INLINE_READ_KB_CSV = 2048
INLINE_READ_KB_WORKBOOK = 256


class ImportTransitionError(ValidationError):
    """A step the batch's state does not allow (e.g. committing twice)."""


def upload_max_bytes() -> int:
    return int(getattr(settings, "LINLI_INTAKE_UPLOAD_MAX_MB", UPLOAD_MAX_MB_DEFAULT)) * 1024 * 1024


def batches_dir() -> Path:
    return Path(settings.VAR_DIR) / "intake" / "batches"


def batch_dir(batch_id: int) -> Path:
    """Where a batch's upload (and its progress file) live."""
    return batches_dir() / str(int(batch_id))


# --- helpers ----------------------------------------------------------------------------------


def _check_import_area(actor: Any, area: Area) -> None:
    if area.kind not in (AreaKind.COMMUNITY, AreaKind.GRID):
        raise ValidationError({"area": _("Import into a community or a grid.")})
    if not scope_for(actor, Perm.CHANGE_REGISTER).covers(area):
        raise PermissionDenied(_("You may not change records outside your jurisdiction."))


def _event(batch: ImportBatch, actor: Any, note: str = "") -> None:
    user = actor if getattr(actor, "is_authenticated", False) else None
    ImportEvent.objects.create(batch=batch, status=batch.status, actor=user, note=note[:300])


def _transition(batch: ImportBatch, to: str, actor: Any, note: str = "") -> None:
    """Move *batch* to *to* (in memory; the caller saves) and record the event."""
    if to not in TRANSITIONS[batch.status]:
        raise ImportTransitionError(
            format_lazy(
                _("This import is {status}; it cannot be {target} now."),
                status=batch.get_status_display(),
                target=ImportStatus(to).label,
            ),
            code="transition",
        )
    batch.status = to
    _event(batch, actor, note)


def _locked(batch: ImportBatch) -> ImportBatch:
    return ImportBatch.objects.select_for_update().select_related("area").get(pk=batch.pk)


_LONG_NUMBER_RE = re.compile(r"\d{6,}[\dXx]?")


def mask_cell(text: str) -> str:
    """A cell with any long number in it masked (an ID or phone read from a file)."""

    def mask(m: re.Match[str]) -> str:
        value = m.group(0)
        return mask_national_id(value) if len(value) >= 15 else mask_phone(value)

    return _LONG_NUMBER_RE.sub(mask, text)


def masked_rows(table: Table, limit: int) -> list[list[str]]:
    """The first *limit* data rows of a table, long numbers masked (for the mapping page)."""
    return [[mask_cell(c) for c in row.cells] for row in table.rows[:limit]]


# --- upload -----------------------------------------------------------------------------------


def _store_upload(chunks: Iterable[bytes], suffix: str) -> tuple[Path, str, int]:
    """Write the upload to a temporary file under var/; (path, sha256, size). Stops early
    (file_too_large) past the size limit, before the disk fills."""
    tmp_dir = batches_dir() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path = tmp_dir / f"{uuid.uuid4().hex}{suffix}"
    digest = hashlib.sha256()
    size = 0
    limit = upload_max_bytes()
    with path.open("wb") as fh:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                fh.close()
                path.unlink(missing_ok=True)
                raise IntakeError(
                    "file_too_large",
                    format_lazy(
                        _(
                            "The file is larger than {limit} MB; split it into smaller files "
                            "or ask the operator to import it on the command line."
                        ),
                        limit=limit // (1024 * 1024),
                    ),
                )
            digest.update(chunk)
            fh.write(chunk)
    return path, digest.hexdigest(), size


def reads_inline(suffix: str, size: int) -> bool:
    """Whether an upload is read during the request (small files: errors go straight back
    to the form) or by the background worker (large ones: reading a 100,000-row workbook
    takes longer than a web request may). `LINLI_INTAKE_INLINE_READ_KB` sets the limit."""
    default = INLINE_READ_KB_CSV if suffix == ".csv" else INLINE_READ_KB_WORKBOOK
    limit_kb = int(getattr(settings, "LINLI_INTAKE_INLINE_READ_KB", 0)) or default
    return size <= limit_kb * 1024


def _refuse_repeat(area: Area, sha: str) -> None:
    previous = (
        ImportBatch.objects.filter(
            area=area, kind=ImportKind.PEOPLE, file_sha256=sha, status=S.COMMITTED
        )
        .order_by("-committed_at")
        .first()
    )
    if previous is not None:
        raise IntakeError(
            "already_imported",
            format_lazy(
                _(
                    "This file was already imported into {area} (batch {id}); importing "
                    "it again would change nothing."
                ),
                area=area.name,
                id=previous.pk,
            ),
        )


def _apply_table(batch: ImportBatch, table: Table, actor: Any) -> ImportBatch:
    """Record what was read (header row, first rows masked, row count) and the mapping: a
    fitting profile of the source, else the suggestion. With a fitting profile the preview is
    queued at once — no questions for next month's file. Call inside a transaction."""
    profile = mapping_profile_fitting(
        user=actor, area=batch.area, source=batch.source, headers=table.headers
    )
    mapping = (
        profile_mapping(profile, table.headers)
        if profile is not None
        else suggest_mapping(table.headers)
    )
    batch.header_row = table.header_row
    batch.headers = list(table.headers)
    batch.sample_rows = masked_rows(table, SAMPLE_ROWS)
    batch.rows_total = len(table.rows)
    batch.mapping = mapping.to_dict()
    batch.profile = profile
    batch.save()
    if profile is not None and mapping_problem(mapping) is None:
        batch = batch_queue(actor=actor, batch=batch, dry_run=True)
    return batch


def batch_upload(
    *, actor: Any, area: Area, source: str, file_name: str, chunks: Iterable[bytes] | IO[bytes]
) -> ImportBatch:
    """Store an uploaded roster as a new batch and read its header row.

    Raises PermissionDenied (nothing stored) when the actor may not import into *area*,
    IntakeError when the file was already imported into the area or, for a file read during
    the request, cannot be read (the stored copy is removed). A large file is read by the
    background worker (status *reading*; a refusal then fails the batch with the same
    message). When a profile of *source* fits the file's headers, its mapping is applied
    and the preview is queued at once: no questions for next month's file.
    """
    _check_import_area(actor, area)
    source = " ".join(source.split())[:64]
    if not source:
        raise ValidationError({"source": _("Name the source of the file.")})
    suffix = Path(file_name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise IntakeError(
            "unsupported_format", _("Only .xlsx, .xls and .csv files can be imported.")
        )
    tmp, sha, size = _store_upload(chunks, suffix)
    try:
        _refuse_repeat(area, sha)
        table = read_table(tmp, filename=file_name) if reads_inline(suffix, size) else None
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                source=source,
                file_name=Path(file_name).name[:255],
                file_sha256=sha,
                kind=ImportKind.PEOPLE,
                area=area,
                status=S.UPLOADED if table is not None else S.READING,
                created_by=actor,
                run_by=actor,
            )
            target = batch_dir(batch.pk) / f"upload{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp, target)
            batch.stored_file = str(target)
            batch.save(update_fields=["stored_file", "updated_at"])
            _event(batch, actor, file_name[:300])
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=batch,
                area=area,
                object_label=batch.file_name,
                changes={"source": source, "bytes": size, "stage": "upload"},
            )
            if table is not None:
                batch = _apply_table(batch, table, actor)
            else:
                batch_id = batch.pk
                transaction.on_commit(lambda: _enqueue_read(batch_id))
    finally:
        tmp.unlink(missing_ok=True)
    return batch


def _enqueue_read(batch_id: int) -> None:
    from linli.intake.tasks import read_import_file

    read_import_file(batch_id)


def batch_read(*, batch_id: int) -> None:
    """Read a large upload in the background (the body of the huey task): the header row,
    the first rows, the mapping; then the batch waits for the worker (or, with a fitting
    profile, its preview is queued). A file that cannot be read fails the batch with the
    reader's message."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=S.READING).first()
    if batch is None:
        return  # already read, or a duplicate delivery
    actor = batch.run_by
    failure = ""
    table = None
    try:
        table = read_table(Path(batch.stored_file), filename=batch.file_name)
    except IntakeError as exc:
        failure = deployment_text(exc.message)
    except OSError:
        failure = deployment_text(_("The uploaded file is no longer kept; upload it again."))
    except Exception:  # a batch must never be left "reading"
        log.exception("reading import batch %s failed", batch_id)
        failure = deployment_text(
            _("The file could not be read because of an unexpected error; upload it again.")
        )
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status != S.READING:
            return
        if table is not None:
            try:
                with transaction.atomic():  # a savepoint: a refusal leaves the batch as it was
                    _transition(batch, S.UPLOADED, actor)
                    _apply_table(batch, table, actor)
                return
            except PermissionDenied as exc:
                failure = deployment_text(exc.args[0] if exc.args else _("Permission denied."))
            except ValidationError as exc:
                failure = deployment_text("；".join(str(m) for m in exc.messages))
            batch = _locked(batch)
        _transition(batch, S.FAILED, actor, failure)
        batch.failure = failure
        batch.save()


# --- mapping, queueing ------------------------------------------------------------------------


def batch_map(
    *, actor: Any, batch: ImportBatch, mapping: Mapping, profile_name: str = ""
) -> ImportBatch:
    """Set the batch's column mapping (optionally saving it as a named profile) and queue
    the preview. ValidationError (nothing changed) for an unusable mapping or profile name."""
    _check_import_area(actor, batch.area)
    problem = mapping_problem(mapping)
    if problem:
        raise ValidationError({"mapping": problem})
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status in (S.PREVIEWED, S.FAILED):
            _transition(batch, S.UPLOADED, actor, deployment_text(_("mapping changed")))
        elif batch.status != S.UPLOADED:
            _transition(batch, S.UPLOADED, actor)  # raises: queued, running or committed
        if profile_name.strip():
            batch.profile = mapping_profile_save(
                actor=actor,
                area=batch.area,
                name=profile_name,
                source=batch.source,
                mapping=mapping,
            )
        batch.mapping = mapping.to_dict()
        batch.save()
        batch_queue(actor=actor, batch=batch, dry_run=True)
    return batch


def batch_queue(*, actor: Any, batch: ImportBatch, dry_run: bool) -> ImportBatch:
    """Queue a preview (dry run) or the commit of *batch*; the task starts after commit.

    A commit needs a preview first. Queueing twice raises ImportTransitionError, so a double
    click or a retried request never runs an import twice.
    """
    _check_import_area(actor, batch.area)
    with transaction.atomic():
        batch = _locked(batch)
        if not dry_run and batch.status != S.PREVIEWED:
            raise ImportTransitionError(
                format_lazy(
                    _("This import is {status}; only a previewed import can be committed."),
                    status=batch.get_status_display(),
                ),
                code="transition",
            )
        _transition(
            batch, S.QUEUED, actor, deployment_text(_("Preview") if dry_run else _("Commit"))
        )
        if batch.error_file:
            Path(batch.error_file).unlink(missing_ok=True)
        batch.dry_run = dry_run
        batch.run_by = actor
        batch.rows_done = 0
        batch.counts = {}
        batch.error_file = ""
        batch.failure = ""
        batch.rejected_sample = []
        batch.save()
        batch_id = batch.pk
        transaction.on_commit(lambda: _enqueue(batch_id))
    return batch


def _enqueue(batch_id: int) -> None:
    from linli.intake.tasks import run_import_batch

    run_import_batch(batch_id)


def batch_rejected_file(*, actor: Any, batch: ImportBatch) -> Path | None:
    """The rejected-rows file of *batch* for download, audited as an export (it holds the
    rows as typed, national IDs included). None when there is none."""
    _check_import_area(actor, batch.area)
    if not batch.error_file:
        return None
    path = Path(batch.error_file).resolve()
    if not path.is_relative_to(Path(settings.VAR_DIR).resolve()) or not path.is_file():
        return None
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=batch,
        area=batch.area,
        object_label=batch.file_name,
        changes={"file": "rejected rows", "rows": batch.counts.get("rejected", 0)},
    )
    return path


# --- the background run -----------------------------------------------------------------------


def _progress_path(batch_id: int) -> Path:
    return batch_dir(batch_id) / "progress.json"


def progress_file_write(path: Path, done: int, total: int) -> None:
    """Record (done, total) for a progress bar in *path*; atomic, so a reader never sees
    half. A file, not a row: the run holds its transaction open (see the module's doc)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"done": done, "total": total}), encoding="utf-8")
    os.replace(tmp, path)


def progress_file_read(path: Path) -> tuple[int, int] | None:
    """(done, total) from a progress file, or None when there is none (yet) or it is bad."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["done"]), int(data["total"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def progress_write(batch_id: int, done: int, total: int) -> None:
    """Record (done, total) for a batch's progress bar."""
    progress_file_write(_progress_path(batch_id), done, total)


@dataclass(frozen=True)
class Progress:
    """How far a batch's run is."""

    done: int
    total: int

    @property
    def percent(self) -> int:
        if self.total <= 0:
            return 0
        return min(100, self.done * 100 // self.total)


def batch_progress(batch: ImportBatch) -> Progress:
    """Rows done / total: live from the progress file while running, else from the batch."""
    if batch.status == S.RUNNING:
        live = progress_file_read(_progress_path(batch.pk))
        return Progress(*live) if live else Progress(0, batch.rows_total)
    if batch.status == S.QUEUED:
        return Progress(0, batch.rows_total)
    return Progress(batch.rows_done, batch.rows_total)


def batch_run(*, batch_id: int) -> None:
    """Run the queued preview or commit of a batch (the body of the huey task).

    A batch that is not queued (already run, a duplicate delivery) is left alone. Whatever
    goes wrong ends the batch as failed with the reason; it never stays "running".
    """
    from linli.intake.services import people_import

    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status != S.QUEUED:
            return
        actor = batch.run_by
        _transition(batch, S.RUNNING, actor)
        batch.rows_done = 0
        batch.save()
    progress_write(batch.pk, 0, batch.rows_total)

    def progress(done: int, total: int) -> None:
        progress_write(batch_id, done, total)

    failure = ""
    try:
        if actor is None or not actor.is_active:
            raise PermissionDenied(_("The worker who started this import can no longer import."))
        if not batch.stored_file or not Path(batch.stored_file).is_file():
            raise FileNotFoundError(batch.stored_file)
        result = people_import(
            actor=actor,
            path=batch.stored_file,
            area=batch.area,
            mapping=Mapping.from_dict(batch.mapping),
            dry_run=batch.dry_run,
            source=batch.source,
            batch=batch,
            progress=progress,
        )
    except IntakeError as exc:
        failure = deployment_text(exc.message)
    except FileNotFoundError:
        failure = deployment_text(_("The uploaded file is no longer kept; upload it again."))
    except ValidationError as exc:
        failure = deployment_text("；".join(str(m) for m in exc.messages))
    except PermissionDenied as exc:
        failure = deployment_text(exc.args[0] if exc.args else _("Permission denied."))
    except Exception:  # a batch must never be left "running"
        log.exception("import batch %s failed", batch_id)
        failure = deployment_text(
            _("The import stopped on an unexpected error; nothing was imported.")
        )
    else:
        if result.already_committed is not None:
            failure = deployment_text(
                format_lazy(
                    _("This file was already imported (batch {id}); nothing was changed."),
                    id=result.already_committed.pk,
                )
            )
    finally:
        _progress_path(batch_id).unlink(missing_ok=True)
    with transaction.atomic():
        done = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if failure:
            done.status = S.RUNNING  # the run may have recorded nothing; fail from running
            _transition(done, S.FAILED, actor, failure)
            done.failure = failure
            done.save()
            return
        # people_import has set the final status (previewed / committed / failed).
        if done.status not in TRANSITIONS[S.RUNNING]:
            raise ImportTransitionError(f"unexpected status {done.status}")
        _event(done, actor, done.failure)
        done.rows_total = result.counts.get("read", done.rows_total)
        done.rows_done = done.rows_total
        done.rejected_sample = [
            {
                "row": r.row,
                "cells": [mask_cell(c) for c in r.cells],
                "reason": deployment_text(r.reason),
            }
            for r in result.rejected[:REJECTED_SAMPLE]
        ]
        done.save(update_fields=["rows_total", "rows_done", "rejected_sample", "updated_at"])


# --- housekeeping (linli intake_clean) ---------------------------------------------------------


def batch_files_purge(*, older_than_days: int) -> int:
    """Delete the uploaded files and rejected-rows files of batches not touched for more than
    *older_than_days* days (queued and running ones are left alone). The batches, their counts
    and timelines stay. Returns how many batches lost files. Run by the operator (system)."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    purged = 0
    old = ImportBatch.objects.filter(updated_at__lt=cutoff).exclude(
        status__in=[S.QUEUED, S.RUNNING]
    )
    for batch in old.exclude(stored_file="", error_file="").select_related("area").iterator():
        removed = []
        for attr in ("stored_file", "error_file"):
            value = getattr(batch, attr)
            if value:
                Path(value).unlink(missing_ok=True)
                removed.append(attr)
                setattr(batch, attr, "")
        shutil.rmtree(batch_dir(batch.pk), ignore_errors=True)
        with transaction.atomic():
            ImportBatch.objects.filter(pk=batch.pk).update(stored_file="", error_file="")
            audit_record(
                actor=None,
                action=AuditAction.DELETE,
                obj=batch,
                area=batch.area,
                object_label=batch.file_name,
                changes={"files": removed},
            )
        purged += 1
    return purged


def batch_fail_stale(*, minutes: int) -> int:
    """Mark as failed the batches whose run shows no progress for *minutes* (the worker was
    stopped mid-run: the import's transaction was rolled back, nothing was written)."""
    cutoff = time.time() - minutes * 60
    failed = 0
    for batch_id in ImportBatch.objects.filter(status=S.RUNNING).values_list("pk", flat=True):
        path = _progress_path(batch_id)
        try:
            seen = path.stat().st_mtime
        except OSError:
            seen = 0.0
        if seen >= cutoff:
            continue
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
            if batch.status != S.RUNNING or batch.updated_at.timestamp() >= cutoff:
                continue
            failure = deployment_text(
                _("The background worker stopped during the import; nothing was imported.")
            )
            _transition(batch, S.FAILED, None, failure)
            batch.failure = failure
            batch.save()
        path.unlink(missing_ok=True)
        failed += 1
    return failed
