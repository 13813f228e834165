"""linli audit_verify — check the audit log's hash chain end to end."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from linli.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Verify that no audit entry was altered or removed (hash chain)."

    def handle(self, *args: Any, **opts: Any) -> None:
        checked, broken = audit_verify_chain()
        if broken is None:
            self.stdout.write(
                self.style.SUCCESS(f"审计日志完整：{checked} 条 (audit chain intact)")
            )
            return
        self.stderr.write(f"审计日志在第 {broken} 条处断裂 (chain broken at entry {broken})")
        raise SystemExit(1)
