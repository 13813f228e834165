"""linli audit_chain — the audit log's sequencer: chain entries as soon as they commit.

On PostgreSQL audited writes insert their entry pending and do not wait for the chain
(decision 0043); this loop chains them, in id order, a moment after they commit. ``linli
serve`` runs it beside the web server and the worker; the worker also chains every minute, so
entries never stay pending long even without it. ``--once`` chains what is pending and stops.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from linli.audit.services import audit_chain_pending


class Command(BaseCommand):
    help = "Chain pending audit entries continuously (or once with --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="chain what is pending, then stop")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between passes")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["once"]:
            self.stdout.write(f"chained {audit_chain_pending()} audit entries")
            return
        while True:
            # One pass per interval, busy or idle: under load a pass chains everything that
            # committed in the interval in one transaction. Looking again at once would chase
            # single entries, a sequencer transaction per write (measured: it cost the
            # check-ins what the lock-free insert saved them).
            try:
                audit_chain_pending()
            except Exception as exc:  # a lost connection: report, reconnect, go on
                self.stderr.write(f"audit_chain: {exc}")
                close_old_connections()
            time.sleep(opts["interval"])
