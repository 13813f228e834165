"""The hash chain gets its own order (``seq``) so entries can be chained after their commit by
the sequencer (decision 0043). Existing entries were chained in id order under the chain lock:
their position is their id. The triggers then allow the pending → chained update only."""

from django.conf import settings
from django.db import migrations, models

from linli.audit.triggers import CHAINED_CREATE, CREATE, DROP


def _chained(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in DROP.get(vendor, []):
        schema_editor.execute(sql)
    schema_editor.execute("UPDATE audit_auditentry SET seq = id")
    for sql in CHAINED_CREATE.get(vendor, []):
        schema_editor.execute(sql)


def _unchained(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in DROP.get(vendor, []):
        schema_editor.execute(sql)
    for sql in CREATE.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("audit", "0003_more_actions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)), fields=["id"], name="audit_pending"
            ),
        ),
        migrations.RunPython(_chained, _unchained),
    ]
