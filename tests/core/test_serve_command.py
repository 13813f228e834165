"""`linli serve` builds gunicorn's command line from its options."""

from __future__ import annotations

from linli.core.management.commands.serve import web_command

BASE = {"host": "127.0.0.1", "port": 8000, "workers": 2}


def test_sync_workers_by_default() -> None:
    cmd = web_command({**BASE, "threads": 1})
    assert cmd[cmd.index("--workers") + 1] == "2" and "--threads" not in cmd
    assert cmd[cmd.index("--bind") + 1] == "127.0.0.1:8000"


def test_threads_above_one_ask_for_threaded_workers() -> None:
    cmd = web_command({**BASE, "workers": 3, "threads": 4})
    assert cmd[cmd.index("--workers") + 1] == "3" and cmd[cmd.index("--threads") + 1] == "4"
