"""`flush` empties every table, the audit log included.

Django's flush deletes rows with DELETE on SQLite, which the append-only trigger refuses. Emptying
the whole database is an operator's act outside the application (as dropping it would be), so
the trigger is lifted for the flush and restored after it. The test suite's transactional tests
rely on this between tests.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from linli.audit.triggers import CHAINED_CREATE, CHAINED_DROP


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        vendor = connection.vendor
        with connection.cursor() as cur:
            for sql in CHAINED_DROP.get(vendor, []) if vendor == "sqlite" else []:
                cur.execute(sql)
        try:
            super().handle(**options)
        finally:
            with connection.cursor() as cur:
                for sql in CHAINED_CREATE.get(vendor, []) if vendor == "sqlite" else []:
                    cur.execute(sql)
