"""Importing a people roster into the register: previewed, all-or-nothing, idempotent.

`people_import` reads a file (readers.read_table), maps its columns (mapping), cleans every
row (normalise), finds the row's dwelling among the area's existing dwellings, and creates or
updates persons through linli.register.services, so every write has its timeline event,
provenance and audit entry. All rows go in one transaction: a dry run does all the work and
rolls it back, so the preview counts are the counts a commit would give. Rejected rows are
not written; they go to a CSV error file the worker can fix and import again.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.intake.errors import IntakeError
from linli.intake.mapping import Mapping, suggest_mapping
from linli.intake.models import ImportBatch, ImportKind, ImportStatus
from linli.intake.normalise import clean_name, clean_text, normalise_national_id, normalise_phone
from linli.intake.readers import Table, read_table
from linli.register import pii
from linli.register import services as reg
from linli.register.models import (
    Dwelling,
    Household,
    HouseholdStatus,
    Person,
    PersonStatus,
    Relation,
    Residency,
)

#: Header of the reason column added to the error file.
REASON_HEADER = "原因"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Words of 与户主关系 as written in ledgers → Relation. Anything else is "other".
_RELATIONS: dict[str, str] = {}
for _code, _words in (
    (Relation.SELF, "户主 本人 自己"),
    (Relation.SPOUSE, "配偶 妻 妻子 夫 丈夫 老伴 爱人"),
    (Relation.CHILD, "子 女 儿子 女儿 子女 长子 次子 三子 长女 次女 三女 独子 独女 养子 养女"),
    (Relation.PARENT, "父 母 父亲 母亲 父母 岳父 岳母 公公 婆婆"),
    (Relation.GRANDCHILD, "孙子 孙女 外孙 外孙女 孙 孙子女"),
    (Relation.GRANDPARENT, "祖父 祖母 外祖父 外祖母 爷爷 奶奶 外公 外婆"),
    (Relation.SIBLING, "兄 弟 姐 妹 哥哥 弟弟 姐姐 妹妹 兄弟 姐妹 兄弟姐妹"),
    (Relation.CHILD_IN_LAW, "儿媳 女婿 媳妇 儿媳妇"),
    (Relation.TENANT, "租户 租客 承租人"),
):
    for _w in _words.split():
        _RELATIONS[_w] = _code

# Words of 人员类别 → Residency; an unknown word rejects the row rather than guess.
_RESIDENCIES: dict[str, str] = {}
for _res, _words in (
    (Residency.REGISTERED, "户籍 户籍人口 户籍人员 本地 常住户籍"),
    (Residency.LONG_TERM, "常住 长期居住 常住人口 寄住 人户分离"),
    (Residency.FLOATING, "流动 流动人口 外来 外来人口 暂住"),
    (Residency.TENANT, "租户 租住 租房 出租屋 租赁"),
):
    for _w in _words.split():
        _RESIDENCIES[_w] = _res

_CN_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")}


class _Rollback(Exception):
    """Raised at the end of a dry run so the transaction is rolled back."""


@dataclass(frozen=True)
class Rejection:
    """A row that was not written: its number in the file, its cells and why (translatable)."""

    row: int
    cells: tuple[str, ...]
    reason: str | Promise


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    batch: ImportBatch
    table: Table | None
    mapping: Mapping | None
    counts: dict[str, int]
    rejected: list[Rejection] = field(default_factory=list)
    error_file: Path | None = None
    dry_run: bool = False
    #: The committed batch of the same file when this import was a repeat (nothing done).
    already_committed: ImportBatch | None = None

    @property
    def failed(self) -> bool:
        return self.batch.status == ImportStatus.FAILED


def _zero_counts(read: int = 0) -> dict[str, int]:
    return {"read": read, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}


# --- places ----------------------------------------------------------------------------------


def _fold_place(value: str, suffixes: Sequence[str]) -> str:
    """A building / entrance / dwelling number in a comparable form: "3号楼" and "3",
    "一单元" and "1", "0301" and "301" compare equal."""
    text = unicodedata.normalize("NFKC", clean_text(value)).replace(" ", "").upper()
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    text = text.lstrip("第")
    if text and all(c in _CN_DIGITS or c == "十" for c in text) and len(text) <= 3:
        text = _cn_number(text)
    if text.isdigit():
        text = str(int(text))
    return text


def _cn_number(text: str) -> str:
    """一 → 1, 十二 → 12, 二十 → 20 (building and entrance numbers are small)."""
    if "十" not in text:
        return "".join(_CN_DIGITS[c] for c in text)
    tens, _sep, ones = text.partition("十")
    return str((int(_CN_DIGITS[tens]) if tens else 1) * 10 + (int(_CN_DIGITS[ones]) if ones else 0))


_BUILDING_SUFFIXES = ("号楼", "栋楼", "幢楼", "号", "栋", "幢", "楼", "座")
_ENTRANCE_SUFFIXES = ("单元", "门", "梯")
_NUMBER_SUFFIXES = ("室", "号", "房")


class _Places:
    """The dwellings of an area, indexed by folded building / entrance / number."""

    def __init__(self, area: Area) -> None:
        grids = Area.objects.subtree_ids([area.path])
        self.full: dict[tuple[str, str, str], list[Dwelling]] = {}
        self.no_entrance: dict[tuple[str, str], list[Dwelling]] = {}
        for d in Dwelling.objects.filter(grid__in=grids).select_related("building", "entrance"):
            b = _fold_place(d.building.name, _BUILDING_SUFFIXES)
            n = _fold_place(d.number, _NUMBER_SUFFIXES)
            e = _fold_place(d.entrance.name, _ENTRANCE_SUFFIXES) if d.entrance else ""
            self.full.setdefault((b, e, n), []).append(d)
            self.no_entrance.setdefault((b, n), []).append(d)

    def find(self, building: str, entrance: str, number: str) -> list[Dwelling]:
        b = _fold_place(building, _BUILDING_SUFFIXES)
        n = _fold_place(number, _NUMBER_SUFFIXES)
        if entrance.strip():
            return self.full.get((b, _fold_place(entrance, _ENTRANCE_SUFFIXES), n), [])
        return self.no_entrance.get((b, n), [])


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clean:
    name: str
    national_id: str
    phone: str
    residency: str
    relation: str
    notes: str


class _Reject(Exception):
    def __init__(self, reason: str | Promise) -> None:
        super().__init__(str(reason))
        self.reason = reason


def _clean_row(values: dict[str, str], numeric: set[str]) -> _Clean:
    """The row's values cleaned and validated, or _Reject with the first problem found."""
    name = clean_name(values.get("name", ""))
    if not name:
        raise _Reject(_("The name is empty."))
    nid = normalise_national_id(values.get("national_id", ""), from_number="national_id" in numeric)
    if not nid.ok:
        raise _Reject(nid.reason or _("This is not a valid national ID number."))
    phone = normalise_phone(values.get("phone", ""), from_number="phone" in numeric)
    if not phone.ok:
        raise _Reject(phone.reason or _("The phone number is not valid."))
    residency = ""
    raw_res = clean_text(values.get("residency", "")).replace(" ", "")
    if raw_res:
        residency = _RESIDENCIES.get(raw_res, "")
        if not residency:
            raise _Reject(
                format_lazy(
                    _("{value}: the residency category should be 户籍, 常住, 流动 or 租户."),
                    value=raw_res,
                )
            )
    raw_rel = clean_text(values.get("relation", "")).replace(" ", "")
    relation = _RELATIONS.get(raw_rel, Relation.OTHER) if raw_rel else ""
    notes = clean_text(values.get("notes", ""))
    if phone.extra:
        # A second number in the phone cell is kept where the worker will see it.
        extra = "、".join(phone.extra)
        notes = f"{notes} {extra}".strip() if notes else extra
    return _Clean(
        name=name,
        national_id=nid.value.number if nid.value else "",
        phone=phone.value or "",
        residency=residency,
        relation=relation,
        notes=notes,
    )


def _active_household(dwelling: Dwelling) -> Household | None:
    return (
        Household.objects.filter(dwelling=dwelling, status=HouseholdStatus.ACTIVE)
        .order_by("id")
        .first()
    )


def _within(area: Area, grid: Area) -> bool:
    return grid.path.startswith(area.path)


class _Run:
    """One pass over the rows inside the import's transaction."""

    def __init__(self, *, actor: Any, area: Area, mapping: Mapping, source: str) -> None:
        self.actor = actor
        self.area = area
        self.mapping = mapping
        self.source = source
        self.places = _Places(area)
        self.counts = _zero_counts()
        self.rejected: list[Rejection] = []
        #: The row being worked on, named in the failure of an unexpected refusal.
        self.row = 0

    def run(self, table: Table, progress: Callable[[int, int], None] | None = None) -> None:
        self.counts["read"] = total = len(table.rows)
        columns = self.mapping.fields
        step = max(1, (total + 99) // 100)  # report at most every 1%
        for done, row in enumerate(table.rows):
            if progress is not None and done % step == 0:
                progress(done, total)
            self.row = row.number
            values = self.mapping.extract(row.cells)
            numeric = {f for f, i in columns.items() if i in row.numeric}
            try:
                outcome = self._row(values, numeric)
            except _Reject as rej:
                self.rejected.append(Rejection(row.number, row.cells, rej.reason))
                self.counts["rejected"] += 1
                continue
            self.counts[outcome] += 1
        if progress is not None:
            progress(total, total)

    def _dwelling(self, values: dict[str, str]) -> Dwelling:
        building = clean_text(values.get("building", ""))
        entrance = clean_text(values.get("entrance", ""))
        number = clean_text(values.get("dwelling_number", ""))
        if not building or not number:
            raise _Reject(_("The building or the dwelling number is empty."))
        found = self.places.find(building, entrance, number)
        place = " ".join(p for p in (building, entrance, number) if p)
        if not found:
            raise _Reject(
                format_lazy(
                    _(
                        "No dwelling {place} was found in {area}. This import does not create "
                        "buildings or dwellings yet: add the dwelling to the register first, "
                        "then import the row again."
                    ),
                    place=place,
                    area=self.area.name,
                )
            )
        if len(found) > 1:
            raise _Reject(
                format_lazy(
                    _("Several dwellings in {area} match {place}; add the estate or entrance."),
                    place=place,
                    area=self.area.name,
                )
            )
        return found[0]

    def _row(self, values: dict[str, str], numeric: set[str]) -> str:
        clean = _clean_row(values, numeric)
        dwelling = self._dwelling(values)
        person = self._match(clean, dwelling)
        if person is not None:
            return self._update(person, clean, dwelling)
        return self._create(clean, dwelling)

    def _match(self, clean: _Clean, dwelling: Dwelling) -> Person | None:
        """The person the row is about: exact on national ID; without an ID in the row, a
        living person of exactly that name in the dwelling's household (so a re-import of an
        edited file does not register them twice). Fuzzy matching is a later slice."""
        if clean.national_id:
            bidx = pii.national_id_index(clean.national_id)
            return Person.objects.filter(id_bidx=bidx).select_related("grid", "household").first()
        household = _active_household(dwelling)
        if household is None:
            return None
        return (
            Person.objects.filter(household=household, name=clean.name, status=PersonStatus.LIVING)
            .select_related("grid", "household")
            .order_by("id")
            .first()
        )

    def _update(self, person: Person, clean: _Clean, dwelling: Dwelling) -> str:
        if not _within(self.area, person.grid):
            raise _Reject(
                _(
                    "This national ID is already registered in another jurisdiction; ask the "
                    "community office to transfer the person."
                )
            )
        if person.status != PersonStatus.LIVING:
            raise _Reject(
                format_lazy(
                    _("This person is recorded as {status}; correct that in the register."),
                    status=person.get_status_display(),
                )
            )
        if person.household is None or person.household.dwelling_id != dwelling.pk:
            raise _Reject(
                _(
                    "This person is registered at another dwelling; record the move in the "
                    "register (this import does not move people)."
                )
            )
        data: dict[str, Any] = {"name": clean.name}
        for f in ("phone", "residency", "notes"):
            if getattr(clean, f):
                data[f] = getattr(clean, f)
        changed = reg.person_update(actor=self.actor, person=person, data=data, source=self.source)
        return "updated" if changed else "unchanged"

    def _create(self, clean: _Clean, dwelling: Dwelling) -> str:
        household = _active_household(dwelling)
        if household is None:
            household = reg.household_create(actor=self.actor, dwelling=dwelling)
        relation = clean.relation or Relation.OTHER
        if household.householder_id is None and not household.members.exists():
            relation = Relation.SELF
        elif relation == Relation.SELF and household.householder_id is not None:
            raise _Reject(_("This household already has a householder."))
        reg.person_create(
            actor=self.actor,
            name=clean.name,
            national_id=clean.national_id,
            phone=clean.phone,
            residency=clean.residency or Residency.REGISTERED,
            household=household,
            relation=relation,
            notes=clean.notes,
            source=self.source,
        )
        return "created"


# --- the error file -------------------------------------------------------------------------


def escape_cell(value: str) -> str:
    """A cell safe to open in Excel: text that would start a formula gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_error_file(path: Path, headers: Sequence[str], rejected: Sequence[Rejection]) -> None:
    """The rejected rows as CSV (UTF-8 with BOM, which Excel needs to read Chinese): the
    original cells and a 原因 column, in the deployment's language."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = len(headers)
    with (
        translation.override(settings.LANGUAGE_CODE),
        path.open("w", encoding="utf-8-sig", newline="") as fh,
    ):
        writer = csv.writer(fh)
        writer.writerow([escape_cell(h) for h in headers] + [REASON_HEADER])
        for rej in rejected:
            cells = list(rej.cells[:width]) + [""] * (width - len(rej.cells))
            writer.writerow([escape_cell(c) for c in cells] + [escape_cell(str(rej.reason))])


# --- the service ----------------------------------------------------------------------------


def _check_area(actor: Any, area: Area) -> None:
    if area.kind not in (AreaKind.COMMUNITY, AreaKind.GRID):
        raise ValidationError({"area": _("Import into a community or a grid.")})
    if actor is not None and not scope_for(actor, Perm.CHANGE_REGISTER).covers(area):
        raise PermissionDenied(_("You may not change records outside your jurisdiction."))


def _check_mapping(mapping: Mapping) -> None:
    have = mapping.fields
    missing = [f for f in ("name", "building", "dwelling_number") if f not in have]
    if missing:
        raise IntakeError(
            "mapping_incomplete",
            _(
                "The file needs a name column (姓名), a building column (楼栋) and a dwelling "
                "number column (房号); check the header row or the mapping."
            ),
        )


def people_import(
    *,
    actor: Any,
    path: str | Path,
    area: Area,
    mapping: Mapping | None = None,
    dry_run: bool = False,
    source: str = "import",
    batch: ImportBatch | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a people roster into *area* (a community or a grid).

    Raises PermissionDenied when the actor may not change the register of the area (nothing
    is written) and IntakeError when the file cannot be read or has no usable columns.
    A given *mapping* (a saved profile) is applied to the file's headers by header text.
    Re-importing a file already committed to the area does nothing and says so
    (`already_committed`). A service refusing a row unexpectedly rolls the whole import back
    and the batch is recorded as failed, with the reason.
    A given *batch* (a workbench upload, see intake.jobs) is filled in instead of a new one;
    *progress* is called with (rows done, rows total) at most every ~1% of the rows.
    """
    _check_area(actor, area)
    path = Path(path)
    table = read_table(path, filename=path.name)
    # Hashed after reading, so a file the reader refuses (too large, a bomb) is never hashed.
    with path.open("rb") as fh:
        sha = hashlib.file_digest(fh, "sha256").hexdigest()
    mapping = (
        mapping.rebind(table.headers) if mapping is not None else suggest_mapping(table.headers)
    )
    _check_mapping(mapping)
    created_by = actor if getattr(actor, "is_authenticated", False) else None
    batch = batch or ImportBatch(
        source=source[:64],
        file_name=path.name[:255],
        file_sha256=sha,
        kind=ImportKind.PEOPLE,
        area=area,
        created_by=created_by,
    )
    previous = (
        ImportBatch.objects.filter(
            area=area, kind=ImportKind.PEOPLE, file_sha256=sha, status=ImportStatus.COMMITTED
        )
        .order_by("-committed_at")
        .first()
    )
    if previous is not None:
        return ImportResult(
            batch=previous,
            table=table,
            mapping=mapping,
            counts=_zero_counts(len(table.rows)) | {"unchanged": len(table.rows)},
            dry_run=dry_run,
            already_committed=previous,
        )
    run = _Run(actor=actor, area=area, mapping=mapping, source=source)
    try:
        with transaction.atomic():
            run.run(table, progress)
            if dry_run:
                raise _Rollback
            batch.status = ImportStatus.COMMITTED
            batch.committed_at = timezone.now()
            batch.counts = run.counts
            batch.save()
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=batch,
                area=area,
                object_label=batch.file_name,
                changes={"counts": run.counts, "source": source},
            )
    except _Rollback:
        batch.status = ImportStatus.PREVIEWED
        batch.counts = run.counts
        batch.save()
    except (ValidationError, PermissionDenied, DatabaseError) as exc:
        batch.status = ImportStatus.FAILED
        batch.counts = run.counts
        batch.failure = _failure_text(exc, run.row)
        batch.save()
        return ImportResult(
            batch=batch, table=table, mapping=mapping, counts=run.counts, dry_run=dry_run
        )
    error_file = None
    if run.rejected:
        error_file = Path(settings.VAR_DIR) / "intake" / f"{batch.pk}.csv"
        write_error_file(error_file, table.headers, run.rejected)
        batch.error_file = str(error_file)
        batch.save(update_fields=["error_file"])
    return ImportResult(
        batch=batch,
        table=table,
        mapping=mapping,
        counts=run.counts,
        rejected=run.rejected,
        error_file=error_file,
        dry_run=dry_run,
    )


def _failure_text(exc: Exception, row: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        detail = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return str(
            format_lazy(
                _("Row {row}: {detail} Nothing was imported."),
                row=row,
                detail=detail or exc.__class__.__name__,
            )
        )
