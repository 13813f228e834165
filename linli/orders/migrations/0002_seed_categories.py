"""Seed the categories of issue 5 with their default level and time limits (hours per rung).

Deployments change them afterwards; this runs once and only adds what is missing.
"""

from django.db import migrations

# code, name, English name, default level, hours at grid / community / subdistrict / department
CATEGORIES = [
    ("repair", "维修报修", "Repair", "grid", 24, 48, 72, 120),
    ("elderly_care", "为老服务", "Care for the elderly", "grid", 24, 48, 72, 120),
    ("environment", "环境卫生", "Environment", "grid", 48, 72, 96, 120),
    ("dispute", "邻里纠纷", "Neighbour dispute", "grid", 72, 120, 168, 240),
    ("safety", "安全隐患", "Safety hazard", "community", 4, 12, 24, 48),
    ("errands", "代购代办", "Shopping and errands", "grid", 24, 48, 72, 120),
    ("complaint", "投诉", "Complaint", "community", 72, 72, 120, 168),
    ("suggestion", "意见建议", "Suggestion", "community", 168, 168, 240, 240),
]


def seed(apps, schema_editor):
    OrderCategory = apps.get_model("orders", "OrderCategory")
    for i, (code, name, name_en, level, g, c, s, d) in enumerate(CATEGORIES):
        OrderCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "default_level": level,
                "grid_hours": g,
                "community_hours": c,
                "subdistrict_hours": s,
                "department_hours": d,
                "sort_key": i,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
