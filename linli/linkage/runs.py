"""Large received lists matched in the background (decision 0041), like the import flow:
the upload is stored under ``LINLI_VAR_DIR/linkage/runs/<id>/``, a `ListMatchRun` records
what was asked, the huey task `linkage.tasks.run_list_match` runs `watch_list_match` with a
progress callback that writes a small file next to the upload (the match holds one
transaction, so the run's row cannot carry live progress), and the page polls it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area
from linli.core.language import deployment_text
from linli.intake.errors import IntakeError
from linli.intake.jobs import Progress, progress_file_read, progress_file_write
from linli.linkage.models import ConcernCategory, ListMatchRun, RunStatus

log = logging.getLogger("linli.linkage")

#: Uploads up to this size are matched while the worker waits; bigger ones in the background.
INLINE_MAX_BYTES = 1024 * 1024


def run_dir(run_id: int) -> Path:
    return Path(settings.VAR_DIR) / "linkage" / "runs" / str(run_id)


def _progress_path(run_id: int) -> Path:
    return run_dir(run_id) / "progress.json"


def list_run_queue(
    *,
    actor: Any,
    chunks: Iterable[bytes],
    file_name: str,
    list_name: str,
    area: Area,
    category: ConcernCategory | None = None,
) -> ListMatchRun:
    """Store an uploaded list and queue its match in the background (after the commit)."""
    from linli.linkage.services import _check_list_area

    _check_list_area(actor, area)
    list_name = list_name.strip()[:100]
    if not list_name:
        raise ValidationError({"list_name": _("Give the list a name.")})
    suffix = Path(file_name).suffix.lower()[:8]
    with transaction.atomic():
        run = ListMatchRun.objects.create(
            name=list_name,
            area=area,
            category=category,
            file_name=Path(file_name).name[:255],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        folder = run_dir(run.pk)
        folder.mkdir(parents=True, exist_ok=True)
        # Named as uploaded (suffix kept): the reader tells CSV from workbooks by it.
        stored = folder / f"list{suffix}"
        with stored.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        run.stored_file = str(stored)
        run.save(update_fields=["stored_file", "updated_at"])
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from linli.linkage.tasks import run_list_match

    run_list_match(run_id)


def list_run(*, run_id: int) -> None:
    """Match a queued run's list (the body of the huey task). A run that is not queued (a
    duplicate delivery) is left alone; whatever goes wrong ends it as failed with the reason,
    and the uploaded copy is deleted in every case."""
    from linli.linkage.services import watch_list_match

    with transaction.atomic():
        run = ListMatchRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED:
            return
        run.status = RunStatus.RUNNING
        run.save(update_fields=["status", "updated_at"])
    actor = run.created_by
    progress_file_write(_progress_path(run_id), 0, 0)
    failure = ""
    watch_list = None
    try:
        if actor is None or not actor.is_active:
            raise PermissionDenied(_("The worker who uploaded this list can no longer match."))
        result = watch_list_match(
            actor=actor,
            path=run.stored_file,
            list_name=run.name,
            area=run.area,
            category=run.category,
            progress=lambda done, total: progress_file_write(_progress_path(run_id), done, total),
        )
        watch_list = result.watch_list
    except IntakeError as exc:
        failure = deployment_text(exc.message)
    except ValidationError as exc:
        failure = deployment_text("；".join(str(m) for m in exc.messages))
    except PermissionDenied as exc:
        failure = deployment_text(exc.args[0] if exc.args else _("Permission denied."))
    except Exception:  # a run must never be left "running"
        log.exception("list match run %s failed", run_id)
        failure = deployment_text(_("The match stopped on an unexpected error; nothing was kept."))
    finally:
        # The upload holds plaintext IDs: never kept past its run.
        shutil.rmtree(run_dir(run_id), ignore_errors=True)
    ListMatchRun.objects.filter(pk=run_id).update(
        status=RunStatus.FAILED if failure else RunStatus.DONE,
        failure=failure[:500],
        watch_list=watch_list,
        stored_file="",
    )


def list_run_progress(run: ListMatchRun) -> Progress:
    """Rows done / expected while running (from the progress file), else 0 or the total."""
    if run.status == RunStatus.RUNNING:
        live = progress_file_read(_progress_path(run.pk))
        return Progress(*live) if live else Progress(0, 0)
    if run.status == RunStatus.DONE and run.watch_list is not None:
        rows = int(run.watch_list.counts.get("rows", 0))
        return Progress(rows, rows)
    return Progress(0, 0)
