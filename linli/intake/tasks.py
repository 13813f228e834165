"""Background tasks of the intake capability (run by the huey worker)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from linli.intake import jobs


# No automatic retries: a run that failed is recorded on the batch, and the worker decides
# (re-run the preview after fixing the mapping or the register).
@db_task(retries=0)
def run_import_batch(batch_id: int) -> None:
    """Run the queued preview or commit of one import batch (intake.jobs.batch_run)."""
    jobs.batch_run(batch_id=batch_id)


@db_task(retries=0)
def read_import_file(batch_id: int) -> None:
    """Read a large uploaded file in the background (intake.jobs.batch_read)."""
    jobs.batch_read(batch_id=batch_id)
