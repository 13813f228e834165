"""Fuzzy linkage on a synthetic Chinese roster: Linli's engine against Splink (DuckDB).

Both link the same incoming list against the same register (benchmarks/synthetic_roster.py,
known truth) and are scored on the same pairs: precision, recall and F1 of the predicted
pairs, wall time of the linkage (after the data is in memory; Splink's model training
included) and the peak resident memory of the process. Each run is a separate subprocess so
memory figures do not mix.

Runs:
- ``linli``       the engine with plaintext IDs and phones on both sides (what Splink gets);
- ``linli-bidx``  the engine as the app uses it: the register side has only blind indexes and
                  last four characters of ID and phone (the list side has plaintext);
- ``splink``      Splink with the DuckDB backend, configured as a careful user would (same
                  cleaning as ours: pinyin, IDs to 18 characters, birth date from the ID,
                  address digits; comparisons with exact / homophone / fuzzy levels and term
                  frequencies; eight blocking rules; u by random sampling, EM on two
                  blockings).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/bench_linkage.py --sizes 10000 100000

Figures go to docs/performance.md ("Fuzzy linkage").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic_roster import Roster, Row, generate  # noqa: E402

ENGINES = ("linli", "linli-bidx", "splink")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_seconds() -> float:
    """User + system CPU time of this process, all threads (DuckDB runs several)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------- Linli


def _bidx(kind: str) -> Any:
    def index(value: str) -> str:
        return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]

    return index


def run_linli(roster: Roster, *, blind: bool) -> list[tuple[str, str, float, str]]:
    from linli.linkage.engine import LinkRecord, link
    from linli.linkage.keys import id_is_valid, normalise_id, normalise_phone

    id_index, phone_index = _bidx("national_id"), _bidx("phone")

    def as_record(row: Row, *, register: bool) -> LinkRecord:
        if register and blind:
            nid = normalise_id(row.id_number) if row.id_number else ""
            phone = normalise_phone(row.phone) if row.phone else ""
            return LinkRecord(
                key=row.key,
                name=row.name,
                id_bidx=id_index(nid) if nid and id_is_valid(nid) else "",
                id_tail=nid[-4:],
                phone_bidx=phone_index(phone) if phone else "",
                phone_tail=phone[-4:],
                birth_date=row.birth_date,
                sex=row.sex,
                address=row.address,
            )
        return LinkRecord(
            key=row.key,
            name=row.name,
            id_number=row.id_number,
            phone=row.phone,
            birth_date=row.birth_date,
            sex=row.sex,
            address=row.address,
        )

    left = [as_record(r, register=False) for r in roster.left]
    right = [as_record(r, register=True) for r in roster.right]
    links = link(
        left,
        right,
        blind_index=id_index if blind else None,
        phone_blind_index=phone_index if blind else None,
    )
    return [(lk.left, lk.right, lk.score, lk.level) for lk in links]


# ---------------------------------------------------------------- Splink


def _splink_table(rows: list[Row]) -> Any:
    """Cleaned columns, as a careful Splink user would prepare them."""
    import pyarrow as pa

    from linli.linkage.keys import (
        address_numbers,
        id_birth_date,
        id_sex,
        name_syllables,
        normalise_address,
        normalise_id,
        normalise_name,
        normalise_phone,
    )

    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "unique_id",
            "name",
            "surname",
            "given",
            "name_pinyin",
            "given_pinyin",
            "id_number",
            "id_tail",
            "birth_date",
            "birth_year",
            "sex",
            "phone",
            "phone_tail",
            "address",
            "address_digits",
        )
    }
    for r in rows:
        name = normalise_name(r.name)
        syllables = name_syllables(name)
        nid = normalise_id(r.id_number) if r.id_number else ""
        birth = r.birth_date or (id_birth_date(nid) if nid else None)
        phone = normalise_phone(r.phone) if r.phone else ""
        digits = "-".join(address_numbers(r.address)) if r.address else ""
        cols["unique_id"].append(r.key)
        cols["name"].append(name or None)
        cols["surname"].append(name[:1] or None)
        cols["given"].append(name[1:] or None)
        cols["name_pinyin"].append("".join(syllables) or None)
        cols["given_pinyin"].append("".join(syllables[1:]) or None)
        cols["id_number"].append(nid or None)
        cols["id_tail"].append(nid[-4:] or None)
        cols["birth_date"].append(birth.isoformat() if birth else None)
        cols["birth_year"].append(birth.year if birth else None)
        cols["sex"].append(r.sex or (id_sex(nid) if nid else "") or None)
        cols["phone"].append(phone or None)
        cols["phone_tail"].append(phone[-4:] or None)
        cols["address"].append(normalise_address(r.address) if r.address else None)
        cols["address_digits"].append(digits or None)
    return pa.table(cols)


def run_splink(roster: Roster) -> list[tuple[str, str, float, str]]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    db_api = DuckDBAPI()
    left = db_api.register(_splink_table(roster.left), dataset_display_name="list")
    right = db_api.register(_splink_table(roster.right), dataset_display_name="register")

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_pinyin"),  # homophones: 王晓明 / 王小明
            cll.JaroWinklerLevel("name_pinyin", 0.92),
            cll.LevenshteinLevel("name", 1),
            cll.JaroWinklerLevel("name_pinyin", 0.8),
            cll.ElseLevel(),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(
                "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
                "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
                "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)",
                label_for_charts="day and month swapped",
            ),
            cll.DamerauLevenshteinLevel("birth_date", 1),
            cll.ElseLevel(),
        ],
    )
    id_number = cl.CustomComparison(
        output_column_name="id_number",
        comparison_levels=[
            cll.NullLevel("id_number"),
            cll.ExactMatchLevel("id_number"),
            cll.DamerauLevenshteinLevel("id_number", 1),
            cll.ElseLevel(),
        ],
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone"),
            cll.DamerauLevenshteinLevel("phone", 1),
            cll.ExactMatchLevel("phone_tail"),
            cll.ElseLevel(),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address_digits"),
            cll.JaroWinklerLevel("address", 0.9),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[id_number, name, birth, phone, cl.ExactMatch("sex"), address],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("phone"),
            block_on("name_pinyin"),
            block_on("surname", "birth_date"),
            block_on("given_pinyin", "birth_year"),
            block_on("id_tail", "surname"),
            block_on("phone_tail", "surname"),
            block_on("surname", "address_digits"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number"), block_on("name", "birth_date")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("surname", "birth_date")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_pinyin"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    rows = predictions.as_record_list()
    out = []
    for r in rows:
        left_id, right_id = r["unique_id_l"], r["unique_id_r"]
        if str(r.get("source_dataset_l", "list")) != "list":
            left_id, right_id = right_id, left_id
        p = float(r["match_probability"])
        out.append((left_id, right_id, p, "match" if p >= 0.95 else "probable"))
    return out


# ---------------------------------------------------------------- m and u from a training roster


def fit(n: int, seed: int, random_pairs: int = 1_000_000) -> None:
    """Print m (among true pairs) and u (among random pairs) of every comparison level.

    Measured on a roster of another seed than the benchmark's; the engine's table
    (linli/linkage/engine.py, _LEVELS) holds these figures rounded, floored where a level is
    too rare to measure.
    """
    import random
    from collections import Counter

    from linli.linkage import engine as E

    roster = generate(n, seed=seed)
    as_rec = {
        r.key: E.prepare(
            E.LinkRecord(
                key=r.key,
                name=r.name,
                id_number=r.id_number,
                phone=r.phone,
                birth_date=r.birth_date,
                sex=r.sex,
                address=r.address,
            )
        )
        for r in (*roster.left, *roster.right)
    }

    def tally(pairs: list[tuple[str, str]]) -> tuple[Counter[str], Counter[str]]:
        levels: Counter[str] = Counter()
        fields: Counter[str] = Counter()
        for lk, rk in pairs:
            for level in E.comparison_levels(as_rec[lk], as_rec[rk]):
                levels[level] += 1
                fields[level.split("_", 1)[0]] += 1
        return levels, fields

    m_levels, m_fields = tally(sorted(roster.truth))
    rng = random.Random(seed)
    truth = roster.truth
    sample = []
    while len(sample) < random_pairs:
        pair = (rng.choice(roster.left).key, rng.choice(roster.right).key)
        if pair not in truth:
            sample.append(pair)
    u_levels, u_fields = tally(sample)
    print(f"{'level':<24} {'m':>9} {'u':>11}")
    for level in E.WEIGHTS:
        field = level.split("_", 1)[0]
        m = m_levels[level] / m_fields[field] if m_fields[field] else 0.0
        u = u_levels[level] / u_fields[field] if u_fields[field] else 0.0
        print(f"{level:<24} {m:9.5f} {u:11.2e}  (m n={m_levels[level]}, u n={u_levels[level]})")


# ---------------------------------------------------------------- driver


def child(engine: str, data: Path, out: Path) -> None:
    roster = Roster.load(data)
    base = _rss_mb()
    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    if engine == "splink":
        pairs = run_splink(roster)
    else:
        pairs = run_linli(roster, blind=engine == "linli-bidx")
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started
    with out.open("wb") as fh:
        pickle.dump(
            {
                "pairs": pairs,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_mb": _peak_mb(),
                "base_mb": base,
            },
            fh,
        )


def metrics(pairs: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(pairs & truth)
    precision = tp / len(pairs) if pairs else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "pairs": len(pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-linkage")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "DATA", "OUT"), help="internal")
    parser.add_argument(
        "--reuse", action="store_true", help="use earlier results of the same engine, N and seed"
    )
    parser.add_argument("--fit", type=int, metavar="N", help="print m/u measured on N people")
    args = parser.parse_args()
    if args.fit:
        fit(args.fit, seed=args.seed + 1)
        return
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    results: list[dict[str, Any]] = []
    for n in args.sizes:
        data = args.workdir / f"roster-{n}-{args.seed}.pickle"
        if not data.exists():
            generate(n, seed=args.seed).dump(data)
        roster = Roster.load(data)
        for engine in args.engines:
            out = args.workdir / f"result-{engine}-{n}-{args.seed}.pickle"
            if not (args.reuse and out.exists()):
                subprocess.run(
                    [sys.executable, __file__, "--child", engine, str(data), str(out)], check=True
                )
            with out.open("rb") as fh:
                res = pickle.load(fh)  # noqa: S301 (written by the child above)
            found = res["pairs"]
            for label, levels in (("≥0.5", {"match", "probable"}), ("≥0.95", {"match"})):
                pairs = {(lft, rgt) for lft, rgt, _s, lv in found if lv in levels}
                m = metrics(pairs, roster.truth)
                row = {
                    "n": n,
                    "engine": engine,
                    "cut": label,
                    "seconds": res["seconds"],
                    "cpu_seconds": res["cpu_seconds"],
                    "peak_mb": res["peak_mb"],
                    "base_mb": res["base_mb"],
                    **m,
                }
                results.append(row)
                print(
                    f"N={n:>7} {engine:<11} {label:<6} P={m['precision']:.4f} "
                    f"R={m['recall']:.4f} F1={m['f1']:.4f} pairs={m['pairs']} "
                    f"time={res['seconds']:.1f}s cpu={res['cpu_seconds']:.1f}s "
                    f"peak={res['peak_mb']:.0f}MB "
                    f"(data {res['base_mb']:.0f}MB)",
                    flush=True,
                )
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
