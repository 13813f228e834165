"""Fixtures for notify tests: a real SMSC on loopback (the npm package `smpp`, run by node)."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import World, make_world

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(__file__).with_name("smsc_peer.js")


class Smsc:
    """The running peer: its port and the JSON lines it printed."""

    def __init__(self, proc: subprocess.Popen[str], port: int, lines: queue.Queue[dict[str, Any]]):
        self.proc, self.port, self._lines = proc, port, lines
        self.seen: list[dict[str, Any]] = []

    def events(self, kind: str, *, wait_for: int = 0, timeout: float = 10) -> list[dict[str, Any]]:
        """The events of *kind* so far, waiting until there are at least *wait_for*."""
        end = time.monotonic() + timeout
        while True:
            while True:
                try:
                    self.seen.append(self._lines.get_nowait())
                except queue.Empty:
                    break
            found = [e for e in self.seen if e["event"] == kind]
            if len(found) >= wait_for or time.monotonic() > end:
                return found
            time.sleep(0.05)


def start_peer(*args: str) -> Iterator[Smsc]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "smpp").is_dir():
        pytest.fail("node and node_modules/smpp are needed (make setup installs them)")
    proc = subprocess.Popen(
        [node, str(PEER), "secret1", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[dict[str, Any]] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(json.loads(line))

    threading.Thread(target=pump, daemon=True).start()
    first = lines.get(timeout=15)
    assert first["event"] == "listening"
    try:
        yield Smsc(proc, int(first["port"]), lines)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    yield from start_peer()


@pytest.fixture
def nworld(db: None) -> World:
    return make_world()
