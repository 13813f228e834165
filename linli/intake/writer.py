"""The write path of a people import: rows in batches, looked up and written in bulk.

`people_import` (services) opens the file as a stream of rows and hands them to a `Writer`
inside its one transaction. The writer takes `BATCH_ROWS` rows at a time and, for each batch:

1. cleans and validates every row (`clean_row`); a bad row is rejected with a reason and
   nothing of it is written;
2. finds each row's dwelling (`Places`), creating the building, entrance and dwelling the file
   names when the register does not have them yet (buildings and entrances through the
   register's services, one at a time since they are few; dwellings in bulk);
3. looks up the batch's people in bulk: by national-ID blind index, and, for rows without an
   ID, by name among the living members of the dwelling's household;
4. queues new households, persons, memberships, tags and timeline events as tuples (written
   with COPY; on PostgreSQL by a thread, while the next batch is cleaned: decision 0045) and
   writes changed persons with bulk_update, stamping per-field provenance (source, file, row,
   time);
5. moves a person whom the file places in another dwelling of the area through
   `register.services.person_move_house` (one at a time: moves are few and the service keeps
   the household, membership and timeline rules in one place);
6. appends one audit entry for the batch naming every row it created, changed or moved
   (decision 0021), through `audit_record`, so the hash chain stays one chain.

A row that repeats a national ID (or a name in the same dwelling) of an earlier row of the
same file is rejected, wherever the batch boundary falls.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Model
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core import crypto
from linli.core.identity import (
    NationalId,
    mask_national_id,
    mask_phone,
    national_id_region_known,
)
from linli.core.identity import national_id_check_digit as _check17
from linli.intake.bulk import Inserts, RawJSON
from linli.intake.mapping import Mapping
from linli.intake.normalise import (
    Checked,
    ParsedDate,
    clean_name,
    clean_text,
    normalise_national_id,
    normalise_phone,
    normalise_sex,
    parse_date,
)
from linli.intake.readers import Row
from linli.register import services as reg
from linli.register.models import (
    Building,
    Dwelling,
    Entrance,
    Estate,
    EventKind,
    Household,
    HouseholdStatus,
    Membership,
    Person,
    PersonStatus,
    PersonTag,
    RegisterEvent,
    Relation,
    Residency,
    Tag,
)
from linli.register.naming import pinyin_forms
from linli.register.selectors import merge_survivors

#: Rows cleaned, looked up and written together.
BATCH_ROWS = 2000
#: Longest 户籍地址 / 现居住地址 the register keeps (Person.hukou_address, current_address).
ADDRESS_MAX = 200
#: A new person's fields that carry provenance when the row gives them, in the order of the
#: flags a provenance template is keyed by (name and residency always carry it).
PROVENANCE_OPTIONAL = (
    "national_id",
    "phone",
    "notes",
    "relation",
    "sex",
    "birth_date",
    "hukou_address",
    "current_address",
)

Progress = Callable[[int, int], None]

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

# Words of 人员类别 → Residency. Other words of that cell must be tag names.
_RESIDENCIES: dict[str, str] = {}
for _res, _words in (
    (Residency.REGISTERED, "户籍 户籍人口 户籍人员 本地 常住户籍"),
    (Residency.LONG_TERM, "常住 长期居住 常住人口 寄住 人户分离"),
    (Residency.FLOATING, "流动 流动人口 外来 外来人口 暂住"),
    (Residency.TENANT, "租户 租住 租房 出租屋 租赁"),
):
    for _w in _words.split():
        _RESIDENCIES[_w] = _res

_CATEGORY_SPLIT = str.maketrans({c: " " for c in "、,，;；/|+＋"})
_CN_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")}


class Reject(Exception):
    """A row that cannot be imported, with the reason shown to the worker."""

    def __init__(self, reason: str | Promise) -> None:
        super().__init__(str(reason))
        self.reason = reason


# --- cleaning a row --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clean:
    """A row's values, cleaned and validated."""

    name: str
    national_id: NationalId | None
    phone: str
    residency: str
    relation: str
    notes: str
    sex: str
    birth_date: dt.date | None
    tags: tuple[Tag, ...]
    hukou_address: str = ""
    current_address: str = ""


def _categories(raw: str, tags: dict[str, Tag]) -> tuple[str, tuple[Tag, ...]]:
    """The residency and the tags named in a 人员类别 cell ("流动、独居老人")."""
    residency = ""
    found: list[Tag] = []
    unknown: list[str] = []
    for word in clean_text(raw).translate(_CATEGORY_SPLIT).split():
        if word in _RESIDENCIES:
            residency = _RESIDENCIES[word]
        elif word in tags:
            if tags[word] not in found:
                found.append(tags[word])
        else:
            unknown.append(word)
    if unknown:
        raise Reject(
            format_lazy(
                _(
                    "{value}: not a category we know. Write 户籍, 常住, 流动 or 租户, or the "
                    "name of a tag of the register."
                ),
                value="、".join(unknown),
            )
        )
    return residency, tuple(found)


# Fast paths for the shapes nearly every cell of a roster has. Each gives exactly what the
# full cleaner gives for that shape (tests/intake/test_fast_clean.py compares them); anything
# else, and every problem, goes through the full cleaner, which words the reason.
_PLAIN_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_PLAIN_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_PLAIN_SEX = {"男": "M", "女": "F"}


def _plain_national_id(raw: str) -> NationalId | None:
    """An 18-character ID already in its clean form (ASCII digits, a final digit or X) that
    `normalise_national_id` would accept, or None to let it decide."""
    if len(raw) != 18 or not _PLAIN_ID_RE.fullmatch(raw) or raw[17] != _check17(raw[:17]):
        return None
    try:
        birth = dt.date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        return None
    if birth > dt.date.today() or not national_id_region_known(raw[:6]):
        return None
    return NationalId(number=raw, birth_date=birth, sex="M" if int(raw[16]) % 2 == 1 else "F")


@functools.lru_cache(maxsize=65536)
def _clean_name(value: str) -> str:
    return clean_name(value)


@functools.lru_cache(maxsize=65536)
def _parse_date(value: str, from_number: bool) -> Checked[ParsedDate]:
    return parse_date(value, from_number=from_number)


def _clean_text(value: str) -> str:
    return clean_text(value) if value else ""


@functools.lru_cache(maxsize=65536)
def _clean_place(value: str) -> str:
    """clean_text of a building, entrance, number or grid cell (few distinct values)."""
    return clean_text(value)


def clean_row(
    values: dict[str, str],
    numeric: set[str],
    tags: dict[str, Tag],
    *,
    today: dt.date | None = None,
    memo: dict[str, tuple[str, tuple[Tag, ...]]] | None = None,
) -> Clean:
    """The row's values cleaned and validated, or Reject with the first problem found.

    *today* (the import's date) saves asking the clock per row; *memo* keeps the meaning of
    人员类别 cells already seen (it depends on *tags*: one memo per set of tags)."""
    name = _clean_name(values.get("name", ""))
    if not name:
        raise Reject(_("The name is empty."))
    if len(name) > 64:
        raise Reject(_("The name is longer than 64 characters."))
    raw_id = values.get("national_id", "")
    nid_value = None
    if raw_id and "national_id" not in numeric:
        nid_value = _plain_national_id(raw_id)
    if nid_value is None and raw_id:
        nid = normalise_national_id(raw_id, from_number="national_id" in numeric)
        if not nid.ok:
            raise Reject(nid.reason or _("This is not a valid national ID number."))
        nid_value = nid.value
    raw_phone = values.get("phone", "")
    phone_extra: tuple[str, ...] = ()
    if not raw_phone:
        phone_value = ""
    elif _PLAIN_MOBILE_RE.fullmatch(raw_phone):
        phone_value = raw_phone
    else:
        phone = normalise_phone(raw_phone, from_number="phone" in numeric)
        if not phone.ok:
            raise Reject(phone.reason or _("The phone number is not valid."))
        phone_value = phone.value or ""
        phone_extra = phone.extra
    raw_sex = values.get("sex", "")
    sex_value = _PLAIN_SEX.get(raw_sex)
    if sex_value is None and raw_sex:
        sex = normalise_sex(raw_sex)
        if not sex.ok:
            raise Reject(sex.reason or _("Write 男 or 女."))
        sex_value = sex.value
    raw_birth = values.get("birth_date", "")
    birth_value = None
    if raw_birth:
        birth = _parse_date(raw_birth, "birth_date" in numeric)
        if not birth.ok:
            raise Reject(birth.reason or _("The birth date is not a date."))
        birth_value = birth.value
    birth_date = birth_value.date if birth_value else None
    if nid_value is not None:
        if sex_value and sex_value != nid_value.sex:
            raise Reject(_("The sex in the file does not match the national ID."))
        if birth_value and (
            birth_value.date != nid_value.birth_date
            if birth_value.precision == "day"
            else birth_value.date != nid_value.birth_date.replace(day=1)
        ):
            raise Reject(_("The birth date in the file does not match the national ID."))
        birth_date = nid_value.birth_date
    if birth_date is not None and birth_date > (today or timezone.localdate()):
        raise Reject(_("The birth date is in the future."))
    raw_category = values.get("residency", "")
    if memo is not None and raw_category in memo:
        residency, tags_found = memo[raw_category]
    else:
        residency, tags_found = _categories(raw_category, tags)
        if memo is not None:
            memo[raw_category] = (residency, tags_found)
    raw_rel = _clean_text(values.get("relation", "")).replace(" ", "")
    relation = _RELATIONS.get(raw_rel, Relation.OTHER) if raw_rel else ""
    notes = _clean_text(values.get("notes", ""))
    hukou_address = _clean_text(values.get("hukou_address", ""))
    current_address = _clean_text(values.get("current_address", ""))
    if len(hukou_address) > ADDRESS_MAX or len(current_address) > ADDRESS_MAX:
        raise Reject(_("An address is longer than 200 characters."))
    if phone_extra:
        # A second number in the phone cell is kept where the worker will see it.
        extra = "、".join(phone_extra)
        notes = f"{notes} {extra}".strip() if notes else extra
    return Clean(
        name=name,
        national_id=nid_value,
        phone=phone_value,
        residency=residency,
        relation=relation,
        notes=notes,
        sex=nid_value.sex if nid_value else (sex_value or ""),
        birth_date=birth_date,
        tags=tags_found,
        hukou_address=hukou_address,
        current_address=current_address,
    )


# --- places ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def fold_place(value: str, suffixes: tuple[str, ...]) -> str:
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


BUILDING_SUFFIXES = ("号楼", "栋楼", "幢楼", "号", "栋", "幢", "楼", "座")
ENTRANCE_SUFFIXES = ("单元", "门", "梯")
NUMBER_SUFFIXES = ("室", "号", "房")


def floor_of(number: str) -> int:
    """The floor a dwelling number tells: 302 → 3, 1201 → 12; 1 when it tells none."""
    folded = fold_place(number, NUMBER_SUFFIXES)
    if folded.isdigit() and len(folded) >= 3:
        return max(int(folded[:-2]), 1)
    return 1


@dataclass(slots=True)
class Place:
    """A dwelling as the import needs it (model instances cost too much by the hundred
    thousand): its id, building, grid and address."""

    pk: int
    building: Building
    grid_id: int
    address: str


class Places:
    """The buildings, entrances and dwellings of an area, indexed by folded names, and the
    ones this import creates (queued in *inserts*)."""

    def __init__(self, *, area: Area, actor: Any, inserts: Inserts) -> None:
        self.area = area
        self.actor = actor
        self.inserts = inserts
        self.grids = list(Area.objects.subtree_ids([area.path]).filter(kind=AreaKind.GRID))
        grid_ids = [g.pk for g in self.grids]
        self.grid_names: dict[str, Area] = {}
        for g in self.grids:
            self.grid_names.setdefault(clean_text(g.code).upper(), g)
            self.grid_names.setdefault(clean_text(g.name), g)
        self.buildings: dict[str, list[Building]] = {}
        for b in Building.objects.filter(grid_id__in=grid_ids).select_related("estate", "grid"):
            self.buildings.setdefault(fold_place(b.name, BUILDING_SUFFIXES), []).append(b)
        self.entrances: dict[tuple[int, str], Entrance] = {}
        for e in Entrance.objects.filter(building__grid_id__in=grid_ids):
            self.entrances[(e.building_id, fold_place(e.name, ENTRANCE_SUFFIXES))] = e
        self.full: dict[tuple[str, str, str], list[Place]] = {}
        self.no_entrance: dict[tuple[str, str], list[Place]] = {}
        by_id = {b.pk: b for bs in self.buildings.values() for b in bs}
        entrance_names = {e.pk: k[1] for k, e in self.entrances.items()}
        for pk, building_id, entrance_id, grid_id, number, address in Dwelling.objects.filter(
            grid_id__in=grid_ids
        ).values_list("id", "building_id", "entrance_id", "grid_id", "number", "address"):
            self._index(
                Place(pk, by_id[building_id], grid_id, address),
                number,
                entrance_names.get(entrance_id, "") if entrance_id else "",
            )
        #: Buildings created by this import: their floor count grows with the rows.
        self.created_buildings: set[int] = set()
        self.grown: dict[int, Building] = {}
        self.created_dwellings: list[int] = []
        self._estates: dict[int, Estate | None] = {}

    def _index(self, d: Place, number: str, entrance_key: str) -> None:
        b = fold_place(d.building.name, BUILDING_SUFFIXES)
        n = fold_place(number, NUMBER_SUFFIXES)
        self.full.setdefault((b, entrance_key, n), []).append(d)
        self.no_entrance.setdefault((b, n), []).append(d)

    def resolve(self, building: str, entrance: str, number: str, grid_text: str) -> Place:
        """The dwelling a row names, found or created (queued in the inserts)."""
        if not building or not number:
            raise Reject(_("The building or the dwelling number is empty."))
        place = " ".join(p for p in (building, entrance, number) if p)
        if len(building) > 50 or len(entrance) > 50 or len(number) > 20:
            raise Reject(format_lazy(_("{place}: a part of the address is too long."), place=place))
        b = fold_place(building, BUILDING_SUFFIXES)
        e = fold_place(entrance, ENTRANCE_SUFFIXES) if entrance else ""
        n = fold_place(number, NUMBER_SUFFIXES)
        found = self.full.get((b, e, n), []) if e else self.no_entrance.get((b, n), [])
        grid = self._grid(grid_text) if grid_text else None
        if grid is not None:
            found = [d for d in found if d.grid_id == grid.pk]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Reject(
                format_lazy(
                    _("Several dwellings in {area} match {place}; add the estate or entrance."),
                    place=place,
                    area=self.area.name,
                )
            )
        bld = self._building(building, b, grid, place)
        ent = self._entrance(bld, entrance, e) if e else None
        floor = floor_of(number)
        if floor > bld.floors:
            if bld.pk not in self.created_buildings:
                raise Reject(
                    format_lazy(
                        _(
                            "{place}: the dwelling number says floor {floor}, but {building} "
                            "has {floors} floors in the register."
                        ),
                        place=place,
                        floor=floor,
                        building=bld.name,
                        floors=bld.floors,
                    )
                )
            bld.floors = floor  # saved once per batch (save_floors): rows come floor by floor
            self.grown[bld.pk] = bld
        number = clean_text(number)
        address = reg.dwelling_address(bld, ent, number)[:200]
        pk = self.inserts.add(
            Dwelling,
            building_id=bld.pk,
            entrance_id=ent.pk if ent else None,
            grid_id=bld.grid_id,
            floor=floor,
            number=number,
            address=address,
        )
        dwelling = Place(pk, bld, bld.grid_id, address)
        self._index(dwelling, number, e)
        self.created_dwellings.append(pk)
        return dwelling

    def save_floors(self) -> None:
        """Write the floor counts that buildings created by this import grew to."""
        for bld in self.grown.values():
            Building.objects.filter(pk=bld.pk).update(floors=bld.floors, updated_at=timezone.now())
        self.grown = {}

    def _grid(self, text: str) -> Area:
        key = clean_text(text)
        grid = self.grid_names.get(key) or self.grid_names.get(key.upper())
        if grid is None:
            raise Reject(
                format_lazy(
                    _("{grid}: there is no such grid in {area}."), grid=key, area=self.area.name
                )
            )
        return grid

    def _building(self, text: str, folded: str, grid: Area | None, place: str) -> Building:
        candidates = self.buildings.get(folded, [])
        if grid is not None:
            candidates = [c for c in candidates if c.grid_id == grid.pk]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise Reject(
                format_lazy(
                    _("Several buildings in {area} are called {building}; add a grid column."),
                    area=self.area.name,
                    building=clean_text(text),
                )
            )
        if grid is None and self.area.kind == AreaKind.GRID:
            grid = self.area
        if grid is None:
            raise Reject(
                format_lazy(
                    _(
                        "{place}: the building is not in the register of {area}. To add it, "
                        "give the grid in a 网格 column, or import into the grid."
                    ),
                    place=place,
                    area=self.area.name,
                )
            )
        estate = self._estate(grid)
        if estate is None:
            raise Reject(
                format_lazy(
                    _(
                        "{place}: the building is not in the register and {grid} has no single "
                        "estate to add it to; add the building in the register first."
                    ),
                    place=place,
                    grid=grid.name,
                )
            )
        if any(
            fold_place(name, BUILDING_SUFFIXES) == folded
            for name in Building.objects.filter(estate=estate).values_list("name", flat=True)
        ):
            # The estate has it, in a grid outside this import's area: never a second one.
            raise Reject(
                format_lazy(
                    _("{place}: this building of {estate} lies outside {area}."),
                    place=place,
                    estate=estate.name,
                    area=self.area.name,
                )
            )
        bld = reg.building_create(
            actor=self.actor, estate=estate, grid=grid, name=clean_text(text), floors=6
        )
        self.buildings.setdefault(folded, []).append(bld)
        self.created_buildings.add(bld.pk)
        return bld

    def _estate(self, grid: Area) -> Estate | None:
        """Where a new building of *grid* goes: the one estate of the grid's buildings, or
        else the one estate of its community."""
        if grid.pk not in self._estates:
            ids = set(Building.objects.filter(grid=grid).values_list("estate_id", flat=True))
            if len(ids) != 1:
                ids = set(
                    Estate.objects.filter(community_id=grid.parent_id).values_list("id", flat=True)
                )
            self._estates[grid.pk] = Estate.objects.get(pk=ids.pop()) if len(ids) == 1 else None
        return self._estates[grid.pk]

    def _entrance(self, bld: Building, text: str, folded: str) -> Entrance:
        ent = self.entrances.get((bld.pk, folded))
        if ent is None:
            ent = reg.entrance_create(actor=self.actor, building=bld, name=clean_text(text))
            self.entrances[(bld.pk, folded)] = ent
        return ent


# --- the writer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A row that was not written: its number in the file, its cells and why (translatable)."""

    row: int
    cells: tuple[str, ...]
    reason: str | Promise


@dataclass(slots=True)
class Home:
    """A household as the import needs it: new ones are queued, not instantiated."""

    pk: int
    dwelling: Place
    householder_id: int | None
    new: bool


@dataclass
class _Item:
    row: Row
    clean: Clean
    dwelling: Place
    bidx: str | None
    person: Person | None = None
    household: Home | None = None
    relation: str = ""


@dataclass
class _Batch:
    """What one batch wrote, for its audit entry."""

    first: int
    last: int
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    households: list[int] = field(default_factory=list)


_PERSON_COLUMNS = (
    "id",
    "name",
    "residency",
    "household_id",
    "relation",
    "grid_id",
    "notes",
    "sex",
    "birth_date",
    "status",
    "hukou_address",
    "current_address",
    "name_pinyin",
    "name_initials",
    "id_sealed",
    "id_bidx",
    "id_masked",
    "id_tail",
    "phone_sealed",
    "phone_bidx",
    "phone_masked",
    "phone_tail",
    "provenance",
)
#: What `_match` filters and joins on, per table the import writes in volume: the columns
#: analysed when a table doubled (decision 0047).
_LOOKUP_COLUMNS: dict[type[Model], tuple[str, ...]] = {
    Dwelling: ("id",),
    Household: ("id", "dwelling", "status"),
    Person: ("id", "id_bidx", "household", "status"),
}

_EVENT_COLUMNS = (
    "id",
    "kind",
    "occurred_on",
    "person_id",
    "household_id",
    "dwelling_id",
    "grid_id",
    "summary",
    "data",
    "actor_id",
)


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _bidx_key(bidx: str) -> int:
    return int(bidx, 16)


class Writer:
    """Writes the rows of one import, batch by batch, inside the caller's transaction."""

    def __init__(
        self,
        *,
        actor: Any,
        area: Area,
        mapping: Mapping,
        source: str,
        file_name: str,
        progress: Progress | None = None,
        batch_rows: int | None = None,
    ) -> None:
        self.actor = actor
        self.area = area
        self.mapping = mapping
        self.source = source
        self.file_name = file_name
        self.progress = progress
        self.batch_rows = batch_rows or BATCH_ROWS
        self.inserts = Inserts([Dwelling, Household, Person, Membership, PersonTag, RegisterEvent])
        self.places = Places(area=area, actor=actor, inserts=self.inserts)
        self.tags: dict[str, Tag] = {}
        for tag in Tag.objects.filter(is_active=True):
            self.tags[tag.name] = tag
            self.tags.setdefault(tag.code, tag)
        self.counts = {"read": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        self.rejected: list[Rejection] = []
        #: First and last row of the batch being written, named when a write fails.
        self.rows_at = (0, 0)
        self._seen_ids: set[int] = set()
        self._seen_names: set[tuple[int, str]] = set()
        self._seen_persons: set[int] = set()
        self._by = getattr(actor, "pk", None)
        self._user = actor if getattr(actor, "is_authenticated", False) else None
        self._columns = mapping.fields
        self._today = timezone.localdate()
        self._now = timezone.now()
        self._stamp_at = self._now.isoformat(timespec="seconds")
        self._opened: set[int] = set()
        #: People of other jurisdictions whose ID a row named (audited by the caller, after the
        #: transaction, so a dry run leaves the trace too).
        self.refused: list[Person] = []
        self._pending_households: list[Home] = []
        #: (rows read, tables) of each in-transaction ANALYZE (`_analyze`).
        self.analysed: list[tuple[int, list[str]]] = []
        self._moved_into = self._registered_at = ""
        #: 人员类别 cells already read (see clean_row).
        self._categories: dict[str, tuple[str, tuple[Tag, ...]]] = {}
        self._id_index = crypto.blind_indexer("national_id")
        self._phone_index = crypto.blind_indexer("phone")
        self._seal = crypto.sealer()
        # Rows of the shapes written per roster row, in the order `_create` gives them.
        self._add_person = self.inserts.builder(Person, _PERSON_COLUMNS)
        self._add_membership = self.inserts.builder(
            Membership, ("id", "person_id", "household_id", "relation", "started_on")
        )
        self._add_household = self.inserts.builder(
            Household, ("id", "dwelling_id", "grid_id", "householder_id", "status")
        )
        self._add_event = self.inserts.builder(RegisterEvent, _EVENT_COLUMNS)
        self._provenance: dict[tuple[bool, ...], list[str]] = {}
        # {"import": FILE, "row": N}, split where N goes.
        self._row_data = [f'{{"import": {_encode(file_name)}, "row": ', "}"]

    # -- driving ---------------------------------------------------------------------------

    def run(self, rows: Iterator[Row], estimated: int = 0) -> None:
        """Write *rows* batch by batch. `progress` (when given) hears (0, estimated) first,
        then (rows taken in, estimated) at most every ~1% of *estimated* — a row counts once
        it has joined the batch being written, so the bar leads the writes by at most one
        batch — and (rows read, rows read) at the end. Without an estimate only the first and
        last reports are made."""
        step = max(1, -(-estimated // 100))  # 1% of the expected rows, rounded up
        if self.progress is not None:
            self.progress(0, estimated)
        with translation.override(settings.LANGUAGE_CODE):
            # The timeline is a shared record, written in the deployment's language.
            self._moved_into = gettext("Moved into %(address)s")
            self._registered_at = gettext("Household registered at %(address)s")
            try:
                self._run(rows, estimated, step)
            except BaseException:
                # Never leave the transaction while a batch is still being written; the error
                # raised here is the one to report.
                self.inserts.wait(raise_errors=False)
                raise
            self.inserts.wait()
        if self.progress is not None:
            self.progress(self.counts["read"], self.counts["read"])

    def _run(self, rows: Iterator[Row], estimated: int, step: int) -> None:
        reported = 0
        batch: list[Row] = []
        for taken, row in enumerate(rows, start=1):
            batch.append(row)
            if self.progress is not None and taken - reported >= step and taken < estimated:
                self.progress(taken, estimated)
                reported = taken
            if len(batch) >= self.batch_rows:
                self.write_batch(batch)
                batch = []
        if batch:
            self.write_batch(batch)

    def _reject(self, row: Row, reason: str | Promise) -> None:
        self.rejected.append(Rejection(row.number, row.cells, reason))
        self.counts["rejected"] += 1

    # -- one batch -------------------------------------------------------------------------

    def write_batch(self, rows: Sequence[Row]) -> None:
        self.counts["read"] += len(rows)
        previous, self.rows_at = self.rows_at, (rows[0].number, rows[-1].number)
        try:
            items = self._prepare(rows)  # while the previous batch is being written
            self.places.save_floors()
        except DatabaseError:
            self._written(previous)  # a failed write of the previous batch is the cause
            raise
        self._written(previous)
        self.inserts.flush()  # this batch's new dwellings, before looking up their households
        self._analyze()
        self._match(items)
        done = _Batch(first=rows[0].number, last=rows[-1].number)
        creates, updates, moves = self._classify(items)
        self._create(creates, done)
        self._update(updates, done)
        self._open_households([i.household for i in moves], done)
        self._queue_households()
        self._opened.clear()  # new households of this batch are in the table after the flush
        if moves:
            # The register's move service reads the new households: write them first.
            self.inserts.flush()
            self._move(moves, done)
        if done.created or done.updated or done.moved or done.households:
            self._audit(done)
        # Written (and their references checked) while the next batch is read and cleaned.
        self.inserts.flush(check=True, background=True)

    def _analyze(self) -> None:
        """Give the planner statistics of the rows this import wrote so far, once a table
        doubled (decision 0047); the batch lookups of a large import keep their index plans."""
        analysed = self.inserts.analyze_grown(_LOOKUP_COLUMNS)
        if analysed:
            self.analysed.append((self.counts["read"], analysed))

    def _written(self, rows_at: tuple[int, int]) -> None:
        """Wait for the previous batch's rows to be written; when that failed, the failure
        names that batch's rows."""
        try:
            self.inserts.wait()
        except DatabaseError:
            self.rows_at = rows_at
            raise

    def _prepare(self, rows: Sequence[Row]) -> list[_Item]:
        items: list[_Item] = []
        cols = list(self._columns.items())
        tags, today, memo = self.tags, self._today, self._categories
        resolve = self.places.resolve
        id_index = self._id_index
        for row in rows:
            cells = row.cells
            width = len(cells)
            values = {f: (cells[i] if i < width else "") for f, i in cols}
            numeric = {f for f, i in cols if i in row.numeric} if row.numeric else set()
            try:
                clean = clean_row(values, numeric, tags, today=today, memo=memo)
                dwelling = resolve(
                    _clean_place(values.get("building", "")),
                    _clean_place(values.get("entrance", "")),
                    _clean_place(values.get("dwelling_number", "")),
                    _clean_place(values.get("grid", "")),
                )
            except Reject as rej:
                self._reject(row, rej.reason)
                continue
            bidx = id_index(clean.national_id.number) if clean.national_id else None
            items.append(_Item(row=row, clean=clean, dwelling=dwelling, bidx=bidx))
        return items

    def _match(self, items: list[_Item]) -> None:
        """Find each row's person and the dwelling's living household, in bulk."""
        bidxs = [i.bidx for i in items if i.bidx]
        related = ("grid", "household__dwelling")
        found = list(Person.objects.filter(id_bidx__in=bidxs).select_related(*related))
        # An ID still held by a merged (absorbed) record names the person it was merged into:
        # the row updates the surviving record, never the absorbed one (decision 0040).
        survivors = merge_survivors(found, related=related)
        by_bidx = {p.id_bidx: survivors.get(p.pk, p) for p in found}
        dwelling_ids = {i.dwelling.pk for i in items}
        places = {i.dwelling.pk: i.dwelling for i in items}
        self._households: dict[int, Home] = {}
        for pk, dwelling_id, householder_id in (
            Household.objects.filter(dwelling_id__in=dwelling_ids, status=HouseholdStatus.ACTIVE)
            .order_by("-id")
            .values_list("id", "dwelling_id", "householder_id")
        ):
            # The lowest id wins.
            self._households[dwelling_id] = Home(pk, places[dwelling_id], householder_id, False)
        hh_ids = [hh.pk for hh in self._households.values()]
        self._members: set[int] = set()
        by_name: dict[tuple[int, str], Person] = {}
        for p in (
            Person.objects.filter(household_id__in=hh_ids, status=PersonStatus.LIVING)
            .select_related("grid", "household__dwelling")
            .order_by("-id")
        ):
            assert p.household_id is not None
            self._members.add(p.household_id)
            by_name[(p.household_id, p.name)] = p
        for item in items:
            if item.bidx:
                item.person = by_bidx.get(item.bidx)
            else:
                home = self._households.get(item.dwelling.pk)
                item.person = by_name.get((home.pk, item.clean.name)) if home else None

    def _classify(
        self, items: list[_Item]
    ) -> tuple[list[_Item], list[tuple[_Item, dict[str, Any]]], list[_Item]]:
        creates: list[_Item] = []
        updates: list[tuple[_Item, dict[str, Any]]] = []
        moves: list[_Item] = []
        householder_taken: set[int] = set()  # households given a householder in this batch
        for item in items:
            try:
                self._check_repeat(item)
                person = item.person
                if person is None:
                    item.household, item.relation = self._join(item, householder_taken)
                    creates.append(item)
                    continue
                if person.pk in self._seen_persons:
                    # Two IDs of one merged person (the kept one's and the absorbed one's).
                    raise Reject(
                        _(
                            "This national ID belongs to a record merged into the person of an "
                            "earlier row of the file."
                        )
                    )
                self._seen_persons.add(person.pk)
                self._check_existing(person)
                data = self._changes(person, item.clean)
                moving = person.household is None or person.household.dwelling_id != (
                    item.dwelling.pk
                )
                if moving:
                    item.household, item.relation = self._join(item, householder_taken)
                    moves.append(item)
                if data or moving:
                    updates.append((item, data))
                else:
                    self.counts["unchanged"] += 1
            except Reject as rej:
                self._reject(item.row, rej.reason)
        return creates, updates, moves

    def _check_repeat(self, item: _Item) -> None:
        if item.bidx:
            key = _bidx_key(item.bidx)
            if key in self._seen_ids:
                raise Reject(_("This national ID is on an earlier row of the file."))
            self._seen_ids.add(key)
            return
        name_key = (item.dwelling.pk, item.clean.name)
        if name_key in self._seen_names:
            raise Reject(
                _("A person of this name in this dwelling is on an earlier row of the file.")
            )
        self._seen_names.add(name_key)

    def _check_existing(self, person: Person) -> None:
        if not person.grid.path.startswith(self.area.path):
            self.refused.append(person)
            raise Reject(
                _(
                    "This national ID is already registered in another jurisdiction; ask the "
                    "community office to transfer the person."
                )
            )
        if person.status != PersonStatus.LIVING:
            raise Reject(
                format_lazy(
                    _("This person is recorded as {status}; correct that in the register."),
                    status=person.get_status_display(),
                )
            )

    def _join(self, item: _Item, householder_taken: set[int]) -> tuple[Home, str]:
        """The household a row's person joins in its dwelling (opened when there is none
        living there) and as what: the first person of an empty household heads it."""
        dwelling = item.dwelling
        hh = self._households.get(dwelling.pk)
        if hh is None:
            hh = Home(self.inserts.next_id(Household), dwelling, None, True)
            self._households[dwelling.pk] = hh
        relation = item.clean.relation or Relation.OTHER
        has_head = hh.householder_id is not None or hh.pk in householder_taken
        if not has_head and hh.pk not in self._members:
            relation = Relation.SELF
        elif relation == Relation.SELF and has_head:
            raise Reject(_("This household already has a householder."))
        if relation == Relation.SELF:
            householder_taken.add(hh.pk)
        self._members.add(hh.pk)
        return hh, relation

    def _changes(self, person: Person, clean: Clean) -> dict[str, Any]:
        """The fields the row changes, as field → new value."""
        data: dict[str, Any] = {}
        if clean.name != person.name:
            data["name"] = clean.name
        if clean.phone and crypto.blind_index("phone", clean.phone) != person.phone_bidx:
            data["phone"] = clean.phone
        if clean.residency and clean.residency != person.residency:
            data["residency"] = clean.residency
        if clean.notes and clean.notes != person.notes:
            data["notes"] = clean.notes
        for f in ("hukou_address", "current_address"):
            if getattr(clean, f) and getattr(clean, f) != getattr(person, f):
                data[f] = getattr(clean, f)
        if clean.sex and not person.sex:
            data["sex"] = clean.sex
        if clean.birth_date and not person.birth_date:
            data["birth_date"] = clean.birth_date
        if clean.tags:
            data["tags"] = clean.tags  # compared with the person's tags in _update
        return data

    def _stamps(self, fields: Iterable[str], row: int) -> dict[str, dict[str, Any]]:
        """Provenance of *fields*: which source, which file, which row, when, by whom."""
        stamp = {
            "source": self.source,
            "file": self.file_name,
            "row": row,
            "confirmed_at": self._stamp_at,
            "by": self._by,
        }
        return {f: dict(stamp) for f in fields}

    def _event(self, **values: Any) -> None:
        values["summary"] = str(values["summary"])[:300]
        actor_id = self._by if self._user else None
        self.inserts.add(RegisterEvent, actor_id=actor_id, occurred_on=self._today, **values)

    # -- creating --------------------------------------------------------------------------

    def _create(self, items: list[_Item], done: _Batch) -> None:
        self._open_households([i.household for i in items], done)
        heads: list[tuple[int, int]] = []
        add_person, add_membership = self._add_person, self._add_membership
        add_event = self._add_event
        next_person, next_membership = self._next_ids(Person), self._next_ids(Membership)
        seal, phone_index = self._seal, self._phone_index
        today, source = self._today, self.source
        actor_id = self._by if self._user else None
        moved_into = self._moved_into
        for item in items:
            c = item.clean
            hh = item.household
            assert hh is not None
            dwelling = item.dwelling
            nid = c.national_id
            relation = item.relation
            row = str(item.row.number)
            pk = next_person()
            pinyin, initials = pinyin_forms(c.name)
            if nid is not None:
                number = nid.number
                id_values: tuple[Any, ...] = (
                    seal(number),
                    item.bidx,
                    mask_national_id(number),
                    number[-4:],
                )
            else:
                id_values = (None, None, "", "")
            phone = c.phone
            if phone:
                phone_values: tuple[Any, ...] = (
                    seal(phone),
                    phone_index(phone),
                    mask_phone(phone),
                    phone[-4:],
                )
            else:
                phone_values = (None, "", "", "")
            # Which fields the row gave, in the order of PROVENANCE_OPTIONAL: their provenance.
            given = (
                nid is not None,
                bool(phone),
                bool(c.notes),
                bool(relation),
                bool(c.sex),
                c.birth_date is not None,
                bool(c.hukou_address),
                bool(c.current_address),
            )
            add_person(
                (
                    pk,
                    c.name,
                    c.residency or Residency.REGISTERED,
                    hh.pk,
                    relation,
                    dwelling.grid_id,
                    c.notes,
                    c.sex,
                    c.birth_date,
                    PersonStatus.LIVING,
                    c.hukou_address,
                    c.current_address,
                    pinyin,
                    initials,
                    *id_values,
                    *phone_values,
                    RawJSON(row.join(self._provenance_template(given))),
                )
            )
            if relation == Relation.SELF:
                hh.householder_id = pk
                if not hh.new:
                    heads.append((hh.pk, pk))
            add_membership((next_membership(), pk, hh.pk, relation, today))
            for tag in c.tags:
                self.inserts.add(PersonTag, person_id=pk, tag_id=tag.pk, source=source)
            add_event(
                (
                    self.inserts.next_id(RegisterEvent),
                    EventKind.MOVE_IN,
                    today,
                    pk,
                    hh.pk,
                    dwelling.pk,
                    dwelling.grid_id,
                    (moved_into % {"address": dwelling.address})[:300],
                    RawJSON(row.join(self._row_data)),
                    actor_id,
                )
            )
            if c.tags:
                self._tag_event(pk, dwelling.grid_id, c.tags)
            done.created.append(pk)
        for household_id, person_id in heads:
            # A household already in the register gets its first householder (rare).
            Household.objects.filter(pk=household_id).update(
                householder_id=person_id, updated_at=self._now
            )
        self.counts["created"] += len(items)

    def _next_ids(self, model: type[Model]) -> Callable[[], int]:
        return functools.partial(self.inserts.next_id, model)

    def _provenance_template(self, given: tuple[bool, ...]) -> list[str]:
        """The provenance document of a new person (what `_stamps` gives for the fields the
        row gave), encoded once per combination of fields and split where the row number
        goes: joined by the row number it is the JSON `_stamps` would encode."""
        template = self._provenance.get(given)
        if template is None:
            fields = [
                "name",
                "residency",
                *(f for f, g in zip(PROVENANCE_OPTIONAL, given, strict=True) if g),
            ]
            # {"name": {"source": …, "file": …, "row": N, "confirmed_at": …, "by": …}, …}
            before = f'"source": {_encode(self.source)}, "file": {_encode(self.file_name)}, "row": '
            after = f', "confirmed_at": {_encode(self._stamp_at)}, "by": {_encode(self._by)}}}'
            template = ["{"]
            for f in fields:
                template[-1] += f"{_encode(f)}: {{{before}"
                template.append(f"{after}, ")
            template[-1] = f"{after}}}"
            self._provenance[given] = template
        return template

    def _open_households(self, households: Iterable[Home | None], done: _Batch) -> list[Home]:
        """Queue the households opened by this batch (once each), with their event. Their
        householder is the one set by the rows, so they are queued after the rows were seen."""
        opened: list[Home] = []
        for hh in households:
            if hh is not None and hh.new and hh.pk not in self._opened:
                self._opened.add(hh.pk)
                opened.append(hh)
        self._pending_households.extend(opened)
        done.households.extend(hh.pk for hh in opened)
        return opened

    def _queue_households(self) -> None:
        add_household, add_event = self._add_household, self._add_event
        today = self._today
        actor_id = self._by if self._user else None
        data = RawJSON(json.dumps({"import": self.file_name}, ensure_ascii=False))
        for hh in self._pending_households:
            dwelling = hh.dwelling
            add_household(
                (hh.pk, dwelling.pk, dwelling.grid_id, hh.householder_id, HouseholdStatus.ACTIVE)
            )
            add_event(
                (
                    self.inserts.next_id(RegisterEvent),
                    EventKind.MOVE_IN,
                    today,
                    None,
                    hh.pk,
                    dwelling.pk,
                    dwelling.grid_id,
                    (self._registered_at % {"address": dwelling.address})[:300],
                    data,
                    actor_id,
                )
            )
        self._pending_households = []

    def _tag_event(self, person_id: int, grid_id: int, tags: Sequence[Tag]) -> None:
        self._event(
            kind=EventKind.TAGGED,
            grid_id=grid_id,
            summary=", ".join(t.name for t in tags),
            person_id=person_id,
            data={"import": self.file_name, "source": self.source},
        )

    # -- changing --------------------------------------------------------------------------

    def _update(self, updates: list[tuple[_Item, dict[str, Any]]], done: _Batch) -> None:
        if not updates:
            return
        current: dict[int, set[int]] = {}
        ids = [i.person.pk for i, _d in updates if i.person]
        pairs = PersonTag.objects.filter(person_id__in=ids)
        for person_id, tag_id in pairs.values_list("person_id", "tag_id"):
            current.setdefault(person_id, set()).add(tag_id)
        changed_persons: list[Person] = []
        fields: set[str] = set()
        for item, data in updates:
            p = item.person
            assert p is not None
            added = [t for t in data.pop("tags", ()) if t.pk not in current.get(p.pk, set())]
            shown: dict[str, dict[str, Any]] = {}
            for f, value in data.items():
                if f == "phone":
                    old = p.phone_masked
                    p.phone_sealed = crypto.seal(value)
                    p.phone_bidx = crypto.blind_index("phone", value)
                    p.phone_masked = mask_phone(value)
                    p.phone_tail = value[-4:]
                    shown["phone"] = {"from": old, "to": p.phone_masked}
                    fields.update(("phone_sealed", "phone_bidx", "phone_masked", "phone_tail"))
                    continue
                if f == "notes":
                    shown["notes"] = {"from": "…", "to": "…"}
                else:
                    shown[f] = {"from": getattr(p, f), "to": value}
                setattr(p, f, value)
                fields.add(f)
                if f == "name":
                    p.name_pinyin, p.name_initials = pinyin_forms(value)
                    fields.update(("name_pinyin", "name_initials"))
            if data:
                p.provenance.update(self._stamps(data.keys(), item.row.number))
                p.updated_at = self._now
                changed_persons.append(p)
                self._event(
                    kind=EventKind.CHANGE,
                    grid_id=p.grid_id,
                    summary=reg._change_summary(list(data), self.source),
                    person_id=p.pk,
                    household_id=p.household_id,
                    data={
                        "changes": _jsonable(shown),
                        "source": self.source,
                        "import": self.file_name,
                        "row": item.row.number,
                    },
                )
            for tag in added:
                self.inserts.add(PersonTag, person_id=p.pk, tag_id=tag.pk, source=self.source)
            if added:
                self._tag_event(p.pk, p.grid_id, added)
            moving = item.household is not None
            if data or added or moving:
                self.counts["updated"] += 1
                if data or added:
                    done.updated.append(p.pk)
            else:
                self.counts["unchanged"] += 1
        if changed_persons:
            Person.objects.bulk_update(
                changed_persons, sorted(fields | {"provenance", "updated_at"}), batch_size=500
            )

    # -- moving ----------------------------------------------------------------------------

    def _move(self, items: list[_Item], done: _Batch) -> None:
        """People the file places in another dwelling move there through the register's
        move service: their old span ends, the new one starts, the timeline says so."""
        # Into households that were already there first: a household someone leaves while
        # someone else joins it must not be dissolved in between.
        items = sorted(items, key=lambda i: i.household is None or i.household.new)
        for item in items:
            assert item.person is not None and item.household is not None
            reg.person_move_house(
                actor=self.actor,
                person=item.person,
                to_household=Household.objects.get(pk=item.household.pk),
                relation=item.relation,
            )
            done.moved.append(item.person.pk)

    # -- audit -----------------------------------------------------------------------------

    def _audit(self, done: _Batch) -> None:
        audit_record(
            actor=self.actor,
            action=AuditAction.CREATE,
            area=self.area,
            object_label=f"{self.file_name} {done.first}–{done.last}"[:200],
            changes={
                "import": self.file_name,
                "source": self.source,
                "rows": [done.first, done.last],
                "persons_created": done.created,
                "persons_changed": done.updated,
                "persons_moved": done.moved,
                "households_created": done.households,
                "dwellings_created": self.places.created_dwellings,
            },
        )
        self.places.created_dwellings = []


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
