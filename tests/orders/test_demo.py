"""`linli seed_orders_demo` after `linli seed_demo`: once, every state, no phone in clear."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from linli.core import crypto


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="checks the SQLite file")
def test_demo_orders_cover_the_states_and_hold_no_plaintext_phone(tmp_path: Path) -> None:
    env = {**os.environ, "LINLI_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    linli = [sys.executable, "-m", "linli.cli"]
    subprocess.run([*linli, "migrate", "-v0"], env=env, check=True)
    subprocess.run(
        [*linli, "seed_demo", "--people", "600"], env=env, check=True, capture_output=True
    )
    first = subprocess.run(
        [*linli, "seed_orders_demo"], env=env, check=True, capture_output=True, text=True
    )
    again = subprocess.run(
        [*linli, "seed_orders_demo"], env=env, check=True, capture_output=True, text=True
    )
    assert "新建 12 条" in first.stdout and "新建 0 条" in again.stdout
    con = sqlite3.connect(tmp_path / "linli.sqlite3")
    statuses = sorted(r[0] for r in con.execute("SELECT DISTINCT status FROM orders_workorder"))
    sealed = [r[0] for r in con.execute("SELECT phone_sealed FROM orders_workorder") if r[0]]
    con.close()
    assert statuses == ["dispatched", "done", "opened", "rated", "submitted", "whistled"]
    key = (tmp_path / "secrets" / "field_key").read_text().strip()
    with override_settings(LINLI_FIELD_KEY=key):
        phones = [crypto.unseal(p) for p in sealed]
    assert phones
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("linli.sqlite3*"))
    assert [p for p in phones if p.encode() in raw] == []
