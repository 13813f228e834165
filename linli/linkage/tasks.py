"""Background tasks of the linkage capability (run by the huey worker)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from linli.areas.models import Area


@db_task()
def find_candidates(area_id: int) -> dict[str, int]:
    """Look for duplicate persons in an area (as the system; the page checked the user)."""
    from linli.linkage.services import candidates_find

    return candidates_find(actor=None, area=Area.objects.get(pk=area_id))
