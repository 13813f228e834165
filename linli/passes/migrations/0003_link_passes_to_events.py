"""Tie the passes issued before ``AccessPass.event`` existed to the event they were issued
under: the earliest event running passes over the pass's grid (or an ancestor) that had begun
and not yet ended when the pass was created. Passes of an event that has already ended are
closed by the periodic task (``passes_close_ended``), with their timeline and audit entries."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def link(apps: Any, schema_editor: Any) -> None:
    access_pass = apps.get_model("passes", "AccessPass")
    event_model = apps.get_model("emergency", "EmergencyEvent")
    area = apps.get_model("areas", "Area")
    events = [
        (e, {a.pk for a in e.areas.all()})
        for e in event_model.objects.order_by("starts_at", "pk")
        if "passes" in (e.measures or [])
    ]
    if not events:
        return
    paths: dict[int, set[int]] = {}
    for p in access_pass.objects.filter(event__isnull=True).only("pk", "grid_id", "created_at"):
        if p.grid_id not in paths:
            path = area.objects.get(pk=p.grid_id).path
            paths[p.grid_id] = {int(x) for x in path.strip("/").split("/") if x}
        for e, covered in events:
            began = e.starts_at <= p.created_at
            if (
                covered & paths[p.grid_id]
                and began
                and (e.ends_at is None or p.created_at < e.ends_at)
            ):
                access_pass.objects.filter(pk=p.pk).update(event=e)
                break


class Migration(migrations.Migration):
    dependencies = [("passes", "0002_event_and_cancelled_shifts")]

    operations = [migrations.RunPython(link, migrations.RunPython.noop)]
