"""Offline pass verification in-process: what one request costs the server, without the noise
of a shared machine's scheduler (issue 4, decision 0044).

``bench_load.py --targets pass-verify-offline`` measures the target as throughput over HTTP,
and on a shared 2-core machine its ratio moves by ±30% between runs. This harness measures the
same two views — ``/bench/bare`` (the peer) and ``/bench/pass-verify?token=<code>`` — through
Django's WSGI handler in this process (the production middleware stack and settings of
benchmarks/loadbench_settings.py, no HTTP server, no client), in CPU seconds of this process
(``time.process_time``), alternating the two in short blocks so that both see the same
machine. It also times one Ed25519 verification of the same code through each library.

No database is touched: the codes are signed here with the deployment's key (the one under
``LINLI_VAR_DIR``), for passes that need not exist, as verify_token checks no row.

Usage:
  .venv/bin/python benchmarks/bench_pass_verify.py                 # 7 rounds of 2,000 each
  .venv/bin/python benchmarks/bench_pass_verify.py --rounds 11 --requests 3000 --json /tmp/pv.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_pass_verify.py", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="alternating rounds (median reported)")
    p.add_argument("--requests", type=int, default=2000, help="requests per view per round")
    p.add_argument("--codes", type=int, default=300, help="distinct pass codes, sent in turn")
    p.add_argument("--json", default="", help="also write the results to this file")
    return p.parse_args(argv)


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.loadbench_settings"
    import django

    django.setup()


def _codes(n: int) -> list[str]:
    from linli.core import signing
    from linli.passes.signing import PassBody, token_sign

    now = int(time.time())
    return [
        token_sign(
            PassBody(
                pass_id=100_000 + i,
                kind="person",
                estate_id=17,
                valid_from=now - 3600,
                valid_until=now + 30 * 86400,
                key_version=signing.key_version(),
                holder_masked="张*国",
            )
        )
        for i in range(n)
    ]


def _wsgi_caller(path_of: Callable[[int], str]) -> Callable[[int], None]:
    """One request per call through Django's WSGI handler, answer read and checked."""
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    status: list[str] = []

    def start_response(s: str, headers: list[Any], exc_info: Any = None) -> None:
        status.append(s)

    def call(i: int) -> None:
        path, _, query = path_of(i).partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        response = handler(environ, start_response)
        b"".join(response)
        response.close()  # type: ignore[attr-defined]
        if not status.pop().startswith("200"):
            raise SystemExit(f"{path} did not answer 200")

    return call


def _per_call_us(fn: Callable[[int], None], n: int) -> float:
    t0 = time.process_time()
    for i in range(n):
        fn(i)
    return (time.process_time() - t0) / n * 1e6


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    _setup()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from linli.core import signing
    from linli.passes.signing import accepted_keys, verify_token

    codes = _codes(args.codes)
    n_codes = len(codes)
    bare = _wsgi_caller(lambda i: "/bench/bare")
    offline = _wsgi_caller(lambda i: "/bench/pass-verify?token=" + codes[i % n_codes])
    _, raw_b64, sig_b64 = codes[0].split(".")
    raw, sig = signing.unb64(raw_b64), signing.unb64(sig_b64)
    key = accepted_keys()[signing.key_version()]
    openssl_key = Ed25519PublicKey.from_public_bytes(key)

    def verify_openssl(i: int) -> None:
        openssl_key.verify(sig, raw)

    def verify_sodium(i: int) -> None:
        signing.verify(sig, raw, key)

    def token(i: int) -> None:
        if not verify_token(codes[i % n_codes]).ok:
            raise SystemExit("a code did not verify")

    cases: dict[str, Callable[[int], None]] = {
        "bare request": bare,
        "pass-verify request": offline,
        "verify_token": token,
        "Ed25519 verify, cryptography (OpenSSL)": verify_openssl,
        "Ed25519 verify, PyNaCl (libsodium)": verify_sodium,
    }
    for fn in cases.values():  # warm-up: imports, caches, URL resolver
        _per_call_us(fn, 200)
    rounds: dict[str, list[float]] = {name: [] for name in cases}
    ratios: list[float] = []
    for _ in range(args.rounds):
        for name, fn in cases.items():
            rounds[name].append(_per_call_us(fn, args.requests))
        ratios.append(rounds["bare request"][-1] / rounds["pass-verify request"][-1])
    load = os.getloadavg()
    out: dict[str, Any] = {
        "rounds": args.rounds,
        "requests": args.requests,
        "load_average": [round(x, 2) for x in load],
        "cpu_us": {
            name: {
                "median": round(statistics.median(v), 1),
                "min": round(min(v), 1),
                "max": round(max(v), 1),
            }
            for name, v in rounds.items()
        },
        "ratio_bare_to_verify": {
            "median": round(statistics.median(ratios), 3),
            "min": round(min(ratios), 3),
            "max": round(max(ratios), 3),
        },
    }
    print(
        f"{args.rounds} rounds x {args.requests} calls, CPU µs per call "
        f"(load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})"
    )
    for name, row in out["cpu_us"].items():
        print(f"  {name:40s} {row['median']:8.1f}  ({row['min']:.1f}–{row['max']:.1f})")
    r = out["ratio_bare_to_verify"]
    print(
        f"  pass-verify / bare as throughput (bare µs ÷ verify µs, per round): "
        f"{r['median']:.3f} ({r['min']:.3f}–{r['max']:.3f})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
