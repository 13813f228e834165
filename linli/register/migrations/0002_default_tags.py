"""The default tag set; communities change it in the workbench."""

from django.db import migrations

TAGS = [
    ("elderly_alone", "独居老人", "Elderly living alone", "#d63384"),
    ("elderly", "老年人", "Elderly (60+)", "#fd7e14"),
    ("disabled", "残疾人", "Disabled", "#6f42c1"),
    ("low_income", "低保户", "Low income", "#20c997"),
    ("minor", "未成年人", "Minor", "#0dcaf0"),
    ("party_member", "党员", "Party member", "#dc3545"),
    ("veteran", "退役军人", "Veteran", "#198754"),
    ("key_person", "重点人员", "Key person", "#343a40"),
    ("chronic_illness", "慢性病患者", "Chronic illness", "#0d6efd"),
    ("pregnant", "孕产妇", "Pregnant or postpartum", "#e83e8c"),
]


def add(apps, schema_editor):
    Tag = apps.get_model("register", "Tag")
    for i, (code, name, name_en, color) in enumerate(TAGS):
        Tag.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "color": color, "sort_key": i}
        )


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
