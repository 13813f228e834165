"""SMS through the SMPP gateway, against node's `smpp` client, on the same loopback SMSC.

The SMSC is tests/notify/smsc_peer.js (npm `smpp`). Cases, each sending N Chinese one-part
messages:

- backend: `SmppSmsBackend.send_message` as the worker calls it — connect, bind, submit,
  unbind for every message (receipt_wait 0);
- session: one `SmppSession` bind, N submits (what a persistent per-worker session would do;
  not built, see decision 0033);
- peer: node's `smpp` client, one bind, N submits, stop-and-wait like ours.

Ratios are to the peer measured in the same run. No database is used.

Usage: .venv/bin/python benchmarks/bench_notify.py [--n 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from linli.notify.backends import Outgoing  # noqa: E402
from linli.notify.smpp import SmppSession, SmppSmsBackend  # noqa: E402

TEXT = "邻里：请上报今日体温。"


def start_smsc() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        ["node", str(ROOT / "tests/notify/smsc_peer.js"), "secret1"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    # Drain the peer's log so its pipe never fills.
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc, int(first["port"])


def case_backend(port: int, n: int) -> float:
    settings.LINLI_SMPP = {**_config(port), "receipt_wait": 0}
    backend = SmppSmsBackend()
    t = time.perf_counter()
    for i in range(n):
        backend.send_message(Outgoing(notification_id=i, phone="13912345678", text=TEXT))
    return time.perf_counter() - t


def case_session(port: int, n: int) -> float:
    t = time.perf_counter()
    s = SmppSession(_config(port), lambda r: None)
    s.bind()
    for _ in range(n):
        s.submit("13912345678", TEXT)
    s.close()
    return time.perf_counter() - t


def case_peer(port: int, n: int) -> float:
    out = subprocess.run(
        ["node", str(ROOT / "benchmarks/smpp_client.js"), str(port), str(n), TEXT],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def _config(port: int) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": port, "system_id": "bench", "password": "secret1",
            "timeout": 10, "enquire_link": 30}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    proc, port = start_smsc()
    try:
        runs: dict[str, list[float]] = {"backend": [], "session": [], "peer": []}
        for _ in range(args.repeat):
            runs["peer"].append(case_peer(port, args.n))
            runs["session"].append(case_session(port, args.n))
            runs["backend"].append(case_backend(port, args.n))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    peer = statistics.median(runs["peer"])
    print(f"{args.n} messages, median of {args.repeat}")
    print("| case | median s | msg/s | ratio to peer |")
    print("|---|---|---|---|")
    for name in ("backend", "session", "peer"):
        m = statistics.median(runs[name])
        print(f"| {name} | {m:.3f} | {args.n / m:.0f} | {m / peer:.2f} |")


if __name__ == "__main__":
    main()
