"""Emergency mode under load (issue 4): the check-in API against a bare Django JSON endpoint.

The server is the production set-up — ``linli serve`` (gunicorn + the huey worker) — on
loopback, against a PostgreSQL database of the benchmark's own (``linli_loadbench`` by
default), seeded with the demo register, an active event over one community, people under home
quarantine in its grids and a bearer token per grid worker of those grids. The peer is
``/bench/bare``, a JSON endpoint served by the same gunicorn workers through the same
middleware, added by a benchmark-only URLconf (benchmarks/loadbench_settings.py); production
URLs never contain it.

The load comes from ``wrk`` (apt package ``wrk``), driven by a Lua script the harness writes per
target: closed loop, each of ``--connections`` connections sends its next request as soon as
the answer came (every target gets a short warm-up first). ``--connections 2,8`` runs every
target at each level; the load of a row is its concurrency, and its p99 is the latency at that
load (wrk cannot pace requests here: its think time is skipped on connections the server
closes, which gunicorn's sync workers do after every answer). The client shares the machine's
cores with the server, so it runs with one thread by default (``--threads``).

Targets (the TARGETS table; a row whose ``requires`` module is missing is skipped with a note):
  bare           GET /bench/bare, the peer.
  checkin        POST /api/v1/check-ins as the grid worker of the person, a distinct person
                 each request in turn, a unique Idempotency-Key each request, a real body
                 (36.0–37.0 °C; one in twenty a fever with a cough, which raises an alert and a
                 task). The rows written are counted in the database after the run.
  checkin-retry  POST /api/v1/check-ins again with keys already answered: every request must
                 be a stored answer (no new check-in may appear).
  pass-verify-offline
                 GET /bench/pass-verify?token=<code>: what a gate phone does offline
                 (linli.passes.signing.verify_token: signature, key version, validity window; no
                 database), served by the same workers as the peer; a refused code answers 422.
                 The codes are those of real resident passes, a different one each request.
  pass-verify-api
                 POST /api/v1/passes/verify as the grid worker of the gate: the online check
                 against the register (signature, then the pass's row: estate, revocation).
                 Before each run a sample of the codes must answer "ok": true.
The pass rows are skipped (said so) when linli.passes is absent; the seeding issues the passes
through linli.passes.services (one gate per grid, ``--passes`` resident passes in all).
The peak RSS reported is that of the web server: gunicorn's master and workers together (and
the largest single worker), sampled every 0.2 s during the target's runs.

Usage:
  apt-get install wrk     # once
  .venv/bin/python benchmarks/bench_load.py                 # seeds on first use, then measures
  .venv/bin/python benchmarks/bench_load.py --reseed --people 5000 --quarantined 1200
  .venv/bin/python benchmarks/bench_load.py --profile 50    # queries per check-in, in-process
  .venv/bin/python benchmarks/bench_load.py --workers 3 --duration 30 --json /tmp/load.json
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/linli_loadbench"
CHECKIN_PATH = "/api/v1/check-ins"
PASS_VERIFY_PATH = "/api/v1/passes/verify"


# --- arguments --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (kept free of Django so it can be tested without a database)."""
    p = argparse.ArgumentParser(
        prog="bench_load.py",
        description="Check-in API throughput and latency against a bare Django JSON endpoint.",
    )
    p.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL of the benchmark's database")
    p.add_argument(
        "--var", default=str(ROOT / "var" / "loadbench"), help="LINLI_VAR_DIR of the server"
    )
    p.add_argument("--reseed", action="store_true", help="drop, create and seed the database")
    p.add_argument("--people", type=int, default=3000, help="demo register size when seeding")
    p.add_argument("--grids", type=int, default=6, help="grids (one worker token each) seeded")
    p.add_argument(
        "--quarantined", type=int, default=600, help="people put under quarantine when seeding"
    )
    p.add_argument("--passes", type=int, default=300, help="resident passes issued when seeding")
    p.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (linli serve)")
    p.add_argument(
        "--server-threads", type=int, default=1, help="threads per worker (linli serve --threads)"
    )
    p.add_argument(
        "--connections",
        default="8",
        help="wrk connections; a comma-separated list runs every target at each level",
    )
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per target")
    p.add_argument(
        "--targets",
        default="",
        help="comma-separated target names (default: all available); the peer always runs",
    )
    p.add_argument("--json", default="", help="also write the results to this file")
    p.add_argument(
        "--py-spy",
        default="",
        metavar="DIR",
        help="record the gunicorn workers with py-spy during each measured run (raw stacks "
        "into DIR) and print where their time went",
    )
    p.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead of the load: N check-ins in-process, printing the SQL of each",
    )
    args = p.parse_args(argv)
    unknown = set(selected_names(args)) - {t.name for t in TARGETS}
    if unknown:
        p.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    try:
        args.levels = [int(c) for c in str(args.connections).split(",") if c.strip()]
    except ValueError:
        p.error("--connections takes whole numbers, e.g. 2,8")
    if not args.levels or min(args.levels) < 1:
        p.error("--connections must be at least 1")
    for name in ("workers", "server_threads", "threads", "duration"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.threads > min(args.levels):
        p.error("--threads cannot exceed --connections")
    return args


def selected_names(args: argparse.Namespace) -> list[str]:
    return [n.strip() for n in args.targets.split(",") if n.strip()]


# --- wrk scripts ------------------------------------------------------------------------------

# Printed by every script when wrk finishes; latencies are in microseconds.
_LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50": %d, "p90": %d, ' ..
    '"p95": %d, "p99": %d, "max": %d, "mean": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""

# Per-thread numbering so keys are unique across wrk's threads.
_LUA_THREADS = r"""
local nthreads = 0
setup = function(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
"""


def _lua_str(s: str) -> str:
    return json.dumps(s)  # a JSON string literal is a valid Lua string literal for our text


@dataclasses.dataclass(frozen=True)
class Target:
    """One row of the benchmark: what wrk sends, and what must be true of the database after."""

    name: str
    describe: str
    script: Callable[[dict[str, Any], str], str]  # (fixture, run nonce) → Lua request part
    requires: str = ""  # a module that must exist for the row to run (else skipped, said so)
    prepare: Callable[[dict[str, Any], str, int], dict[str, Any]] | None = None
    writes_checkins: bool = False
    stores_nothing: bool = False


def _script_bare(fixture: dict[str, Any], nonce: str) -> str:
    return 'wrk.method = "GET"\nwrk.path = "/bench/bare"\n'


def _checkin_body(qid: int, n: int) -> str:
    """A real check-in body: a normal temperature, one in twenty a fever with a cough."""
    if n % 20 == 0:
        return json.dumps({"quarantine": qid, "temperature": "37.8", "symptoms": ["cough"]})
    t = f"{36.0 + (n % 11) / 10:.1f}"
    return json.dumps({"quarantine": qid, "temperature": t, "symptoms": [], "note": ""})


def _script_checkin(fixture: dict[str, Any], nonce: str) -> str:
    rows = ",\n".join(f"{{{_lua_str('Bearer ' + tok)}, {qid}}}" for tok, qid in fixture["pairs"])
    return (
        _LUA_THREADS
        + f"local pairs_ = {{\n{rows}\n}}\n"
        + f"local nonce = {_lua_str(nonce)}\n"
        + r"""
local n = 0
request = function()
  n = n + 1
  -- thread t takes persons t, t + nthreads, ... in turn: distinct people, every one in turn
  local i = ((n - 1) * nthreads_all + tid - 1) % #pairs_ + 1
  local p = pairs_[i]
  local body
  if n % 20 == 0 then
    body = string.format('{"quarantine": %d, "temperature": "37.8", "symptoms": ["cough"]}', p[2])
  else
    body = string.format('{"quarantine": %d, "temperature": "%.1f", "symptoms": [], "note": ""}',
      p[2], 36.0 + (n % 11) / 10)
  end
  return wrk.format("POST", "/api/v1/check-ins", {
    ["Authorization"] = p[1],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = nonce .. "-" .. tid .. "-" .. n,
  }, body)
end
"""
    )


def _prepare_retry(fixture: dict[str, Any], base: str, count: int) -> dict[str, Any]:
    """Answer *count* check-ins once (each with its key) so the run can replay them."""
    host, port = base.removeprefix("http://").split(":")
    done: list[list[Any]] = []
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    for n, (tok, qid) in enumerate(fixture["pairs"][:count], start=1):
        key = f"retry-{uuid.uuid4().hex[:12]}-{n}"
        body = _checkin_body(qid, n)
        headers = {
            "Authorization": "Bearer " + tok,
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        conn.request("POST", CHECKIN_PATH, body=body, headers=headers)
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status != 201:
            raise SystemExit(f"retry set-up: check-in answered {resp.status}: {answer[:300]!r}")
        done.append([tok, key, body])
        conn.close()  # gunicorn's sync workers close after each answer
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
    return {**fixture, "replays": done}


def _script_retry(fixture: dict[str, Any], nonce: str) -> str:
    rows = ",\n".join(
        f"{{{_lua_str('Bearer ' + tok)}, {_lua_str(key)}, {_lua_str(body)}}}"
        for tok, key, body in fixture["replays"]
    )
    return (
        _LUA_THREADS
        + f"local replays = {{\n{rows}\n}}\n"
        + r"""
local n = 0
request = function()
  n = n + 1
  local r = replays[((n - 1) * nthreads_all + tid - 1) % #replays + 1]
  return wrk.format("POST", "/api/v1/check-ins", {
    ["Authorization"] = r[1],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = r[2],
  }, r[3])
end
"""
    )


def _script_pass_offline(fixture: dict[str, Any], nonce: str) -> str:
    # Codes are base64url and dots: nothing to escape in a query string.
    rows = ",\n".join(_lua_str(code) for _tok, _cp, code in fixture["passes"])
    return (
        _LUA_THREADS
        + f"local codes = {{\n{rows}\n}}\n"
        + r"""
local n = 0
request = function()
  n = n + 1
  local c = codes[((n - 1) * nthreads_all + tid - 1) % #codes + 1]
  return wrk.format("GET", "/bench/pass-verify?token=" .. c)
end
"""
    )


def _pass_verify_body(checkpoint: int, code: str) -> str:
    return json.dumps({"token": code, "checkpoint": checkpoint})


def _script_pass_api(fixture: dict[str, Any], nonce: str) -> str:
    rows = ",\n".join(
        f"{{{_lua_str('Bearer ' + tok)}, {_lua_str(_pass_verify_body(cp, code))}}}"
        for tok, cp, code in fixture["passes"]
    )
    return (
        _LUA_THREADS
        + f"local checks = {{\n{rows}\n}}\n"
        + r"""
local n = 0
request = function()
  n = n + 1
  local c = checks[((n - 1) * nthreads_all + tid - 1) % #checks + 1]
  return wrk.format("POST", "/api/v1/passes/verify", {
    ["Authorization"] = c[1],
    ["Content-Type"] = "application/json",
  }, c[2])
end
"""
    )


def _prepare_pass_api(fixture: dict[str, Any], base: str, count: int) -> dict[str, Any]:
    """Every code of a sample must pass the online check (a 200 with ``"ok": false`` would
    otherwise count as a fast success)."""
    host, port = base.removeprefix("http://").split(":")
    for tok, cp, code in fixture["passes"][:: max(1, len(fixture["passes"]) // 30)]:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request(
            "POST",
            PASS_VERIFY_PATH,
            body=_pass_verify_body(cp, code),
            headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        answer = resp.read()
        conn.close()
        if resp.status != 200 or not json.loads(answer).get("ok"):
            raise SystemExit(f"pass check set-up: answered {resp.status}: {answer[:300]!r}")
    return fixture


TARGETS: list[Target] = [
    Target("bare", "GET /bench/bare (peer: bare Django JSON)", _script_bare),
    Target(
        "checkin",
        "POST /api/v1/check-ins, new key each",
        _script_checkin,
        writes_checkins=True,
    ),
    Target(
        "checkin-retry",
        "POST /api/v1/check-ins, a stored key again",
        _script_retry,
        prepare=_prepare_retry,
        stores_nothing=True,
    ),
    Target(
        "pass-verify-offline",
        "GET /bench/pass-verify (verify_token, no database)",
        _script_pass_offline,
        requires="linli.passes.signing",
        stores_nothing=True,
    ),
    Target(
        "pass-verify-api",
        "POST /api/v1/passes/verify (online check)",
        _script_pass_api,
        requires="linli.passes.signing",
        prepare=_prepare_pass_api,
        stores_nothing=True,
    ),
]


def available(target: Target) -> bool:
    return not target.requires or importlib.util.find_spec(target.requires) is not None


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            out += [int(c) for c in text.split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Server:
    """``linli serve`` with the benchmark's settings, on loopback; stopped by ``stop()``."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str]) -> None:
        self.port = args.port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(args.var) / "serve.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "linli.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.server_threads),
            ],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "benchmarks.loadbench_settings"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        self.gunicorn = next(c for c in _children(self.proc.pid) if "gunicorn" in _cmdline(c))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"linli serve exited; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/bench/bare")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"linli serve did not answer in 120 s; see {self.log_path}")

    def rss(self) -> tuple[int, int]:
        """(master + workers, largest worker) resident memory in kB, now."""
        workers = [_rss_kb(c) for c in _children(self.gunicorn)]
        return _rss_kb(self.gunicorn) + sum(workers), max(workers, default=0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class RssSampler:
    """The server's peak RSS while a target runs (sampled every 0.2 s in a thread)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak_total = self.peak_worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total, worker = self.server.rss()
            self.peak_total = max(self.peak_total, total)
            self.peak_worker = max(self.peak_worker, worker)
            self._stop.wait(0.2)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- running wrk ------------------------------------------------------------------------------


def run_wrk(
    args: argparse.Namespace, base: str, script: str, seconds: int, connections: int
) -> dict[str, Any]:
    path = Path(args.var) / "wrk-script.lua"
    # Scripts read the thread count as nthreads_all (thread numbering comes from setup()).
    path.write_text(f"local nthreads_all = {args.threads}\n" + script + _LUA_DONE)
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(path),
        base,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["errors"] = sum(
                result[k]
                for k in ("connect_errors", "read_errors", "write_errors", "status_errors")
            )
            return result
    raise SystemExit(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")


def _db_counts() -> dict[str, int]:
    """Check-ins and idempotency records, counted in one statement (one snapshot: a commit
    landing between two counts would make them disagree)."""
    from django.db import connection

    from linli.api.models import IdempotencyRecord
    from linli.emergency.models import CheckIn

    with connection.cursor() as cur:
        cur.execute(
            f"SELECT (SELECT count(*) FROM {CheckIn._meta.db_table}), "  # noqa: S608
            f"(SELECT count(*) FROM {IdempotencyRecord._meta.db_table})"
        )
        checkins, records = cur.fetchone()
    return {"checkins": checkins, "records": records}


def measure(
    args: argparse.Namespace,
    server: Server,
    fixture: dict[str, Any],
    target: Target,
    connections: int,
) -> dict[str, Any]:
    """Warm up, then one measured run of a target at a concurrency."""
    if target.prepare is not None:
        fixture = target.prepare(fixture, server.base, min(300, len(fixture["pairs"])))
    nonce = uuid.uuid4().hex[:12]
    run_wrk(args, server.base, target.script(fixture, nonce + "w"), args.warmup, connections)
    row: dict[str, Any] = {
        "target": target.name,
        "describe": target.describe,
        "connections": connections,
    }
    with RssSampler(server) as rss:
        spies = _spy_start(args, server, f"{target.name}-c{connections}")
        before = _db_counts()
        row["result"] = run_wrk(
            args, server.base, target.script(fixture, nonce), args.duration, connections
        )
        after = _db_counts()
        row["db"] = {k: after[k] - before[k] for k in after}
        if spies:
            row["py_spy"] = _spy_report(spies)
    row["peak_rss_mb"] = rss.peak_total / 1024
    row["peak_worker_rss_mb"] = rss.peak_worker / 1024
    return row


def _spy_start(
    args: argparse.Namespace, server: Server, name: str
) -> list[tuple[subprocess.Popen[bytes], Path]]:
    """py-spy on every gunicorn worker for the measured run (idle time included: a worker
    waiting on PostgreSQL is where a database-bound request spends its time)."""
    if not args.py_spy:
        return []
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    Path(args.py_spy).mkdir(parents=True, exist_ok=True)
    out = []
    for pid in _children(server.gunicorn):
        path = Path(args.py_spy) / f"{name}-{pid}.txt"
        cmd = [spy, "record", "--pid", str(pid), "--duration", str(args.duration), "--idle"]
        cmd += ["--nonblocking", "--format", "raw", "--output", str(path)]
        out.append(
            (subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), path)
        )
    return out


def _spy_report(spies: list[tuple[subprocess.Popen[bytes], Path]], top: int = 12) -> list[Any]:
    """Where the workers' samples were: the innermost frames (own time, including waiting on
    PostgreSQL), then the share spent inside each of Linli's own functions."""
    own: dict[str, int] = {}
    inside: dict[str, int] = {}
    total = 0
    for proc, path in spies:
        proc.wait(timeout=120)
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames, n = stack.split(";"), int(count)
            total += n
            own[frames[-1]] = own.get(frames[-1], 0) + n
            for frame in {f for f in frames if "(linli/" in f}:
                inside[frame] = inside.get(frame, 0) + n
    if not total:
        return []

    def ranked(counts: dict[str, int], label: str) -> list[tuple[str, float]]:
        best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        return [(f"{label} {frame}", round(n / total, 3)) for frame, n in best]

    return ranked(own, "own") + ranked(inside, "in")


# --- the database -----------------------------------------------------------------------------


def setup_django(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": args.db, "LINLI_VAR_DIR": args.var}
    os.environ.update({"DATABASE_URL": args.db, "LINLI_VAR_DIR": args.var})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    Path(args.var).mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def _recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    if name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop the database {name!r}")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(args: argparse.Namespace) -> dict[str, Any]:
    """A fresh database: demo register, an event over the first community, people under home
    quarantine spread over its first grids, a bearer token per grid worker of those grids."""
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from linli.accounts.services import token_issue, user_create
    from linli.areas.models import Area
    from linli.emergency import services as em
    from linli.register.demo import demo_accounts
    from linli.register.models import Person, PersonStatus

    pass_measures = ["passes"] if importlib.util.find_spec("linli.passes") else []
    connection.close()
    _recreate_database(args.db)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", people=args.people, verbosity=0)
    community = Area.objects.get(code=demo_accounts()[2][2])
    grids = list(community.children.order_by("code")[: args.grids])
    event = em.event_declare(
        actor=None,
        name="负载测试疫情",
        kind="epidemic",
        areas=[community],
        measures=["arrivals", "quarantine", "checkins", *pass_measures],
        rule_days={"home": 14, "home_monitoring": 7, "centralised": 14},
        now=timezone.now() - dt.timedelta(days=2),
    )
    starts_on = timezone.localdate() - dt.timedelta(days=1)
    per_grid = -(-args.quarantined // len(grids))
    pairs: list[list[Any]] = []
    passes: list[list[Any]] = []
    for i, grid in enumerate(grids, start=1):
        user, _pw = user_create(
            actor=None, username=f"bench-wangge{i}", password=None, role="grid_worker", area=grid
        )
        token = token_issue(actor=None, user=user, name="loadbench")
        people = Person.objects.filter(grid=grid, status=PersonStatus.LIVING).order_by("id")
        for person in people[:per_grid]:
            q = em.quarantine_start(
                actor=None,
                event=event,
                person=person,
                kind="home",
                reason="负载测试",
                starts_on=starts_on,
            )
            pairs.append([token, q.pk])
        if pass_measures:
            passes += _seed_passes(grid, token, -(-args.passes // len(grids)))
    # Interleave grids so consecutive requests come from different workers and grids.
    random.Random(2026).shuffle(pairs)
    random.Random(2027).shuffle(passes)
    _analyze()
    fixture = {"db": args.db, "event": event.pk, "pairs": pairs, "passes": passes}
    _fixture_path(args).write_text(json.dumps(fixture))
    print(
        f"seeded {args.db}: {Person.objects.count()} persons, {len(pairs)} under quarantine in "
        f"{len(grids)} grids, {len(passes)} resident passes, in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    return fixture


def _seed_passes(grid: Any, token: str, count: int) -> list[list[Any]]:
    """A gate of *grid* (on the estate with most of its households) and *count* resident
    passes of people living there, issued through linli.passes.services; [worker token, gate,
    code] each. Their codes are signed with the server's key (the same LINLI_VAR_DIR)."""
    from django.db.models import Count

    from linli.passes import services as ps
    from linli.register.models import Estate, Person, PersonStatus

    estate = (
        Estate.objects.filter(buildings__grid=grid)
        .annotate(n=Count("buildings__dwellings__households"))
        .order_by("-n", "pk")
        .first()
    )
    if estate is None:
        return []
    gate = ps.checkpoint_create(actor=None, estate=estate, grid=grid, name=f"负载测试门{grid.pk}")
    people = Person.objects.filter(
        grid=grid,
        status=PersonStatus.LIVING,
        household__dwelling__building__estate=estate,
        household__dwelling__building__grid=grid,
    ).order_by("id")
    out = []
    for person in people[:count]:
        p = ps.resident_pass_issue(actor=None, person=person)
        out.append([token, gate.pk, ps.pass_token(p)])
    return out


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def _fixture_path(args: argparse.Namespace) -> Path:
    return Path(args.var) / "loadbench-fixture.json"


def load_fixture(args: argparse.Namespace) -> dict[str, Any] | None:
    path = _fixture_path(args)
    if not path.exists():
        return None
    fixture: dict[str, Any] = json.loads(path.read_text())
    if fixture.get("db") != args.db:
        return None
    if "passes" not in fixture and importlib.util.find_spec("linli.passes"):
        return None  # seeded before the pass rows existed
    from linli.emergency.models import Quarantine

    try:
        if not Quarantine.objects.filter(pk=fixture["pairs"][0][1]).exists():
            return None
    except Exception:  # no database or no tables yet: seed
        return None
    return fixture


# --- profile ----------------------------------------------------------------------------------


def profile(args: argparse.Namespace, fixture: dict[str, Any]) -> None:
    """N check-ins through Django's test client in this process: queries and time of each."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts, db_s = [], 0.0
    t0 = time.perf_counter()
    for n, (tok, qid) in enumerate(fixture["pairs"][: args.profile + 1]):
        if n == 1:  # the first request imports the URLconf: not timed
            counts, db_s, t0 = [], 0.0, time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            resp = client.post(
                CHECKIN_PATH,
                data=_checkin_body(qid, n),
                content_type="application/json",
                headers={"Authorization": "Bearer " + tok, "Idempotency-Key": uuid.uuid4().hex},
            )
        if resp.status_code != 201:
            raise SystemExit(f"check-in answered {resp.status_code}: {resp.content[:300]!r}")
        counts.append(len(ctx.captured_queries))
        db_s += sum(float(q["time"]) for q in ctx.captured_queries)
        if n == 2:  # a steady one
            for q in ctx.captured_queries:
                print(f"  {q['time']}s  {q['sql'][:160]}")
    elapsed = time.perf_counter() - t0
    print(
        f"{len(counts)} check-ins in-process: {elapsed / len(counts) * 1000:.1f} ms each "
        f"({db_s / len(counts) * 1000:.1f} ms of it in the database driver), "
        f"queries per check-in min {min(counts)} max {max(counts)}"
    )


# --- main -------------------------------------------------------------------------------------


def _ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def report(rows: list[dict[str, Any]], skipped: list[str], args: argparse.Namespace) -> None:
    """One line per (target, concurrency); the ratio is to the peer at the same concurrency."""
    bare = {r["connections"]: r["result"]["rps"] for r in rows if r["target"] == "bare"}
    print()
    print(
        f"workers={args.workers}x{args.server_threads} threads, wrk threads={args.threads}, "
        f"duration={args.duration}s "
        f"cores={os.cpu_count()} load average now={os.getloadavg()[0]:.1f}"
    )
    head = (
        f"{'target':<19} {'conns':>5} {'req/s':>8} {'ratio':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6} {'RSS MB':>7} {'worker':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        res = r["result"]
        res["ratio"] = res["rps"] / bare[r["connections"]]
        print(
            f"{r['target']:<19} {r['connections']:>5} {res['rps']:>8.1f} {res['ratio']:>6.3f} "
            f"{_ms(res['p50']):>7} {_ms(res['p95']):>7} {_ms(res['p99']):>7} "
            f"{res['errors'] + res['timeouts']:>6} {r['peak_rss_mb']:>7.0f} "
            f"{r['peak_worker_rss_mb']:>6.0f}"
        )
        for frame, share in r.get("py_spy", []):
            print(f"{'':<19} py-spy {share:>6.1%}  {frame[:110]}")
        db = r["db"]
        if r["target"] != "bare":
            print(
                f"{'':<25} wrote {db['checkins']} check-ins and {db['records']} idempotency "
                f"records for {res['requests']} answers"
            )
    for note in skipped:
        print(f"skipped: {note}")


def check(rows: list[dict[str, Any]]) -> list[str]:
    """What must hold of the database after the runs (wrk stops with requests in flight, so
    a few more may be stored than were answered, never fewer)."""
    problems = []
    for r in rows:
        res, db, name = r["result"], r["db"], f"{r['target']} c={r['connections']}"
        if res["errors"] or res["timeouts"]:
            problems.append(f"{name}: {res['errors']} errors, {res['timeouts']} timeouts")
        target = next(t for t in TARGETS if t.name == r["target"])
        if target.writes_checkins and db["checkins"] != db["records"]:
            problems.append(f"{name}: check-ins {db['checkins']} ≠ records {db['records']}")
        if target.writes_checkins and db["checkins"] < res["requests"]:
            problems.append(f"{name}: fewer check-ins stored than answered")
        if target.stores_nothing and (db["checkins"] or db["records"]):
            problems.append(f"{name}: a retry stored something: {db}")
    return problems


def check_audit_chain() -> list[str]:
    """Every check-in wrote an audit entry; after the runs the whole chain must verify (on
    PostgreSQL the entries were chained by the server's sequencer, decision 0043)."""
    from linli.audit.models import AuditEntry
    from linli.audit.services import audit_verify_chain

    pending = AuditEntry.objects.filter(seq__isnull=True).count()
    checked, broken = audit_verify_chain()
    print(f"audit chain: {checked} entries verified ({pending} were still pending at the end)")
    return [f"audit chain broken at entry {broken}"] if broken is not None else []


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile == 0 and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    env = setup_django(args)
    fixture = None if args.reseed else load_fixture(args)
    if fixture is None:
        fixture = seed(args)
    if args.profile:
        profile(args, fixture)
        return 0
    names = selected_names(args)
    chosen = [t for t in TARGETS if t.name == "bare" or not names or t.name in names]
    skipped = [f"{t.name} (module {t.requires} absent)" for t in chosen if not available(t)]
    chosen = [t for t in chosen if available(t)]
    server = Server(args, env)
    rows: list[dict[str, Any]] = []
    try:
        for connections in args.levels:
            for target in chosen:
                rows.append(measure(args, server, fixture, target, connections))
    finally:
        server.stop()
    report(rows, skipped, args)
    problems = check(rows)
    problems += check_audit_chain()
    for p in problems:
        print(f"PROBLEM: {p}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "rows": rows, "skipped": skipped}, indent=2)
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
