"""Command-line tables line up when cells hold Chinese; a closed pipe ends a command quietly."""

from __future__ import annotations

import subprocess
import sys

from linli.core.terminal import display_width, pad, table


def test_wide_characters_take_two_columns() -> None:
    assert display_width("abc") == 3
    assert display_width("台账") == 4
    assert display_width("v1 统计表") == 9
    assert pad("台账", 6) == "台账  "
    assert pad("12", 5, right=True) == "   12"
    assert pad("longer than", 3) == "longer than"


def test_columns_line_up_whatever_the_script() -> None:
    lines = table([["a-long-code", "台账", "x"], ["b", "统计表", "y"]])
    # Every column after the first starts at the same terminal column on each line.
    starts = [
        display_width(line[: line.index(cell)])
        for line, cell in zip(lines, ["台账", "统计表"], strict=True)
    ]
    assert starts[0] == starts[1]
    assert [display_width(line[: line.rindex(c)]) for line, c in zip(lines, "xy", strict=True)] == [
        21,
        21,
    ]
    assert table([]) == []


def test_a_closed_pipe_is_not_a_traceback() -> None:
    """`linli areas | head -1`: the reader leaves early; the command must not print a traceback."""
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE
    )
    assert reader.stdin is not None
    writer = subprocess.run(
        [
            sys.executable,
            "-c",
            "from linli.cli import main; import sys; "
            "sys.argv = ['linli', 'help']; [main() for _ in range(200)]",
        ],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    reader.stdin.close()
    reader.wait(timeout=30)
    assert b"Traceback" not in writer.stderr
    assert b"BrokenPipeError" not in writer.stderr
