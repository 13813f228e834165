"""Matching a received list against the register, streamed in batches (decision 0041).

`linkage.services.watch_list_match` checks, names and records the list; this module does the
work on its rows, a batch of `BATCH_ROWS` at a time, so a list of a million rows is never
held whole:

1. rows come from `intake.stream.open_records` (a CSV through the csv module alone);
2. each row is cleaned; a plainly typed valid ID (the common case) is checked by
   `QuickIds` from cached parts (region, birth date, sequence) instead of intake's full
   normaliser, and blind-indexed with the key's HMAC states computed once;
3. the indexes are looked up in the register: a long list reads the area's
   (id_bidx, status, grid) index whole once into a dict (a hash join, index-only thanks to
   the covering index of decision 0041), a short one asks for its indexes batch by batch.
   An ID held by a merged (absorbed) record counts for the record it was merged into;
4. each row's entry is written at once (COPY on PostgreSQL, executemany in big batches on
   SQLite); rows not found by ID are kept for the engine's fuzzy pass at the end, which is
   the only part that holds rows across batches (with their cells, for the not-found report).
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
#: SQLite page cache while entries are written (KiB).
SQLITE_CACHE_KIB = 256 * 1024

Progress = Callable[[int, int], None]

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
    for the record they were merged into."""

    def __init__(self, area: Area, *, whole: bool) -> None:
        self.area = area
        self.grids = set(
            Area.objects.filter(path__startswith=area.path).values_list("pk", flat=True)
        )
        self.whole = whole
        self.index: dict[str, int] = {}
        if whole:
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


class EntrySink:
    """Writes entries as plain tuples in `ENTRY_COLUMNS` order: COPY on PostgreSQL,
    executemany in big batches elsewhere (a million model instances would cost more than the
    match). ``write=False`` only counts them (the benchmark's core case)."""

    def __init__(self, *, write: bool = True) -> None:
        self.write = write
        self.count = 0
        self._cache_raised = False
        self._cache_was = 0
        qn = connection.ops.quote_name
        self.table = qn(WatchListEntry._meta.db_table)
        self.columns = ", ".join(qn(c) for c in ENTRY_COLUMNS)

    def put(self, rows: list[tuple[Any, ...]]) -> None:
        self.count += len(rows)
        if not self.write or not rows:
            return
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # Identifiers come from model metadata; values travel as COPY data.
                with cur.cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
                return
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
    from linli.intake.normalise import clean_name, clean_text

    today = timezone.localdate()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    quick = QuickIds(today)
    id_index = blind_indexer("national_id")
    register = RegisterIds(area, whole=estimated >= SCAN_FROM_ROWS)
    counts = dict.fromkeys(("rows", "exact", "probable", "not_found", "rejected"), 0)
    rest: list[ListRow] = []
    rejected: list[ListRow] = []
    ci_name, ci_id, ci_phone, ci_origin, ci_arrived = (
        columns.get(f, -1) for f in ("name", "national_id", "phone", "origin", "arrived")
    )
    plain_name, needs_clean = _PLAIN_NAME.fullmatch, _NEEDS_CLEAN.search
    exact, not_found = EntryResult.EXACT, EntryResult.NOT_FOUND
    done = 0
    if progress is not None:
        progress(0, estimated)
    for batch in _batches(records):
        cleaned: list[ListRow] = []
        hits: list[tuple[Any, ...]] = []
        for number, cells in batch:
            name = cells[ci_name] if ci_name >= 0 else ""
            if not plain_name(name):
                name = clean_name(name)
            origin = cells[ci_origin] if ci_origin >= 0 else ""
            if needs_clean(origin):
                origin = clean_text(origin)
            arrived = cells[ci_arrived] if ci_arrived >= 0 else ""
            if needs_clean(arrived):
                arrived = clean_text(arrived)
            row = ListRow(number, cells, name, origin=origin[:200], arrived=arrived[:64])
            raw_id = cells[ci_id] if ci_id >= 0 else ""
            number_ok = quick.check(raw_id) if raw_id else None
            if number_ok is not None:
                row.id_number = number_ok
                row.id_bidx = id_index(number_ok)
                # core.identity.mask_national_id of an 18-character ID, inline.
                row.id_masked = number_ok[:4] + "**********" + number_ok[14:]
            elif raw_id.strip():
                _slow_id(row, raw_id.strip(), id_index)
            if ci_phone >= 0 and cells[ci_phone].strip():
                _phone(row, cells[ci_phone])
            if not row.name and not row.id_number and not row.phone:
                row.problem = "empty"
            cleaned.append(row)
        found = register.lookup(r.id_bidx for r in cleaned if r.id_bidx)
        for r in cleaned:
            pk = found.get(r.id_bidx) if r.id_bidx else None
            if pk is not None:
                hits.append(
                    (
                        watch_list_id,
                        r.row,
                        r.name[:64],
                        r.id_masked,
                        r.phone_masked,
                        r.origin,
                        r.arrived,
                        exact,
                        pk,
                        1.0,
                        _EXACT_REASONS,
                        now,
                        now,
                    )
                )
            elif r.problem:
                r.result = EntryResult.REJECTED
                rejected.append(r)
            else:
                r.result = not_found
                rest.append(r)
        sink.put(hits)
        counts["exact"] += len(hits)
        done += len(batch)
        if progress is not None:
            progress(done, max(estimated, done))
    if rest:
        from linli.linkage.services import _fuzzy

        living = Person.objects.filter(grid__path__startswith=area.path, status=PersonStatus.LIVING)
        _fuzzy(rest, living)
    tail = rest + rejected
    sink.put([_entry(watch_list_id, r, now) for r in tail])
    counts["rows"] = done
    counts["rejected"] = len(rejected)
    counts["probable"] = sum(r.result == EntryResult.PROBABLE for r in rest)
    counts["not_found"] = len(rest) - counts["probable"]
    missing = sorted((r for r in tail if r.result != EntryResult.PROBABLE), key=lambda r: r.row)
    if progress is not None:
        progress(done, done)
    return Outcome(counts, missing)


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
