"""Writes of the linkage app: merging persons (and undoing it), deciding merge candidates,
concern categories, matching received lists and following up the flags they raise.

Every service checks the actor's permission on the grids it touches (``actor=None`` is the
system: commands and background tasks), locks and re-reads the rows it changes, writes an
audit entry and a timeline event. Candidates and flags move only along the transitions in
``CANDIDATE_TRANSITIONS`` and ``FLAG_TRANSITIONS``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import gc
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.intake.errors import IntakeError
from linli.linkage import listmatch, trust
from linli.linkage.models import (
    CandidateEvent,
    CandidateStatus,
    ConcernCategory,
    ConcernFlag,
    EntryResult,
    FieldGroup,
    FlagEvent,
    FlagStatus,
    MergeCandidate,
    PersonMerge,
    WatchList,
)
from linli.register.models import (
    EventKind,
    Household,
    Membership,
    Person,
    PersonStatus,
    PersonTag,
    RegisterEvent,
)

# --- permissions -----------------------------------------------------------------------------


def _require(actor: Any, perm: Perm, *areas: Area | None) -> None:
    if actor is None:
        return
    scope = scope_for(actor, perm)
    if any(a is None or not scope.covers(a) for a in areas):
        raise PermissionDenied(_("You may not change records outside your jurisdiction."))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _timeline(*, kind: str, person: Person, summary: str, actor: Any, data: dict[str, Any]) -> None:
    RegisterEvent.objects.create(
        kind=kind,
        grid=person.grid,
        summary=summary[:300],
        actor=_user(actor),
        occurred_on=timezone.localdate(),
        person=person,
        data=data,
    )


# --- merging persons -------------------------------------------------------------------------

#: Person columns saved before a merge and restored by an undo.
_COLUMNS = (
    "name",
    "name_pinyin",
    "name_initials",
    "id_sealed",
    "id_bidx",
    "id_masked",
    "id_tail",
    "birth_date",
    "sex",
    "phone_sealed",
    "phone_bidx",
    "phone_masked",
    "phone_tail",
    "residency",
    "status",
    "household_id",
    "relation",
    "grid_id",
    "notes",
    "hukou_address",
    "current_address",
    "provenance",
    "merged_into_id",
)
#: Free-text addresses: the kept record takes the absorbed one's where it has none.
_FILLED_COLUMNS = ("hukou_address", "current_address")
_BINARY = frozenset({"id_sealed", "phone_sealed"})

#: Columns each field group carries from one record to the other.
_GROUP_COLUMNS: dict[str, tuple[str, ...]] = {
    FieldGroup.NAME: ("name", "name_pinyin", "name_initials"),
    FieldGroup.IDENTITY: (
        "id_sealed",
        "id_bidx",
        "id_masked",
        "id_tail",
        "birth_date",
        "sex",
    ),
    FieldGroup.CONTACT: ("phone_sealed", "phone_bidx", "phone_masked", "phone_tail"),
    FieldGroup.RESIDENCY: ("residency",),
    FieldGroup.NOTES: ("notes",),
}


def _dump(person: Person, columns: Iterable[str] = _COLUMNS) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in columns:
        value = getattr(person, col)
        if col in _BINARY:
            value = base64.b64encode(bytes(value)).decode() if value is not None else None
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, dict):
            value = copy.deepcopy(value)
        out[col] = value
    return out


def _load(person: Person, data: dict[str, Any]) -> None:
    # A snapshot taken before a column existed restores the columns it holds.
    for col in (c for c in _COLUMNS if c in data):
        value = data[col]
        if col in _BINARY:
            value = base64.b64decode(value) if value is not None else None
        elif col == "birth_date" and value is not None:
            value = dt.date.fromisoformat(value)
        setattr(person, col, value)


def _fingerprint(*persons: Person, columns: Iterable[str] = _COLUMNS) -> str:
    columns = tuple(columns)
    blob = json.dumps([_dump(p, columns) for p in persons], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _locked_pair(a: Person, b: Person) -> tuple[Person, Person]:
    """Both persons re-read and locked, always in id order (no deadlock between two merges)."""
    rows = {
        p.pk: p
        for p in Person.objects.select_for_update(of=("self",))
        .select_related("grid")
        .filter(pk__in=sorted([a.pk, b.pk]))
        .order_by("pk")
    }
    return rows[a.pk], rows[b.pk]


def _shared_language() -> Any:
    """Timeline summaries are a shared record: written in the deployment's language."""
    return translation.override(settings.LANGUAGE_CODE)


@transaction.atomic
def person_merge(
    *,
    actor: Any,
    keep: Person,
    absorb: Person,
    reason: str,
    choices: dict[str, str] | None = None,
) -> PersonMerge:
    """Fold *absorb* into *keep*: memberships, tags, events and flags move to the kept record,
    conflicting fields follow the trust rules (or *choices*, group → "keep"/"absorb", for what
    they leave undecided; undecided and unchosen keeps the kept record's value). The absorbed
    record is kept with status "merged" and ``merged_into``; ``person_unmerge`` undoes it all.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these records are the same person.")})
    if keep.pk == absorb.pk:
        raise ValidationError(_("A record cannot be merged with itself."))
    keep, absorb = _locked_pair(keep, absorb)
    _require(actor, Perm.REVIEW_DUPLICATES, keep.grid, absorb.grid)
    if PersonStatus.MERGED in (keep.status, absorb.status):
        raise ValidationError(_("One of these records was already merged into another."))
    choices = choices or {}
    decisions: dict[str, dict[str, Any]] = {}
    for d in trust.resolve(keep, absorb):
        choice = d.choice
        why = d.why
        if d.group in choices and choices[d.group] in (trust.KEEP, trust.ABSORB):
            if choices[d.group] != choice:
                why = "worker" if d.choice is None else "worker_override"
            choice = choices[d.group]
        elif choice is None:
            choice, why = trust.KEEP, "worker_default"
        decisions[d.group] = {"choice": choice, "why": why}
    snapshot: dict[str, Any] = {"keep": _dump(keep), "absorb": _dump(absorb)}
    today = timezone.localdate()

    # Rows that move from the absorbed record to the kept one (ids remembered for the undo).
    takes_household = keep.household_id is None and absorb.household_id is not None
    memberships = list(Membership.objects.filter(person=absorb).order_by("pk"))
    snapshot["memberships"] = [
        [m.pk, m.ended_on and m.ended_on.isoformat(), m.end_reason] for m in memberships
    ]
    for m in memberships:
        m.person = keep
        if m.ended_on is None and not (takes_household and m.household_id == absorb.household_id):
            # The duplicate's residence ends with the merge; the kept record's stays.
            m.ended_on, m.end_reason = today, "merged"
        m.save(update_fields=["person", "ended_on", "end_reason"])
    keep_tags = set(PersonTag.objects.filter(person=keep).values_list("tag_id", flat=True))
    moved_tags = list(
        PersonTag.objects.filter(person=absorb)
        .exclude(tag_id__in=keep_tags)
        .values_list("pk", flat=True)
    )
    PersonTag.objects.filter(pk__in=moved_tags).update(person=keep)
    snapshot["tags"] = moved_tags
    moved_events = list(RegisterEvent.objects.filter(person=absorb).values_list("pk", flat=True))
    RegisterEvent.objects.filter(pk__in=moved_events).update(person=keep)
    snapshot["events"] = moved_events
    moved_flags = list(ConcernFlag.objects.filter(person=absorb).values_list("pk", flat=True))
    ConcernFlag.objects.filter(pk__in=moved_flags).update(person=keep)
    snapshot["flags"] = moved_flags
    householder_of = (
        list(Household.objects.filter(householder=absorb).values_list("pk", flat=True))
        if takes_household
        else []
    )
    Household.objects.filter(pk__in=householder_of).update(householder=keep)
    snapshot["householder_of"] = householder_of

    # Field values, group by group. Sealed ID and phone swap places, so an ID present only on
    # the absorbed record moves (Person.id_bidx is unique) and nothing is lost.
    keep_old = _dump(keep)
    absorb_old = _dump(absorb)
    for group, decided in decisions.items():
        key = trust.PROVENANCE_KEY[group]
        if group == FieldGroup.NOTES and decided["why"] == "joined":
            keep.notes = f"{keep.notes.strip()}\n{absorb.notes.strip()}"
            continue
        if decided["choice"] != trust.ABSORB:
            continue
        for col in _GROUP_COLUMNS[group]:
            setattr(keep, col, getattr(absorb, col))
        if group in (FieldGroup.IDENTITY, FieldGroup.CONTACT):
            swap = Person()
            _load(swap, keep_old)
            for col in _GROUP_COLUMNS[group]:
                setattr(absorb, col, getattr(swap, col))
        if absorb_old["provenance"].get(key):
            keep.provenance[key] = absorb_old["provenance"][key]
    for col in _FILLED_COLUMNS:
        if not getattr(keep, col) and getattr(absorb, col):
            setattr(keep, col, getattr(absorb, col))
    if takes_household:
        keep.household_id, keep.relation, keep.grid_id = (
            absorb.household_id,
            absorb.relation,
            absorb.grid_id,
        )
        if keep.status != PersonStatus.LIVING and absorb.status == PersonStatus.LIVING:
            keep.status = PersonStatus.LIVING
    absorb.status = PersonStatus.MERGED
    absorb.merged_into = keep
    absorb.household = None
    absorb.relation = ""
    # The absorbed ID first: the kept record may be about to take it (unique index).
    absorb_id = (absorb.id_sealed, absorb.id_bidx, absorb.id_masked, absorb.id_tail)
    Person.objects.filter(pk=absorb.pk).update(id_bidx=None)
    keep.save()
    absorb.id_sealed, absorb.id_bidx, absorb.id_masked, absorb.id_tail = absorb_id
    absorb.save()
    keep.refresh_from_db()
    absorb.refresh_from_db()

    merge = PersonMerge.objects.create(
        keep=keep,
        absorb=absorb,
        grid=keep.grid,
        reason=reason[:200],
        decisions=decisions,
        snapshot=snapshot,
        after=_fingerprint(keep, absorb),
        actor=_user(actor),
    )
    data = {"merge": merge.pk, "keep": keep.pk, "absorb": absorb.pk}
    with _shared_language():
        keep_summary = _("Merged with the duplicate record %(name)s (%(id)s): %(reason)s") % {
            "name": absorb.name,
            "id": absorb.pk,
            "reason": reason,
        }
        absorb_summary = _("Merged into record %(name)s (%(id)s): %(reason)s") % {
            "name": keep.name,
            "id": keep.pk,
            "reason": reason,
        }
    _timeline(kind=EventKind.MERGED, person=keep, actor=actor, data=data, summary=keep_summary)
    _timeline(kind=EventKind.MERGED, person=absorb, actor=actor, data=data, summary=absorb_summary)
    changes = {
        "event": "merge",
        "keep": keep.pk,
        "absorb": absorb.pk,
        "decisions": decisions,
        "national_id": {"keep": keep_old["id_masked"], "absorb": absorb_old["id_masked"]},
    }
    audit_record(actor=actor, action=AuditAction.CHANGE, obj=keep, reason=reason, changes=changes)
    audit_record(actor=actor, action=AuditAction.CHANGE, obj=absorb, reason=reason, changes=changes)
    return merge


@transaction.atomic
def person_unmerge(*, actor: Any, merge: PersonMerge) -> PersonMerge:
    """Undo a merge exactly: both records, memberships, tags, events and flags as they were.

    Refused when either record changed after the merge (an undo would silently throw that
    change away); such a pair is separated by hand.
    """
    merge = PersonMerge.objects.select_for_update(of=("self",)).get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError(_("This merge was already undone."))
    keep, absorb = _locked_pair(merge.keep, merge.absorb)
    _require(actor, Perm.REVIEW_DUPLICATES, keep.grid, absorb.grid)
    snap = merge.snapshot
    # Merges made before a column was added were fingerprinted without it.
    columns = [c for c in _COLUMNS if c in snap["keep"]]
    if _fingerprint(keep, absorb, columns=columns) != merge.after:
        raise ValidationError(
            _(
                "One of the records was changed after the merge, so it cannot be undone "
                "automatically; correct the records by hand."
            )
        )
    Person.objects.filter(pk=keep.pk).update(id_bidx=None)
    _load(absorb, snap["absorb"])
    absorb.save()
    _load(keep, snap["keep"])
    keep.save()
    for pk, ended_on, end_reason in snap["memberships"]:
        Membership.objects.filter(pk=pk).update(
            person=absorb,
            ended_on=dt.date.fromisoformat(ended_on) if ended_on else None,
            end_reason=end_reason,
        )
    PersonTag.objects.filter(pk__in=snap["tags"]).update(person=absorb)
    RegisterEvent.objects.filter(pk__in=snap["events"]).update(person=absorb)
    ConcernFlag.objects.filter(pk__in=snap["flags"]).update(person=absorb)
    Household.objects.filter(pk__in=snap["householder_of"]).update(householder=absorb)
    merge.undone_at = timezone.now()
    merge.undone_by = _user(actor)
    merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
    keep.refresh_from_db()
    absorb.refresh_from_db()
    data = {"merge": merge.pk, "keep": keep.pk, "absorb": absorb.pk}
    for person, other in ((keep, absorb), (absorb, keep)):
        with _shared_language():
            summary = _("Merge with record %(name)s (%(id)s) undone") % {
                "name": other.name,
                "id": other.pk,
            }
        _timeline(kind=EventKind.UNMERGED, person=person, actor=actor, data=data, summary=summary)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=person,
            changes={"event": "unmerge", "merge": merge.pk},
        )
    return merge


# --- the review queue ------------------------------------------------------------------------

#: (status, action) → new status. Anything else is refused.
CANDIDATE_TRANSITIONS: dict[tuple[str, str], str] = {
    (CandidateStatus.OPEN, "merge"): CandidateStatus.MERGED,
    (CandidateStatus.OPEN, "keep_apart"): CandidateStatus.KEPT_APART,
    (CandidateStatus.MERGED, "undo"): CandidateStatus.OPEN,
    (CandidateStatus.KEPT_APART, "undo"): CandidateStatus.OPEN,
}


def _candidate_move(candidate: MergeCandidate, action: str) -> str:
    target = CANDIDATE_TRANSITIONS.get((candidate.status, action))
    if target is None:
        raise ValidationError(
            _("This pair cannot be %(action)s now: it is %(status)s.")
            % {"action": _candidate_action_label(action), "status": candidate.get_status_display()}
        )
    return target


def _candidate_action_label(action: str) -> str:
    return {"merge": _("merged"), "keep_apart": _("kept apart"), "undo": _("undone")}.get(
        action, action
    )


def _locked_candidate(actor: Any, candidate: MergeCandidate) -> MergeCandidate:
    candidate = (
        MergeCandidate.objects.select_for_update(of=("self",))
        .select_related("left__grid", "right__grid", "left_grid", "right_grid")
        .get(pk=candidate.pk)
    )
    _require(actor, Perm.REVIEW_DUPLICATES, candidate.left_grid, candidate.right_grid)
    return candidate


def _candidate_done(
    *, actor: Any, candidate: MergeCandidate, action: str, status: str, audit: dict[str, Any]
) -> MergeCandidate:
    candidate.status = status
    if status == CandidateStatus.OPEN:
        candidate.decided_by, candidate.decided_at = None, None
    else:
        candidate.decided_by, candidate.decided_at = _user(actor), timezone.now()
    candidate.save()
    CandidateEvent.objects.create(candidate=candidate, kind=action, actor=_user(actor))
    audit_record(
        actor=actor,
        action=AuditAction.REVIEW,
        obj=candidate,
        area=candidate.left_grid,
        object_label=f"{candidate.left.name} / {candidate.right.name}",
        changes={"action": action, **audit},
    )
    return candidate


@transaction.atomic
def candidate_merge(
    *,
    actor: Any,
    candidate: MergeCandidate,
    keep_left: bool = True,
    choices: dict[str, str] | None = None,
    reason: str = "",
) -> MergeCandidate:
    """Merge the pair (the left record is kept unless *keep_left* is false)."""
    candidate = _locked_candidate(actor, candidate)
    status = _candidate_move(candidate, "merge")
    keep, absorb = (
        (candidate.left, candidate.right) if keep_left else (candidate.right, candidate.left)
    )
    with _shared_language():
        default_reason = _("Confirmed duplicate in the review queue")
    merge = person_merge(
        actor=actor, keep=keep, absorb=absorb, reason=reason or default_reason, choices=choices
    )
    candidate.merge = merge
    return _candidate_done(
        actor=actor, candidate=candidate, action="merge", status=status, audit={"merge": merge.pk}
    )


@transaction.atomic
def candidate_keep_apart(*, actor: Any, candidate: MergeCandidate) -> MergeCandidate:
    """The two records are different people; the pair is not proposed again."""
    candidate = _locked_candidate(actor, candidate)
    status = _candidate_move(candidate, "keep_apart")
    return _candidate_done(
        actor=actor, candidate=candidate, action="keep_apart", status=status, audit={}
    )


@transaction.atomic
def candidate_undo(*, actor: Any, candidate: MergeCandidate) -> MergeCandidate:
    """Take back a decision: a merge is undone exactly, a pair kept apart is open again."""
    candidate = _locked_candidate(actor, candidate)
    status = _candidate_move(candidate, "undo")
    audit: dict[str, Any] = {}
    if candidate.status == CandidateStatus.MERGED and candidate.merge is not None:
        person_unmerge(actor=actor, merge=candidate.merge)
        audit["merge"] = candidate.merge_id
        candidate.merge = None
    return _candidate_done(
        actor=actor, candidate=candidate, action="undo", status=status, audit=audit
    )


# --- finding candidates ----------------------------------------------------------------------


def _register_records(persons: Any) -> list[Any]:
    """LinkRecords of register persons (the register side knows blind indexes and tails)."""
    from linli.linkage.engine import LinkRecord

    rows = persons.values_list(
        "pk",
        "name",
        "id_bidx",
        "id_tail",
        "phone_bidx",
        "phone_tail",
        "birth_date",
        "sex",
        "household__dwelling__address",
    )
    return [
        LinkRecord(
            key=str(pk),
            name=name,
            id_bidx=id_bidx or "",
            id_tail=id_tail,
            phone_bidx=phone_bidx,
            phone_tail=phone_tail,
            birth_date=birth_date,
            sex=sex,
            address=address or "",
        )
        for pk, name, id_bidx, id_tail, phone_bidx, phone_tail, birth_date, sex, address in rows
    ]


def candidates_find(*, actor: Any, area: Area) -> dict[str, int]:
    """Run the engine's dedupe over the living persons of *area* and queue the pairs it finds.

    A pair already queued — open, merged or kept apart — is not queued again, so running this
    twice changes nothing. Returns {persons, pairs, new}.
    """
    from linli.linkage import engine

    _require(actor, Perm.REVIEW_DUPLICATES, area)
    persons = Person.objects.filter(
        grid__path__startswith=area.path, status=PersonStatus.LIVING
    ).order_by("pk")
    records = _register_records(persons)
    links = engine.dedupe(records)
    grids = dict(persons.values_list("pk", "grid_id"))
    known = set(MergeCandidate.objects.values_list("left_id", "right_id"))
    new = []
    for lk in links:
        a, b = sorted((int(lk.left), int(lk.right)))
        if (a, b) in known:
            continue
        known.add((a, b))
        new.append(
            MergeCandidate(
                left_id=a,
                right_id=b,
                left_grid_id=grids[a],
                right_grid_id=grids[b],
                score=round(lk.score, 4),
                level=lk.level,
                reasons=list(lk.reasons),
            )
        )
    with transaction.atomic():
        created = MergeCandidate.objects.bulk_create(new, batch_size=1000)
        CandidateEvent.objects.bulk_create(
            [CandidateEvent(candidate=c, kind="found") for c in created], batch_size=1000
        )
        counts = {"persons": len(records), "pairs": len(links), "new": len(created)}
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            area=area,
            object_label=_("Possible duplicates"),
            changes=counts,
        )
    return counts


# --- flags and their follow-up ---------------------------------------------------------------

#: (status, action) → new status. Anything else is refused.
FLAG_TRANSITIONS: dict[tuple[str, str], str] = {
    (FlagStatus.OPEN, "follow_up"): FlagStatus.FOLLOWED_UP,
    (FlagStatus.OPEN, "close"): FlagStatus.CLOSED,
    (FlagStatus.FOLLOWED_UP, "close"): FlagStatus.CLOSED,
    (FlagStatus.FOLLOWED_UP, "reopen"): FlagStatus.OPEN,
    (FlagStatus.CLOSED, "reopen"): FlagStatus.OPEN,
}


@transaction.atomic
def flag_transition(*, actor: Any, flag: ConcernFlag, action: str, note: str = "") -> ConcernFlag:
    """Move a flag along FLAG_TRANSITIONS ("follow_up" needs a note: what was done)."""
    flag = (
        ConcernFlag.objects.select_for_update(of=("self",))
        .select_related("grid", "person")
        .get(pk=flag.pk)
    )
    _require(actor, Perm.FOLLOW_UP_FLAGS, flag.grid)
    note = (note or "").strip()
    target = FLAG_TRANSITIONS.get((flag.status, action))
    if target is None:
        raise ValidationError(
            _("This flag cannot change that way: it is %(status)s.")
            % {"status": flag.get_status_display()}
        )
    if action == "follow_up" and not note:
        raise ValidationError({"note": _("Write what was done (visited, phoned, …).")})
    flag.status = target
    if action == "follow_up":
        flag.note = note[:2000]
        flag.followed_up_by, flag.followed_up_at = _user(actor), timezone.now()
    flag.save()
    FlagEvent.objects.create(flag=flag, kind=action, note=note[:2000], actor=_user(actor))
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=flag,
        area=flag.grid,
        object_label=flag.person.name,
        changes={"action": action, "status": target},
    )
    return flag


# --- concern categories ----------------------------------------------------------------------


def _require_manage_concerns(actor: Any) -> None:
    # One set for the deployment (like tags): any MANAGE_CONCERNS grant allows editing it.
    if actor is not None and scope_for(actor, Perm.MANAGE_CONCERNS).is_empty:
        raise PermissionDenied(_("You may not manage concern categories."))


@transaction.atomic
def category_save(
    *,
    actor: Any,
    category: ConcernCategory | None = None,
    code: str = "",
    name: str,
    description: str = "",
    is_active: bool = True,
    sort_key: int = 0,
) -> ConcernCategory:
    """Create a concern category (with *code*) or change one (its code stays: lists and
    reports refer to it)."""

    _require_manage_concerns(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter the category's name.")})
    if category is None:
        code = code.strip().lower()
        if not re.match(r"^[a-z0-9_-]{1,32}$", code):
            raise ValidationError({"code": _("Use lower-case letters, digits, - and _ only.")})
        if ConcernCategory.objects.filter(code=code).exists():
            raise ValidationError({"code": _("A category with this code already exists.")})
        category = ConcernCategory(code=code)
        action = AuditAction.CREATE
    else:
        category = ConcernCategory.objects.select_for_update().get(pk=category.pk)
        action = AuditAction.CHANGE
    category.name = name
    category.description = description.strip()[:200]
    category.is_active = is_active
    category.sort_key = sort_key
    category.save()
    audit_record(
        actor=actor,
        action=action,
        obj=category,
        changes={"code": category.code, "name": name, "is_active": is_active},
    )
    return category


# --- matching a received list ----------------------------------------------------------------

#: Headers of the "where from" and "when" columns of city lists (folded like intake's).
_ORIGIN_HEADERS = (
    "来源地",
    "来自",
    "来源地区",
    "出发地",
    "途经地",
    "从何地来",
    "来返地",
    "旅居地",
    "风险地区",
    "来源",
)
_WHEN_HEADERS = (
    "抵达时间",
    "到达时间",
    "抵达日期",
    "到达日期",
    "返回时间",
    "返回日期",
    "来返时间",
    "来返日期",
    "入境时间",
    "入境日期",
    "时间",
    "日期",
)


@dataclass
class MatchResult:
    """What matching a list did (or, for a repeat of the same file, had done)."""

    watch_list: WatchList
    counts: dict[str, int]
    report_file: Path | None
    repeated: bool = False


def _list_columns(headers: list[str]) -> dict[str, int]:
    from linli.intake.mapping import fold_header, suggest_mapping

    fields = {
        f: i
        for f, i in suggest_mapping(headers).fields.items()
        if f in ("name", "national_id", "phone")
    }
    folded = [fold_header(h) for h in headers]
    for field_name, words in (("origin", _ORIGIN_HEADERS), ("arrived", _WHEN_HEADERS)):
        for word in words:
            hit = next((i for i, h in enumerate(folded) if word in h), None)
            if hit is not None and hit not in fields.values():
                fields[field_name] = hit
                break
    return fields


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small, acyclic objects (rows,
    cells, index strings) are made: each full collection walks all of them, which makes a
    million-row list cost quadratic time. Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_list_area(actor: Any, area: Area) -> None:
    _require(actor, Perm.MATCH_LISTS, area)


def watch_list_match(
    *,
    actor: Any,
    path: str | Path,
    list_name: str,
    area: Area,
    category: ConcernCategory | None = None,
    progress: listmatch.Progress | None = None,
) -> MatchResult:
    """Match a received list (ID, name, phone, where from, when) against the living persons
    of *area*.

    Exact pass: the blind index of each valid ID is looked up among the area's persons
    (an ID of a merged record counts for the record it was merged into). The rest go through
    the engine against the register persons that share a blocking value with them (birth
    date, ID tail, phone, name). Each hit (exact or probable) gets a flag of *category*
    assigned to the person's grid; rows not found are listed in a report file. Matching the
    same file under the same name into the same area again changes nothing. The rows are
    streamed in batches (linkage.listmatch); *progress* hears (rows done, rows expected).
    """

    _check_list_area(actor, area)
    list_name = list_name.strip()[:100]
    if not list_name:
        raise ValidationError({"list_name": _("Give the list a name.")})
    with _gc_paused():
        return _watch_list_match(
            actor=actor,
            path=Path(path),
            list_name=list_name,
            area=area,
            category=category,
            progress=progress,
        )


def _watch_list_match(
    *,
    actor: Any,
    path: Path,
    list_name: str,
    area: Area,
    category: ConcernCategory | None,
    progress: listmatch.Progress | None,
) -> MatchResult:
    from linli.intake.stream import open_records

    with path.open("rb") as fh:
        sha = hashlib.file_digest(fh, "sha256").hexdigest()
    previous = WatchList.objects.filter(area=area, name=list_name, file_sha256=sha).first()
    if previous is not None:
        report = Path(previous.report_file) if previous.report_file else None
        return MatchResult(previous, dict(previous.counts), report, repeated=True)
    with open_records(path, filename=path.name) as stream:
        headers = stream.table.headers
        columns = _list_columns(headers)
        if "name" not in columns or not ({"national_id", "phone"} & columns.keys()):
            raise IntakeError(
                "list_columns",
                _(
                    "The list needs a name column (姓名) and an ID (身份证号) or phone (联系电话) "
                    "column; check the header row."
                ),
            )
        # One transaction: a list that fails half-way (a bad row far down the file) leaves
        # nothing behind, and matching it again starts afresh.
        with transaction.atomic():
            watch_list = WatchList.objects.create(
                name=list_name,
                area=area,
                category=category,
                file_name=path.name[:255],
                file_sha256=sha,
                counts={},
                created_by=_user(actor),
            )
            sink = listmatch.EntrySink()
            try:
                outcome = listmatch.match_records(
                    records=stream.records,
                    columns=columns,
                    area=area,
                    watch_list_id=watch_list.pk,
                    sink=sink,
                    estimated=stream.estimated_rows,
                    progress=progress,
                )
            finally:
                sink.restore_cache()
            counts = outcome.counts
            watch_list.counts = counts
            watch_list.save(update_fields=["counts", "updated_at"])
            if category is not None:
                _raise_flags(watch_list, category, actor)
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                obj=watch_list,
                area=area,
                changes={"counts": counts, "category": category.code if category else ""},
            )
    report_file = None
    if outcome.missing:
        report_file = Path(settings.VAR_DIR) / "linkage" / f"list-{watch_list.pk}-not-found.csv"
        _write_report(report_file, headers, outcome.missing)
        WatchList.objects.filter(pk=watch_list.pk).update(report_file=str(report_file))
        watch_list.report_file = str(report_file)
    return MatchResult(watch_list, counts, report_file)


def _fuzzy(rows: list[listmatch.ListRow], persons: Any) -> None:
    """The engine, against the register persons sharing a birth date, ID tail, phone or name
    with one of the rows (fetched in chunks; never the whole register)."""
    from django.db.models import Q

    from linli.core.crypto import blind_index
    from linli.linkage import engine
    from linli.linkage.keys import id_birth_date

    births, tails, phones, names = set(), set(), set(), set()
    for r in rows:
        if r.id_number:
            b = id_birth_date(r.id_number)
            if b is not None:
                births.add(b)
            tails.add(r.id_number[-4:])
        if r.phone:
            phones.add(blind_index("phone", r.phone))
        if r.name:
            names.add(r.name)
    pks: set[int] = set()
    for field_name, values in (
        ("birth_date", births),
        ("id_tail", tails),
        ("phone_bidx", phones),
        ("name", names),
    ):
        ordered = sorted(values, key=str)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            pks.update(
                persons.filter(Q(**{f"{field_name}__in": chunk})).values_list("pk", flat=True)
            )
    if not pks:
        return
    register = []
    ordered_pks = sorted(pks)
    for i in range(0, len(ordered_pks), 900):
        register += _register_records(Person.objects.filter(pk__in=ordered_pks[i : i + 900]))
    left = [
        engine.LinkRecord(key=str(r.row), name=r.name, id_number=r.id_number, phone=r.phone)
        for r in rows
    ]
    links = engine.link(
        left,
        register,
        blind_index=lambda v: blind_index("national_id", v),
        phone_blind_index=lambda v: blind_index("phone", v),
    )
    best: dict[str, Any] = {}
    for lk in links:
        if lk.left not in best or lk.score > best[lk.left].score:
            best[lk.left] = lk
    for r in rows:
        hit = best.get(str(r.row))
        if hit is not None:
            r.result, r.person_id, r.score, r.reasons = (
                EntryResult.PROBABLE,
                int(hit.right),
                round(hit.score, 4),
                tuple(hit.reasons),
            )


def _raise_flags(watch_list: WatchList, category: ConcernCategory, actor: Any) -> None:
    """A flag of *category* for each person the list found (exact or probable), once each."""
    from linli.linkage.models import WatchListEntry

    hits = {
        e.row: e
        for e in WatchListEntry.objects.filter(
            watch_list=watch_list, result__in=(EntryResult.EXACT, EntryResult.PROBABLE)
        )
    }
    grids = dict(
        Person.objects.filter(pk__in={e.person_id for e in hits.values()}).values_list(
            "pk", "grid_id"
        )
    )
    seen: set[int] = set()
    flags = []
    with _shared_language():
        for entry in hits.values():
            if entry.person_id is None or entry.person_id in seen:
                continue
            seen.add(entry.person_id)
            where = "，".join(x for x in (entry.origin, entry.arrived) if x)
            if entry.result == EntryResult.EXACT:
                reason = _("On the list %(list)s (row %(row)d)") % {
                    "list": watch_list.name,
                    "row": entry.row,
                }
            else:
                reason = _("Probably on the list %(list)s (row %(row)d): check who it is") % {
                    "list": watch_list.name,
                    "row": entry.row,
                }
            flags.append(
                ConcernFlag(
                    person_id=entry.person_id,
                    category=category,
                    reason=(f"{reason}；{where}" if where else reason)[:300],
                    watch_list=watch_list,
                    entry=entry,
                    grid_id=grids[entry.person_id],
                )
            )
    created = ConcernFlag.objects.bulk_create(flags, batch_size=2000)
    FlagEvent.objects.bulk_create(
        [FlagEvent(flag=f, kind="raised", actor=_user(actor)) for f in created], batch_size=2000
    )


#: Header of the result column added to the not-found report.
RESULT_HEADER = "结果"


def _write_report(path: Path, headers: list[str], rows: list[listmatch.ListRow]) -> None:
    """Rows not found in the register (and unreadable ones) as CSV for Excel (UTF-8 with BOM):
    the original cells plus a 结果 column, every cell escaped against formula injection."""
    import csv

    from linli.core.spreadsheet import escape_cell

    path.parent.mkdir(parents=True, exist_ok=True)
    width = len(headers)
    with _shared_language(), path.open("w", encoding="utf-8-sig", newline="") as fh:
        labels: dict[str, str] = {
            EntryResult.NOT_FOUND: _("Not in the register"),
            EntryResult.REJECTED: _("Unreadable row: no name, ID or phone"),
        }
        writer = csv.writer(fh)
        writer.writerow([escape_cell(h) for h in headers] + [RESULT_HEADER])
        for r in rows:
            cells = list(r.cells[:width]) + [""] * (width - len(r.cells))
            writer.writerow([escape_cell(c) for c in cells] + [escape_cell(str(labels[r.result]))])
