"""Seed a few concern categories; heads edit the set in the workbench."""

from typing import Any

from django.db import migrations

CATEGORIES = [
    ("risk_area_arrival", "中高风险地区来返", "Arrivals from medium/high-risk areas"),
    ("health_code", "健康码异常", "Health code not green"),
    ("close_contact", "密切接触者", "Close contacts"),
    ("inbound_travel", "入境人员", "Arrivals from abroad"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("linkage", "ConcernCategory")
    for i, (code, name, description) in enumerate(CATEGORIES):
        model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "sort_key": i}
        )


class Migration(migrations.Migration):
    dependencies = [("linkage", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
