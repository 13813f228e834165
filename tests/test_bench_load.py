"""The load benchmark's harness (benchmarks/bench_load.py) parses its command line and builds its
wrk scripts without a server; the benchmark itself is run by hand (docs/performance.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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
