"""The people import, end to end, as ratios to peers measured in the same run.

Cases (each in a fresh process on a freshly migrated database, so peak memory is its own):

- pg: a CSV roster of --pg-rows (default 1,000,000) rows imported into PostgreSQL by
  `people_import` (parse, validate, look up, seal, write dwellings, households, persons,
  memberships, tags, timeline events, provenance, audit), against a plain `COPY` of the same
  file into an unindexed table of text columns.
- iexp: a --iexp-rows (default 100,000) CSV imported by `people_import` and by
  django-import-export (a ModelResource for Person that cleans each row with the same
  validation and seals the ID and phone, as a project would write it), on PostgreSQL.
- xlsx: a --xlsx-rows (default 100,000) .xlsx imported by `people_import` into SQLite, against
  openpyxl just reading the same workbook (read-only mode, every cell).

Peak memory is the process's peak resident set (ru_maxrss) and, beside it, the resident set
when the measured work began (Django and the world loaded).

Usage:
  .venv/bin/pip install -e '.[bench]'   # django-import-export
  .venv/bin/python benchmarks/bench_import.py --pg postgres://postgres@127.0.0.1:5432/bench \
      [--cases pg,iexp,xlsx] [--pg-rows 1000000] [--iexp-rows 100000] [--xlsx-rows 100000]
The PostgreSQL database named in --pg is dropped and created again for every case.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GRIDS = 20
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")


# --- the parent: files, databases, processes, the table ---------------------------------------


def _run(case: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_pg(url: str) -> None:
    import psycopg

    base, _slash, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "linli"), "migrate", "--verbosity", "0"],
        env=env,
        check=True,
    )


def _env(*, pg: str | None, var: Path) -> dict[str, str]:
    env = dict(os.environ, LINLI_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="linli.settings")
    env.pop("DATABASE_URL", None)
    if pg:
        env["DATABASE_URL"] = pg
    return env


def _case(case: str, *, pg: str | None, var: Path, file: Path) -> dict[str, Any]:
    env = _env(pg=pg, var=var)
    if pg:
        _fresh_pg(pg)
    else:
        (var / "linli.sqlite3").unlink(missing_ok=True)
    _migrate(env)
    return _run(case, env, "--file", str(file))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", ""))
    parser.add_argument("--cases", default="pg,iexp,xlsx")
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--iexp-rows", type=int, default=100_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--work", default=None, help="directory for files and SQLite")
    parser.add_argument("--out", default="benchmarks/results/import.json")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_child(args.case, Path(args.file))))
        return

    from benchmarks.make_roster import write_csv, write_xlsx

    work = Path(args.work or tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    cases = args.cases.split(",")
    if ("pg" in cases or "iexp" in cases) and not args.pg:
        parser.error("--pg is needed for the pg and iexp cases")
    results: list[dict[str, Any]] = []
    out = ROOT / args.out

    def row(label: str, ours: dict[str, Any], peer: dict[str, Any], peer_label: str) -> None:
        entry = {
            "case": label,
            "rows": ours["rows"],
            "ours_s": ours["seconds"],
            "ours_cpu_s": ours.get("cpu_s"),
            "ours_server_cpu_s": ours.get("server_cpu_s"),
            "ours_rows_per_s": ours["rows"] / ours["seconds"],
            "ours_peak_mb": ours["peak_mb"],
            "ours_start_mb": ours["start_mb"],
            "peer": peer_label,
            "peer_s": peer["seconds"],
            "peer_cpu_s": peer.get("cpu_s"),
            "peer_server_cpu_s": peer.get("server_cpu_s"),
            "peer_rows_per_s": peer["rows"] / peer["seconds"],
            "peer_peak_mb": peer["peak_mb"],
            "peer_start_mb": peer["start_mb"],
            "counts": ours.get("counts"),
            "peer_counts": peer.get("counts"),
        }
        entry["rate_ratio"] = entry["ours_rows_per_s"] / entry["peer_rows_per_s"]
        cpu = [
            entry[k] for k in ("ours_cpu_s", "ours_server_cpu_s", "peer_cpu_s", "peer_server_cpu_s")
        ]
        if all(c is not None for c in cpu):
            # The same ratio in CPU seconds (client and server): what a quiet machine would
            # show when neither side waits for the other.
            entry["cpu_ratio"] = (cpu[2] + cpu[3]) / max(cpu[0] + cpu[1], 1e-9)
        results.append(entry)
        print(json.dumps(entry, ensure_ascii=False), flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2))

    if "xlsx" in cases:
        f = work / f"roster-{args.xlsx_rows}.xlsx"
        if not f.exists():
            write_xlsx(f, args.xlsx_rows, grids=GRIDS)
        reading = _case("openpyxl", pg=None, var=work, file=f)
        ours = _case("ours", pg=None, var=work, file=f)
        row("SQLite xlsx", ours, reading, "openpyxl reading the workbook")

    if "iexp" in cases:
        f = work / f"roster-{args.iexp_rows}.csv"
        if not f.exists():
            write_csv(f, args.iexp_rows, grids=GRIDS)
        ours = _case("ours", pg=args.pg, var=work, file=f)
        theirs = _case("iexp", pg=args.pg, var=work, file=f)
        row("PostgreSQL CSV", ours, theirs, "django-import-export")
    if "pg" in cases:
        f = work / f"roster-{args.pg_rows}.csv"
        if not f.exists():
            write_csv(f, args.pg_rows, grids=GRIDS)
        copy = _case("copy", pg=args.pg, var=work, file=f)
        ours = _case("ours", pg=args.pg, var=work, file=f)
        row("PostgreSQL CSV", ours, copy, "COPY into an unindexed table")
    print()
    print(f"{'case':<16} {'rows':>9} {'ours s':>8} {'rows/s':>8} {'peak MB':>8}  peer")
    for r in results:
        print(
            f"{r['case']:<16} {r['rows']:>9,} {r['ours_s']:>8.1f} {r['ours_rows_per_s']:>8,.0f} "
            f"{r['ours_peak_mb']:>8.0f}  {r['peer']}: {r['peer_s']:.1f} s, "
            f"{r['peer_rows_per_s']:,.0f} rows/s, {r['peer_peak_mb']:.0f} MB; "
            f"our rate / peer's = {r['rate_ratio']:.3f}"
        )


# --- the child: one measured case -----------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup() -> Any:
    import django

    django.setup()
    from benchmarks.make_roster import grid_names
    from linli.areas.models import Area, AreaKind
    from linli.register import services as reg

    city = Area.objects.create(kind=AreaKind.CITY, code="B1", name="基准市")
    district = Area.objects.create(kind=AreaKind.DISTRICT, code="B101", name="基准区", parent=city)
    sub = Area.objects.create(
        kind=AreaKind.SUBDISTRICT, code="B101001", name="基准街道", parent=district
    )
    community = Area.objects.create(
        kind=AreaKind.COMMUNITY, code="B101001001", name="基准社区", parent=sub
    )
    for i, name in enumerate(grid_names(GRIDS)):
        Area.objects.create(
            kind=AreaKind.GRID, code=f"B101001001{i + 1:02d}", name=name, parent=community
        )
    reg.estate_create(actor=None, community=community, name="基准小区")
    return community


def _child(case: str, file: Path) -> dict[str, Any]:
    if case == "openpyxl":
        return _measure(lambda: _openpyxl(file))
    if case == "copy":
        import django

        django.setup()
        return _measure(lambda: _copy(file))
    community = _setup()
    if case == "ours":
        return _measure(lambda: _ours(file, community))
    if case == "iexp":
        return _measure(lambda: _iexp(file, community))
    raise SystemExit(f"unknown case {case}")


def _server_cpu() -> float | None:
    """CPU seconds used so far by this process's PostgreSQL backend, when the server runs on
    this machine and its /proc is readable (else None): on a shared machine, CPU time is
    the figure the load disturbs least."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            (pid,) = cur.fetchone()
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(fn: Any) -> dict[str, Any]:
    start = _rss_mb()
    s0 = _server_cpu() if "DATABASE_URL" in os.environ else None
    t0 = time.perf_counter()
    c0 = time.process_time()
    rows, counts = fn()
    seconds = time.perf_counter() - t0
    s1 = _server_cpu() if s0 is not None else None
    return {
        "seconds": seconds,
        "server_cpu_s": s1 - s0 if s0 is not None and s1 is not None else None,
        "cpu_s": time.process_time() - c0,
        "rows": rows,
        "counts": counts,
        "start_mb": start,
        "peak_mb": _peak_mb(),
    }


def _ours(file: Path, community: Any) -> tuple[int, dict[str, int]]:
    from linli.intake.services import people_import

    result = people_import(actor=None, path=file, area=community, source="bench")
    assert not result.failed, result.batch.failure
    return result.counts["read"], result.counts


def _copy(file: Path) -> tuple[int, dict[str, int]]:
    from django.db import connection, transaction

    from benchmarks.make_roster import HEADER

    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"CREATE TABLE bench_copy ({columns})")
        raw = cur.cursor  # psycopg's own cursor, for COPY
        sql = "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
        with raw.copy(sql) as cp, file.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                cp.write(chunk)
        cur.execute("SELECT count(*) FROM bench_copy")
        (count,) = cur.fetchone()
    return count, {"read": count}


def _openpyxl(file: Path) -> tuple[int, dict[str, int]]:
    import openpyxl

    wb = openpyxl.load_workbook(file, read_only=True, data_only=True)
    rows = 0
    for values in wb.worksheets[0].iter_rows(values_only=True):
        if any(v is not None for v in values):
            rows += 1
    wb.close()
    return rows - 2, {"read": rows - 2}  # less the title and header rows


def _iexp(file: Path, community: Any) -> tuple[int, dict[str, int]]:
    import tablib
    from import_export import resources

    from linli.areas.models import Area
    from linli.intake.mapping import suggest_mapping
    from linli.intake.writer import Reject, clean_row
    from linli.register import pii
    from linli.register.models import Person, Tag
    from linli.register.naming import pinyin_forms

    grids = {a.name: a for a in Area.objects.filter(parent=community)}
    tags = {t.name: t for t in Tag.objects.all()}

    class PersonResource(resources.ModelResource):
        """Person rows from a roster: the same cleaning as the import, the ID and phone sealed,
        an existing person found by the ID's blind index. It cannot create dwellings or
        households from a Person resource, so it writes persons only."""

        class Meta:
            model = Person
            fields = (
                "name",
                "sex",
                "birth_date",
                "residency",
                "relation",
                "notes",
                "grid",
                "id_bidx",
            )
            import_id_fields = ("id_bidx",)
            skip_unchanged = True

        def before_import(self, dataset: Any, **kwargs: Any) -> None:
            self.columns = suggest_mapping(dataset.headers).fields

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            cells = [row.get(h, "") or "" for h in self.headers_]
            values = {f: cells[i] for f, i in self.columns.items()}
            try:
                clean = clean_row(values, set(), tags)
            except Reject as rej:
                raise ValueError(str(rej.reason)) from rej
            row["name"] = clean.name
            row["sex"] = clean.sex
            row["birth_date"] = clean.birth_date.isoformat() if clean.birth_date else ""
            row["residency"] = clean.residency or "registered"
            row["relation"] = clean.relation
            row["notes"] = clean.notes
            row["grid"] = grids[values["grid"]].pk
            row["id_bidx"] = (
                pii.national_id_index(clean.national_id.number) if clean.national_id else None
            )
            row["_national_id"] = clean.national_id.number if clean.national_id else ""
            row["_phone"] = clean.phone

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            pii.set_national_id(instance, row["_national_id"])
            pii.set_phone(instance, row["_phone"])
            instance.name_pinyin, instance.name_initials = pinyin_forms(instance.name)

    with file.open(encoding="utf-8") as fh:
        dataset = tablib.Dataset().load(fh.read(), format="csv")
    resource = PersonResource()
    resource.headers_ = list(dataset.headers)
    for column in (
        "id_bidx",
        "name",
        "sex",
        "birth_date",
        "residency",
        "relation",
        "notes",
        "grid",
    ):
        if column not in dataset.headers:
            dataset.append_col([""] * len(dataset), header=column)
    result = resource.import_data(dataset, dry_run=False, use_transactions=True, raise_errors=True)
    totals = {k.lower(): v for k, v in result.totals.items()}
    return len(dataset), totals


if __name__ == "__main__":
    main()
