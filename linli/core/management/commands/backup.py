"""linli backup PATH — a consistent copy of the embedded SQLite database while Linli runs.

On PostgreSQL use pg_dump (docs/operations.md). The field key in var/secrets must be backed
up too, but kept apart from the data: without it no national ID or phone can be read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Copy the SQLite database to PATH using SQLite's online backup (safe while serving)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")

    def handle(self, *args: Any, **opts: Any) -> None:
        if connection.vendor != "sqlite":
            raise CommandError("Linli runs on PostgreSQL here: use pg_dump (docs/operations.md).")
        target = Path(opts["path"])
        if target.exists():
            raise CommandError(f"{target} exists; choose a new file")
        source = sqlite3.connect(str(connection.settings_dict["NAME"]))
        dest = sqlite3.connect(str(target))
        with dest:
            source.backup(dest)
        dest.close()
        source.close()
        self.stdout.write(f"backup written to {target}")
