"""After `linli seed_demo`, no national ID or phone number is in the database file in clear."""

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
def test_seeded_sqlite_file_holds_no_plaintext_ids_or_phones(tmp_path: Path) -> None:
    env = {**os.environ, "LINLI_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    linli = [sys.executable, "-m", "linli.cli"]
    subprocess.run([*linli, "migrate", "-v0"], env=env, check=True)
    subprocess.run(
        [*linli, "seed_demo", "--people", "600"], env=env, check=True, capture_output=True
    )
    db = tmp_path / "linli.sqlite3"
    key = (tmp_path / "secrets" / "field_key").read_text().strip()
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id_sealed, phone_sealed FROM register_person").fetchall()
    con.close()
    assert len(rows) == 600
    with override_settings(LINLI_FIELD_KEY=key):
        ids = [crypto.unseal(i) for i, _ in rows]
        phones = [crypto.unseal(p) for _, p in rows if p]
    assert len(set(ids)) == 600 and all(len(i) == 18 for i in ids)
    assert phones
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("linli.sqlite3*"))
    leaked = [v for v in ids + phones if v.encode() in raw]
    assert leaked == []
    # The masked forms are there (they are what the pages show).
    assert ids[0][:4].encode() in raw


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL dump"
)
def test_postgres_dump_holds_no_plaintext(transactional_db: None) -> None:
    import shutil

    from django.db import connection

    from tests.factories import make_world

    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is missing (Debian: postgresql-client)")
    w = make_world()
    s = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            s["HOST"] or "127.0.0.1",
            "-p",
            str(s["PORT"] or 5432),
            "-U",
            s["USER"],
            s["NAME"],
        ],
        check=True,
        capture_output=True,
    ).stdout
    assert w.a.householder.name.encode() in dump  # the dump is real and holds the register
    for secret in (
        w.a.householder_id_number,
        w.a.householder_phone,
        w.b.householder_id_number,
        w.b.householder_phone,
    ):
        assert secret.encode() not in dump
