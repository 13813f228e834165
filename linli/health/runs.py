"""Large results and vaccinations files imported in the background, as received lists are
(linkage.runs, decision 0041): each row goes through the health services, so a file of a few
thousand rows would outlast a web request (gunicorn's 30 s). The upload is stored under
``LINLI_VAR_DIR/health/imports/<id>/``; an `ImportRun` records what was asked; the huey task
`health.tasks.run_health_import` runs `import_file` with a progress callback that writes a
small file beside the upload (the import holds one transaction, so the run's row cannot carry
live progress), and the page polls it. The upload (plaintext IDs) is deleted when the run
ends; the refused rows' workbook stays for its worker to download until the daily purge.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.core.language import deployment_text
from linli.core.scoping import scope_for
from linli.health.models import ImportRun, ImportRunStatus, TestRound
from linli.intake.jobs import Progress, progress_file_read, progress_file_write

log = logging.getLogger("linli.health")

#: Files up to this size are imported while the worker waits; bigger ones in the background.
INLINE_MAX_BYTES = 64 * 1024
#: Refused rows shown on the run's page (the workbook has them all).
PREVIEW_ROWS = 20
#: How long a finished run's refused-rows workbook is kept (it holds the file's rows).
KEEP_SECONDS = 24 * 3600


def run_dir(run_id: int) -> Path:
    return Path(settings.VAR_DIR) / "health" / "imports" / str(run_id)


def refused_path(run_id: int) -> Path:
    return run_dir(run_id) / "refused.xlsx"


def _progress_path(run_id: int) -> Path:
    return run_dir(run_id) / "progress.json"


def import_run_queue(
    *,
    actor: Any,
    chunks: Iterable[bytes],
    file_name: str,
    kind: str,
    round: TestRound | None,
) -> ImportRun:
    """Store an uploaded file and queue its import in the background (after the commit)."""
    if scope_for(actor, Perm.RECORD_HEALTH).is_empty:
        raise PermissionDenied
    suffix = Path(file_name).suffix.lower()[:8]
    with transaction.atomic():
        run = ImportRun.objects.create(
            kind=kind,
            round=round if kind == "results" else None,
            file_name=Path(file_name).name[:255],
            created_by=actor,
        )
        folder = run_dir(run.pk)
        folder.mkdir(parents=True, exist_ok=True)
        # Named as uploaded (suffix kept): the reader tells CSV from workbooks by it.
        stored = folder / f"upload{suffix}"
        with stored.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        run.stored_file = str(stored)
        run.save(update_fields=["stored_file", "updated_at"])
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from linli.health.tasks import run_health_import

    run_health_import(run_id)


def import_run(*, run_id: int) -> None:
    """Import a queued run's file (the body of the huey task). A run that is not queued (a
    duplicate delivery) is left alone; whatever goes wrong ends it as failed with the reason;
    the uploaded copy is deleted in every case."""
    from linli.health.importing import import_file

    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != ImportRunStatus.QUEUED:
            return
        run.status = ImportRunStatus.RUNNING
        run.save(update_fields=["status", "updated_at"])
    actor = run.created_by
    stored = Path(run.stored_file)
    progress_file_write(_progress_path(run_id), 0, 0)
    fields: dict[str, Any] = {"status": ImportRunStatus.FAILED}
    try:
        if actor is None or not actor.is_active:
            raise PermissionDenied(_("The worker who uploaded this file can no longer import."))
        if run.kind == "results" and run.round is None:
            raise PermissionDenied(_("The test round of this file no longer exists."))
        out = import_file(
            actor=actor,
            kind=run.kind,
            data=stored.read_bytes(),
            filename=stored.name,
            round=run.round,
            progress=lambda done, total: progress_file_write(_progress_path(run_id), done, total),
        )
        fields = {
            "status": ImportRunStatus.FAILED,  # the file itself: unreadable, columns missing
            "rows": out.rows,
            "changed": out.changed,
            "unchanged": out.unchanged,
            "refused": len(out.refused),
            "refused_preview": [[n, reason] for n, _cells, reason in out.refused[:PREVIEW_ROWS]],
            "problem": out.problem[:500],
        }
        if out.written:
            fields["status"] = ImportRunStatus.DONE
        elif out.refused:
            refused_path(run_id).write_bytes(out.refused_workbook())
            fields["status"] = ImportRunStatus.REFUSED
    except PermissionDenied as exc:
        fields["problem"] = deployment_text(exc.args[0] if exc.args else _("Permission denied."))
    except Exception:  # a run must never be left "running"
        log.exception("health import run %s failed", run_id)
        fields["problem"] = deployment_text(
            _("The import stopped on an unexpected error; nothing was imported.")
        )
    finally:
        # The upload holds plaintext IDs: never kept past its run.
        stored.unlink(missing_ok=True)
        _progress_path(run_id).unlink(missing_ok=True)
    ImportRun.objects.filter(pk=run_id).update(stored_file="", **fields)


def import_run_progress(run: ImportRun) -> Progress:
    """Rows done / expected while running (from the progress file), else 0 or the total."""
    if run.status == ImportRunStatus.RUNNING:
        live = progress_file_read(_progress_path(run.pk))
        return Progress(*live) if live else Progress(0, 0)
    if run.status in (ImportRunStatus.DONE, ImportRunStatus.REFUSED):
        return Progress(run.rows, run.rows)
    return Progress(0, 0)


def import_files_purge(*, older_than: float = KEEP_SECONDS, now: float | None = None) -> int:
    """Delete the folders of runs that ended more than *older_than* seconds ago (their refused
    rows' workbooks); returns how many went."""
    root = Path(settings.VAR_DIR) / "health" / "imports"
    if not root.exists():
        return 0
    cutoff = (now if now is not None else time.time()) - older_than
    working = set(
        ImportRun.objects.filter(
            status__in=[ImportRunStatus.QUEUED, ImportRunStatus.RUNNING]
        ).values_list("pk", flat=True)
    )
    gone = 0
    for folder in root.iterdir():
        if not folder.is_dir() or not folder.name.isdigit() or int(folder.name) in working:
            continue
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone
