"""Matching a received list against the register, streamed in batches (decision 0041).

`linkage.services.watch_list_match` checks, names and records the list; this module does the
work on its rows, a batch of `BATCH_ROWS` at a time, so a list of a million rows is never
held whole:

1. rows come from `intake.stream.open_records` (a CSV through the csv module alone);
2. each row is cleaned; a plainly typed valid ID (the common case) is checked by
   `QuickIds` from cached parts (region, birth date, sequence) instead of intake's full
   normaliser, and blind-indexed with the key's HMAC states computed once;
3. the indexes are looked up in the register: a long list reads the area's
   (id_bidx, status, grid) index whole once into a dict (a hash join; index-only on SQLite
   thanks to the covering index of decision 0041; on PostgreSQL, where that index lacks the
   id, read by a thread while the first batch is cleaned), a short one asks for its indexes
   batch by batch.
   An ID held by a merged (absorbed) record counts for the record it was merged into;
4. each row's entry is written at once (on PostgreSQL COPY into a staging table by a thread
   while the next batch is cleaned, moved into the entry table in person order at the end;
   executemany in big batches on SQLite); rows not found by ID are kept for the engine's
   fuzzy pass at the end, which is the only part that holds rows across batches (with their
   cells, for the not-found report).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from linli.areas.models import Area
from linli.core.crypto import blind_indexer
from linli.core.identity import mask_national_id, mask_phone
from linli.linkage.models import EntryResult, WatchListEntry
from linli.register.models import Person, PersonStatus

#: Rows cleaned, looked up and written together.
BATCH_ROWS = 50_000
#: From this many rows a list reads the area's whole ID index once (hash join) instead of
#: asking for its IDs batch by batch.
SCAN_FROM_ROWS = 20_000
#: IDs asked for in one query when a short list is looked up batch by batch.
_IN_CHUNK = 500
#: PostgreSQL's work_mem for sorting a list's entries into person order (decision 0046).
SORT_WORK_MEM = "256MB"
#: SQLite page cache while entries are written (KiB).
SQLITE_CACHE_KIB = 256 * 1024

Progress = Callable[[int, int], None]

_STAGING_NUMBERS = itertools.count(1)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")
#: A name made of CJK ideographs only is already what intake's clean_name would make of it.
_PLAIN_NAME = re.compile(r"[\u3400-\u9fff]{1,64}")
#: Characters intake's clean_text changes (spaces, full-width letters and digits); a cell
#: without any is left as it is.
_NEEDS_CLEAN = re.compile(
    r"[\s\u00a0\u2000-\u200b\u202f\u205f\ufeff\u3000\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
)
_EXACT_REASONS = json.dumps(["id_exact"])


def _partial(digits: str, offset: int) -> int:
    return sum(int(c) * w for c, w in zip(digits, _ID_WEIGHTS[offset:], strict=False))


class QuickIds:
    """The cheap check of an 18-character ID typed plainly (digits, a final digit or X): the
    same rules as core.identity.parse_national_id (a region code that has existed, a
    possible birth date not in the future, the check character), from cached parts: the
    weighted sums of the region (6 digits), the birth date (8) and the sequence (3) are
    computed once per distinct value. Anything else answers None and goes through intake's
    full normaliser, which says what is wrong."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.regions: dict[str, int | None] = {}
        self.births: dict[str, int | None] = {}
        self.sequences = {f"{i:03d}": _partial(f"{i:03d}", 14) for i in range(1000)}

    def _region(self, code: str) -> int | None:
        from linli.core.identity import _known_region

        ok = _DIGITS.issuperset(code) and _known_region(code)
        self.regions[code] = _partial(code, 0) if ok else None
        return self.regions[code]

    def _birth(self, text: str) -> int | None:
        value: int | None = None
        if _DIGITS.issuperset(text):
            try:
                born = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                born = None
            if born is not None and born <= self.today:
                value = _partial(text, 6)
        self.births[text] = value
        return value

    def check(self, raw: str) -> str | None:
        if len(raw) != 18:
            return None
        region = self.regions.get(raw[:6], -1)
        if region == -1:
            region = self._region(raw[:6])
        birth = self.births.get(raw[6:14], -1)
        if birth == -1:
            birth = self._birth(raw[6:14])
        sequence = self.sequences.get(raw[14:17])
        if region is None or birth is None or sequence is None:
            return None
        if raw[17] != _ID_CHECK[(region + birth + sequence) % 11]:
            return None
        return raw


@dataclass(slots=True)
class ListRow:
    """One row of a received list, cleaned; plaintext only in memory, never stored."""

    row: int
    cells: Sequence[str]
    name: str = ""
    id_number: str = ""
    id_bidx: str = ""
    id_masked: str = ""
    phone: str = ""
    phone_masked: str = ""
    origin: str = ""
    arrived: str = ""
    problem: str = ""
    result: str = ""
    person_id: int | None = None
    score: float = 0.0
    reasons: tuple[str, ...] = ()


# --- looking IDs up ----------------------------------------------------------------------------


class RegisterIds:
    """Blind index → person id among the living persons of an area, merged records counting
    for the record they were merged into.

    Read whole (a long list), on PostgreSQL the living persons' indexes are read by a thread
    on the match's own connection and transaction while the caller cleans the first rows
    (the server scans, the client cleans); `wait` joins it before the first lookup."""

    def __init__(self, area: Area, *, whole: bool) -> None:
        self.area = area
        self.grids = set(
            Area.objects.filter(path__startswith=area.path).values_list("pk", flat=True)
        )
        self.whole = whole
        self.index: dict[str, int] = {}
        self._pending: tuple[threading.Thread, list[BaseException]] | None = None
        if whole:
            if connection.vendor == "postgresql":
                self._read_living_in_background()
            else:
                self._read(self._queryset(), None)

    def _queryset(self) -> Any:
        qs = Person.objects.filter(
            id_bidx__isnull=False, status__in=(PersonStatus.LIVING, PersonStatus.MERGED)
        )
        if self.area.parent_id is not None:
            qs = qs.filter(grid_id__in=self.grids)
        return qs.order_by().values_list("id_bidx", "id", "grid_id", "status")

    def _read(self, qs: Any, into: dict[str, int] | None) -> dict[str, int]:
        """Run *qs* on a plain cursor (no ORM machinery per row) into *into*/the index."""
        found = self.index if into is None else into
        grids, living = self.grids, PersonStatus.LIVING
        merged: list[tuple[str, int]] = []
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            while batch := cur.fetchmany(100_000):
                found.update((b, pk) for b, pk, g, s in batch if s == living and g in grids)
                merged += [(b, pk) for b, pk, _g, s in batch if s != living]
        if merged:
            self._survivors(merged, found)
        return found

    def _read_living_in_background(self) -> None:
        """Start reading (id_bidx, id) of the area's living persons (the grids in the WHERE
        clause, for the root too); `wait` adds the merged records' survivors."""
        connection.ensure_connection()
        raw = connection.connection  # psycopg's connection: thread-safe, one transaction
        qn = connection.ops.quote_name
        sql = (
            f"SELECT {qn('id_bidx')}, {qn('id')} FROM {qn(Person._meta.db_table)} "  # noqa: S608
            f"WHERE {qn('id_bidx')} IS NOT NULL AND {qn('status')} = %s "
            f"AND {qn('grid_id')} = ANY(%s)"
        )
        params = [str(PersonStatus.LIVING), sorted(self.grids)]
        index, outcome = self.index, []

        def run() -> None:
            try:
                with raw.cursor() as cur:
                    cur.execute(sql, params)
                    index.update(cur.fetchall())
            except BaseException as exc:  # handed to the caller by wait()
                outcome.append(exc)

        thread = threading.Thread(target=run, name="linli-list-index", daemon=True)
        thread.start()
        self._pending = (thread, outcome)

    def wait(self, *, raise_errors: bool = True) -> None:
        """Wait for the background read (if any), raise what it raised, then add the merged
        records of the area (few) for their survivors."""
        if self._pending is None:
            return
        thread, outcome = self._pending
        self._pending = None
        thread.join()
        if not raise_errors:
            return
        if outcome:
            with connection.wrap_database_errors:
                raise outcome[0]
        merged = Person.objects.filter(
            id_bidx__isnull=False, status=PersonStatus.MERGED, grid_id__in=self.grids
        ).order_by()
        self._read(merged.values_list("id_bidx", "id", "grid_id", "status"), None)

    def _survivors(self, merged: list[tuple[str, int]], found: dict[str, int]) -> None:
        from linli.register.selectors import merge_survivors

        pks = [pk for _b, pk in merged]
        persons: list[Person] = []
        for i in range(0, len(pks), _IN_CHUNK):
            persons += Person.objects.filter(pk__in=pks[i : i + _IN_CHUNK])
        survivors = merge_survivors(persons)
        for bidx, pk in merged:
            s = survivors.get(pk)
            if s is not None and s.status == PersonStatus.LIVING and s.grid_id in self.grids:
                found[bidx] = s.pk

    def lookup(self, wanted: Iterable[str]) -> dict[str, int]:
        """The wanted indexes that are in the register (all of the index when read whole)."""
        if self.whole:
            self.wait()
            return self.index
        ordered = sorted(set(wanted))
        found: dict[str, int] = {}
        for i in range(0, len(ordered), _IN_CHUNK):
            self._read(self._queryset().filter(id_bidx__in=ordered[i : i + _IN_CHUNK]), found)
        return found


# --- writing entries ---------------------------------------------------------------------------

ENTRY_COLUMNS = (
    "watch_list_id",
    "row",
    "name",
    "id_masked",
    "phone_masked",
    "origin",
    "arrived",
    "result",
    "person_id",
    "score",
    "reasons",
    "created_at",
    "updated_at",
)


#: Characters a value must not carry raw in COPY's text format, and how they are written.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(values: Sequence[Any]) -> str:
    """One row in PostgreSQL COPY's text format (without the newline): NULL as \\N, text
    escaped, numbers as Python writes them, datetimes in ISO 8601 with their offset."""
    out = []
    for v in values:
        if v is None:
            out.append("\\N")
        elif isinstance(v, str):
            out.append(v.translate(_COPY_ESCAPES))
        elif isinstance(v, dt.datetime | dt.date):
            out.append(v.isoformat())
        else:
            out.append(str(v))
    return "\t".join(out)


#: An exact hit's entry: (row, name, id_masked, phone_masked, origin, arrived, person id).
Hit = tuple[int, str, str, str, str, str, int]


def exact_lines(watch_list_id: int, hits: list[Hit], now: dt.datetime) -> list[str]:
    """The COPY text of exact hits' entries (result exact, score 1, reason id_exact): one
    format string per row; a row whose values hold a character COPY must escape goes
    through `copy_line`."""
    stamp = now.isoformat()
    head, tail = f"{watch_list_id}\t", f"\t1.0\t{_EXACT_REASONS}\t{stamp}\t{stamp}"
    exact = EntryResult.EXACT.value
    lines = []
    for row, name, id_masked, phone_masked, origin, arrived, pk in hits:
        line = (
            f"{head}{row}\t{name}\t{id_masked}\t{phone_masked}\t{origin}\t{arrived}"
            f"\t{exact}\t{pk}{tail}"
        )
        if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != 12:
            values = (watch_list_id, row, name, id_masked, phone_masked, origin, arrived)
            line = copy_line((*values, exact, pk, 1.0, _EXACT_REASONS, stamp, stamp))
        lines.append(line)
    return lines


class EntrySink:
    """Writes entries in `ENTRY_COLUMNS` order, never through model instances (a million of
    them would cost more than the match). ``write=False`` only counts them (the benchmark's
    core case).

    PostgreSQL (decision 0046): each batch is made into COPY text here and written by a
    thread on the same connection and transaction into a temporary staging table (no index,
    no constraint, no WAL) while the caller cleans the next batch (as decision 0045's
    `Inserts.flush(background=True)`). `finish` then moves all of them into the entry table
    in one INSERT … SELECT ordered by person, so the person index grows in order and the
    foreign-key checks (one per row, each locking its person row) walk the register's pages
    in order instead of at random, which in list order rewrote each page many times over
    and filled the WAL with page images. An error in the thread is raised by the next
    `exact`/`put` or by `wait`/`finish`. SQLite: tuples, one executemany per batch,
    synchronously (the order does not matter there: no row locks, no page images).
    """

    def __init__(self, *, write: bool = True) -> None:
        self.write = write
        self.count = 0
        self.postgres = connection.vendor == "postgresql"
        self._cache_raised = False
        self._cache_was = 0
        self._constraints: str | None = None
        self._staging: str | None = None
        self._pending: tuple[threading.Thread, list[BaseException]] | None = None
        qn = connection.ops.quote_name
        self.table = qn(WatchListEntry._meta.db_table)
        self.columns = ", ".join(qn(c) for c in ENTRY_COLUMNS)

    def exact(self, watch_list_id: int, hits: list[Hit], now: dt.datetime) -> None:
        """Entries of rows found by ID: result exact, score 1, reason id_exact."""
        self.count += len(hits)
        if not self.write or not hits:
            return
        if not self.postgres:
            stamp = connection.ops.adapt_datetimefield_value(now)
            result = EntryResult.EXACT
            self._insert(
                [
                    (watch_list_id, *h[:6], result, h[6], 1.0, _EXACT_REASONS, stamp, stamp)
                    for h in hits
                ]
            )
            return
        lines = exact_lines(watch_list_id, hits, now)
        self._copy(lines)

    def put(self, rows: list[tuple[Any, ...]]) -> None:
        """Entries given whole, as tuples in `ENTRY_COLUMNS` order (created_at and
        updated_at as datetimes)."""
        self.count += len(rows)
        if not self.write or not rows:
            return
        if self.postgres:
            self._copy([copy_line(r) for r in rows])
            return
        adapt = connection.ops.adapt_datetimefield_value
        self._insert([(*r[:-2], adapt(r[-2]), adapt(r[-1])) for r in rows])

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        with connection.cursor() as cur:
            if not self._cache_raised:
                # Each entry's foreign-key check and person index insert lands on a random
                # page of a million-row table: SQLite's default 2 MB page cache thrashes.
                # For this connection only, until it closes (`restore_cache` sets it back).
                cur.execute("PRAGMA cache_size")
                self._cache_was = cur.fetchone()[0]
                cur.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
                self._cache_raised = True
            marks = ", ".join(["%s"] * len(ENTRY_COLUMNS))
            cur.executemany(
                f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})",  # noqa: S608
                rows,
            )

    def _constraint_names(self) -> str:
        """The entry table's deferred foreign keys, quoted, comma-separated."""
        if self._constraints is None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable "
                    "AND condeferred AND conrelid = %s::regclass ORDER BY conname",
                    [WatchListEntry._meta.db_table],
                )
                names = [connection.ops.quote_name(r[0]) for r in cur.fetchall()]
            self._constraints = ", ".join(names)
        return self._constraints

    def _copy(self, lines: list[str]) -> None:
        self.wait()
        if self._staging is None:
            self._staging = self._create_staging()
        data = ("\n".join(lines) + "\n").encode()
        # Identifiers come from model metadata and a counter; values travel as COPY data.
        sql = f"COPY {self._staging} ({self.columns}) FROM STDIN"
        raw = connection.connection  # psycopg's connection: thread-safe, one transaction
        outcome: list[BaseException] = []

        def run() -> None:
            try:
                with raw.cursor() as cur, cur.copy(sql) as copy:
                    copy.write(data)
            except BaseException as exc:  # handed to the caller by wait()
                outcome.append(exc)

        thread = threading.Thread(target=run, name="linli-list-entries", daemon=True)
        thread.start()
        self._pending = (thread, outcome)

    def _create_staging(self) -> str:
        """A temporary table of the entry columns (no index, no constraint, not WAL-logged,
        dropped at the end of the transaction whatever happens)."""
        name = connection.ops.quote_name(f"linli_list_entries_{next(_STAGING_NUMBERS)}")
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {self.columns} FROM {self.table} WITH NO DATA"
            )
        return name

    def finish(self) -> None:
        """Wait for the last batch; on PostgreSQL move the staged entries into the entry
        table in person order and check their foreign keys there and then (raising
        IntegrityError for a broken one), each deferred again after."""
        self.wait()
        if self._staging is None:
            return
        staging, self._staging = self._staging, None
        constraints = self._constraint_names()
        with connection.cursor() as cur:
            cur.execute("SELECT current_setting('work_mem')")
            work_mem = cur.fetchone()[0]
            # The sort of a million rows in memory, for this statement only.
            cur.execute("SELECT set_config('work_mem', %s, true)", [SORT_WORK_MEM])
            order = ", ".join(connection.ops.quote_name(c) for c in ("person_id", "row"))
            cur.execute(
                f"INSERT INTO {self.table} ({self.columns}) "  # noqa: S608
                f"SELECT {self.columns} FROM {staging} ORDER BY {order}"
            )
            cur.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
            cur.execute(f"DROP TABLE {staging}")
            if constraints:
                # Names from the catalogue, quoted; SET CONSTRAINTS takes no parameters.
                cur.execute(f"SET CONSTRAINTS {constraints} IMMEDIATE")
                cur.execute(f"SET CONSTRAINTS {constraints} DEFERRED")

    def wait(self, *, raise_errors: bool = True) -> None:
        """Wait for the batch being written (if any); raise, as Django's database errors,
        what writing it raised."""
        if self._pending is None:
            return
        thread, outcome = self._pending
        self._pending = None
        thread.join()
        if outcome and raise_errors:
            with connection.wrap_database_errors:
                raise outcome[0]

    def restore_cache(self) -> None:
        if self._cache_raised:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size = {int(self._cache_was)}")
            self._cache_raised = False


# --- the match ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What matching the rows found: counts by result and the rows for the not-found
    report (with their cells), in file order."""

    counts: dict[str, int]
    missing: list[ListRow] = field(default_factory=list)


def _batches(records: Iterator[tuple[int, Sequence[str]]]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def match_records(
    *,
    records: Iterator[tuple[int, Sequence[str]]],
    columns: dict[str, int],
    area: Area,
    watch_list_id: int,
    sink: EntrySink,
    estimated: int = 0,
    progress: Progress | None = None,
) -> Outcome:
    """Clean, look up and record every row of a list; see the module's docstring."""
    today = timezone.localdate()
    now = timezone.now()
    quick = QuickIds(today)
    id_index = blind_indexer("national_id")
    register = RegisterIds(area, whole=estimated >= SCAN_FROM_ROWS)
    counts = dict.fromkeys(("rows", "exact", "probable", "not_found", "rejected"), 0)
    rest: list[ListRow] = []
    rejected: list[ListRow] = []
    done = 0
    try:
        if progress is not None:
            progress(0, estimated)
        for batch in _batches(records):
            plain, other = _clean(batch, columns, quick, id_index)
            found = register.lookup([r[6] for r in plain] + [r.id_bidx for r in other if r.id_bidx])
            hits: list[Hit] = []
            for number, cells, name, origin, arrived, id_number, bidx, masked in plain:
                pk = found.get(bidx)
                if pk is not None:
                    hits.append((number, name, masked, "", origin, arrived, pk))
                else:
                    row = ListRow(number, cells, name, id_number, bidx, masked)
                    row.origin, row.arrived, row.result = origin, arrived, EntryResult.NOT_FOUND
                    rest.append(row)
            for r in other:
                pk = found.get(r.id_bidx) if r.id_bidx else None
                if pk is not None:
                    hits.append(
                        (r.row, r.name[:64], r.id_masked, r.phone_masked, r.origin, r.arrived, pk)
                    )
                elif r.problem:
                    r.result = EntryResult.REJECTED
                    rejected.append(r)
                else:
                    r.result = EntryResult.NOT_FOUND
                    rest.append(r)
            sink.exact(watch_list_id, hits, now)
            counts["exact"] += len(hits)
            done += len(batch)
            if progress is not None:
                progress(done, max(estimated, done))
        register.wait()
        if rest:
            from linli.linkage.services import _fuzzy

            living = Person.objects.filter(
                grid__path__startswith=area.path, status=PersonStatus.LIVING
            )
            _fuzzy(rest, living)
        tail = rest + rejected
        sink.put([_entry(watch_list_id, r, now) for r in tail])
        sink.finish()
    finally:
        # Nothing may be left running on the connection when the transaction is left.
        register.wait(raise_errors=False)
        sink.wait(raise_errors=False)
    counts["rows"] = done
    counts["rejected"] = len(rejected)
    counts["probable"] = sum(r.result == EntryResult.PROBABLE for r in rest)
    counts["not_found"] = len(rest) - counts["probable"]
    missing = sorted((r for r in tail if r.result != EntryResult.PROBABLE), key=lambda r: r.row)
    if progress is not None:
        progress(done, done)
    return Outcome(counts, missing)


#: A plainly typed row: (row, cells, name, origin, arrived, ID, blind index, masked ID).
_Plain = tuple[int, Sequence[str], str, str, str, str, str, str]


def _clean(
    batch: list[tuple[int, Sequence[str]]],
    columns: dict[str, int],
    quick: QuickIds,
    id_index: Callable[[str], str],
) -> tuple[list[_Plain], list[ListRow]]:
    """Clean a batch of rows. The rows typed plainly (a name of CJK ideographs, a valid ID
    as `QuickIds` reads it, no phone, where-from and when needing no cleaning: what
    intake's cleaners would leave as they are) come back as light tuples; every other row
    as a `ListRow`, through intake's cleaners (which say what is wrong)."""
    from linli.intake.normalise import clean_name, clean_text

    ci_name, ci_id, ci_phone, ci_origin, ci_arrived = (
        columns.get(f, -1) for f in ("name", "national_id", "phone", "origin", "arrived")
    )
    plain_name, needs_clean, check = _PLAIN_NAME.fullmatch, _NEEDS_CLEAN.search, quick.check
    plain: list[_Plain] = []
    other: list[ListRow] = []
    for number, cells in batch:
        name = cells[ci_name] if ci_name >= 0 else ""
        origin = cells[ci_origin] if ci_origin >= 0 else ""
        arrived = cells[ci_arrived] if ci_arrived >= 0 else ""
        raw_id = cells[ci_id] if ci_id >= 0 else ""
        number_ok = check(raw_id) if raw_id else None
        if (
            number_ok is not None
            and plain_name(name)
            and not needs_clean(origin)
            and not needs_clean(arrived)
            and (ci_phone < 0 or not cells[ci_phone])
            and len(origin) <= 200
            and len(arrived) <= 64
        ):
            # core.identity.mask_national_id of an 18-character ID, inline.
            masked = number_ok[:4] + "**********" + number_ok[14:]
            plain.append(
                (number, cells, name, origin, arrived, number_ok, id_index(number_ok), masked)
            )
            continue
        if not plain_name(name):
            name = clean_name(name)
        if needs_clean(origin):
            origin = clean_text(origin)
        if needs_clean(arrived):
            arrived = clean_text(arrived)
        row = ListRow(number, cells, name, origin=origin[:200], arrived=arrived[:64])
        if number_ok is not None:
            row.id_number = number_ok
            row.id_bidx = id_index(number_ok)
            row.id_masked = number_ok[:4] + "**********" + number_ok[14:]
        elif raw_id.strip():
            _slow_id(row, raw_id.strip(), id_index)
        if ci_phone >= 0 and cells[ci_phone].strip():
            _phone(row, cells[ci_phone])
        if not row.name and not row.id_number and not row.phone:
            row.problem = "empty"
        other.append(row)
    return plain, other


def _entry(watch_list_id: int, r: ListRow, now: Any) -> tuple[Any, ...]:
    return (
        watch_list_id,
        r.row,
        r.name[:64],
        r.id_masked,
        r.phone_masked,
        r.origin,
        r.arrived,
        r.result,
        r.person_id,
        r.score,
        json.dumps(list(r.reasons)),
        now,
        now,
    )


def _slow_id(row: ListRow, raw_id: str, id_index: Callable[[str], str]) -> None:
    """An ID that is not plainly typed and valid: intake's normaliser, else kept as typed
    for the engine (swapped or mistyped digits), masked."""
    import unicodedata

    from linli.intake.normalise import normalise_national_id

    checked = normalise_national_id(raw_id)
    if checked.value is not None:
        row.id_number = checked.value.number
        row.id_bidx = id_index(row.id_number)
        row.id_masked = mask_national_id(row.id_number)
    else:
        row.id_number = unicodedata.normalize("NFKC", raw_id).replace(" ", "").upper()
        row.id_masked = (row.id_number[:4] + "*" * 4 + row.id_number[-4:])[:18]


def _phone(row: ListRow, raw: str) -> None:
    from linli.intake.normalise import normalise_phone

    phone = normalise_phone(raw.strip())
    if phone.value is not None:
        row.phone = phone.value
        row.phone_masked = mask_phone(phone.value)
