"""Background tasks of the linkage capability (run by the huey worker)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from linli.areas.models import Area


@db_task()
def find_candidates(area_id: int) -> dict[str, int]:
    """Look for duplicate persons in an area (as the system; the page checked the user)."""
    from linli.linkage.services import candidates_find

    return candidates_find(actor=None, area=Area.objects.get(pk=area_id))


# No automatic retries: a failed run is recorded with its reason and the worker uploads again.
@db_task(retries=0)
def run_list_match(run_id: int) -> None:
    """Match a received list in the background (linkage.runs.list_run)."""
    from linli.linkage.runs import list_run

    list_run(run_id=run_id)
