"""linli serve — run the whole system: the web server, the background worker and, on
PostgreSQL, the audit log's sequencer (``linli audit_chain``).

Ctrl-C (or SIGTERM) stops them all. If one process dies, the others are stopped too, so an
operator never runs a web server whose tasks silently go nowhere.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection


def web_command(opts: dict[str, Any]) -> list[str]:
    """The gunicorn command line for *opts* (host, port, workers, threads)."""
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "linli.wsgi:application",
        "--bind",
        f"{opts['host']}:{opts['port']}",
        "--workers",
        str(opts["workers"]),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]
    if opts.get("threads", 1) > 1:
        cmd += ["--threads", str(opts["threads"])]
    return cmd


class Command(BaseCommand):
    help = "Serve Linli: web server (gunicorn) + background worker (huey), stopped together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")
        parser.add_argument(
            "--threads",
            type=int,
            default=1,
            help="threads per web worker (above 1: gunicorn's threaded workers, which overlap "
            "requests waiting on the database at less memory than more processes)",
        )
        parser.add_argument("--demo", action="store_true", help="print the demo accounts")

    def handle(self, *args: Any, **opts: Any) -> None:
        base = f"http://{opts['host']}:{opts['port']}"
        procs = {
            "worker": subprocess.Popen(
                [sys.executable, "-m", "linli.cli", "run_huey", "--workers", "2"]
            ),
            "web": subprocess.Popen(web_command(opts)),
        }
        if connection.vendor == "postgresql":
            # The audit log's sequencer: PostgreSQL writers leave their entry pending and this
            # chains it right after it commits (decision 0043; SQLite chains in place).
            procs["audit-chain"] = subprocess.Popen(
                [sys.executable, "-m", "linli.cli", "audit_chain"]
            )
        self._banner(base, demo=opts["demo"])
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = 0
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with {proc.returncode}; stopping Linli")
                    code = proc.returncode or 1
                    stopping = True
            time.sleep(0.3)
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stdout.write("Linli stopped.")
        if code:
            raise SystemExit(code)

    def _banner(self, base: str, *, demo: bool) -> None:
        w = self.stdout.write
        w("")
        w("=" * 64)
        w(f"  邻里 Linli 已启动  {base}")
        w(f"  工作台 Workbench   {base}/w/")
        w(f"  居民端 Portal      {base}/p/")
        w(f"  指挥舱 Command     {base}/c/")
        w(f"  API docs           {base}/api/v1/docs")
        if demo:
            from linli.register.demo import (
                DEMO_PASSWORD,
                demo_accounts,
                demo_exists,
                demo_resident_phone,
            )

            if demo_exists():
                w("")
                w(f"  演示账号 Demo accounts (password: {DEMO_PASSWORD})")
                for username, role, code in demo_accounts():
                    w(f"    {username:<10} {role:<20} {code}")
                phone = demo_resident_phone()
                if phone:
                    w("")
                    w(f"  居民端登录手机号 Resident portal phone: {phone}")
                    w("  验证码会打印在本终端 (the SMS code is printed in this terminal)")
        w("  按 Ctrl-C 停止 (Ctrl-C stops everything)")
        w("=" * 64)
        w("")
