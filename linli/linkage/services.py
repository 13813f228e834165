"""Writes of the linkage app: merging persons (and undoing it), deciding merge candidates,
concern categories, matching received lists and following up the flags they raise.

Every service checks the actor's permission on the grids it touches (``actor=None`` is the
system: commands and background tasks), locks and re-reads the rows it changes, writes an
audit entry and a timeline event. Candidates and flags move only along the transitions in
``CANDIDATE_TRANSITIONS`` and ``FLAG_TRANSITIONS``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
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
from linli.linkage import trust
from linli.linkage.models import (
    CandidateEvent,
    CandidateStatus,
    ConcernFlag,
    FieldGroup,
    MergeCandidate,
    PersonMerge,
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
    "provenance",
    "merged_into_id",
)
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


def _dump(person: Person) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in _COLUMNS:
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
    for col in _COLUMNS:
        value = data[col]
        if col in _BINARY:
            value = base64.b64decode(value) if value is not None else None
        elif col == "birth_date" and value is not None:
            value = dt.date.fromisoformat(value)
        setattr(person, col, value)


def _fingerprint(*persons: Person) -> str:
    blob = json.dumps([_dump(p) for p in persons], sort_keys=True, default=str)
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
    if _fingerprint(keep, absorb) != merge.after:
        raise ValidationError(
            _(
                "One of the records was changed after the merge, so it cannot be undone "
                "automatically; correct the records by hand."
            )
        )
    snap = merge.snapshot
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
