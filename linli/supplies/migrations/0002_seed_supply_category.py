"""Seed the work-order category a closed household's shopping list is filed in (物资代购).

Short limits: a household under quarantine cannot go out for what it lacks. Runs once and
only adds what is missing; deployments may change the limits afterwards.
"""

from django.db import migrations


def seed(apps, schema_editor):
    OrderCategory = apps.get_model("orders", "OrderCategory")
    OrderCategory.objects.get_or_create(
        code="supplies",
        defaults={
            "name": "物资代购",
            "name_en": "Supplies for closed households",
            "default_level": "grid",
            "grid_hours": 12,
            "community_hours": 12,
            "subdistrict_hours": 24,
            "department_hours": 48,
            "sort_key": 20,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("supplies", "0001_initial"), ("orders", "0002_seed_categories")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
