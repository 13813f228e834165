"""The load benchmark's harness (benchmarks/bench_load.py) parses its command line and builds its
wrk scripts without a server, and its benchmark-only pass-verify URL gives the real verdict; the
benchmark itself is run by hand (docs/performance.md)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_load.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_defaults_and_target_table(bench: ModuleType) -> None:
    args = bench.parse_args([])
    assert (args.workers, args.levels) == (2, [8])
    assert bench.parse_args(["--connections", "2,8"]).levels == [2, 8]
    assert args.db.endswith("/linli_loadbench")
    assert [t.name for t in bench.TARGETS][:3] == ["bare", "checkin", "checkin-retry"]
    assert bench.selected_names(bench.parse_args(["--targets", "checkin, bare"])) == [
        "checkin",
        "bare",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["--targets", "nope"],
        ["--workers", "0"],
        ["--threads", "9", "--connections", "8"],
        ["--connections", "2,x"],
    ],
)
def test_bad_arguments_are_refused(bench: ModuleType, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(argv)
    assert exc.value.code == 2


def test_a_row_whose_module_is_missing_is_skipped(bench: ModuleType) -> None:
    row = bench.Target("x", "x", bench._script_bare, requires="linli.no_such_module")
    assert not bench.available(row) and bench.available(bench.TARGETS[0])


def test_check_in_script_sends_every_person_with_unique_keys(bench: ModuleType) -> None:
    fixture = {"pairs": [["tok-a", 11], ["tok-b", 12]]}
    lua = bench._script_checkin(fixture, "nonce1")
    assert '{"Bearer tok-a", 11}' in lua and '{"Bearer tok-b", 12}' in lua
    # Key = run nonce, wrk thread, request number: unique across threads and runs.
    assert '["Idempotency-Key"] = nonce .. "-" .. tid .. "-" .. n' in lua
    assert 'local nonce = "nonce1"' in lua


def test_pass_rows_send_real_codes_in_turn(bench: ModuleType) -> None:
    names = [t.name for t in bench.TARGETS]
    assert {"pass-verify-offline", "pass-verify-api"} <= set(names)
    rows = {t.name: t for t in bench.TARGETS}
    assert rows["pass-verify-offline"].requires == "linli.passes.signing"
    assert rows["pass-verify-api"].prepare is bench._prepare_pass_api
    fixture = {"passes": [["tok-a", 3, "LP1.aaa.bbb"], ["tok-b", 4, "LP1.ccc.ddd"]]}
    offline = bench._script_pass_offline(fixture, "n")
    assert '"LP1.aaa.bbb"' in offline and '"LP1.ccc.ddd"' in offline
    assert '"/bench/pass-verify?token=" .. c' in offline
    api = bench._script_pass_api(fixture, "n")
    # Each code goes to the gate of its grid, with that grid worker's token.
    assert '{"Bearer tok-a", "{\\"token\\": \\"LP1.aaa.bbb\\", \\"checkpoint\\": 3}"}' in api
    assert '"/api/v1/passes/verify"' in api


@pytest.mark.django_db
def test_offline_verify_endpoint_answers_the_verdict(settings: Any, client: Any) -> None:
    """The benchmark-only URL runs the real verify_token: a signed code is ok, a tampered one
    is refused with 422 (which wrk counts as an error), and no query is made."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.core import signing
    from linli.passes.signing import PassBody, token_sign

    settings.ROOT_URLCONF = "benchmarks.loadbench_urls"
    now = int(time.time())
    token = token_sign(
        PassBody(41, "person", 7, now - 60, now + 3600, signing.key_version(), "王*明")
    )
    client.get("/bench/pass-verify", {"token": token})  # the key cache is warm
    with CaptureQueriesContext(connection) as queries:
        resp = client.get("/bench/pass-verify", {"token": token})
    assert resp.status_code == 200 and len(queries) == 0
    assert resp.json() == {"ok": True, "reason": "", "pass_id": 41, "holder_masked": "王*明"}
    prefix, raw, sig = token.split(".")
    bad = f"{prefix}.{signing.b64(signing.unb64(raw).replace(b'|7|', b'|8|'))}.{sig}"
    resp = client.get("/bench/pass-verify", {"token": bad})
    assert resp.status_code == 422 and resp.json()["reason"] == "bad_signature"
    assert client.get("/bench/pass-verify").json()["reason"] == "malformed"
