"""Writes of screening campaigns: create (snapshot the targets), record an attempt, verify,
reveal the phone to the assigned worker.

Every write checks the actor's right on the node of the object, locks the target it changes
and leaves an audit entry; a double tap (the same ``client_key``) records one attempt.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import RoleBinding
from linli.accounts.roles import Perm, Role
from linli.areas.models import Area, AreaKind
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.emergency.models import EmergencyEvent
from linli.linkage.models import EntryResult, WatchList
from linli.register.models import Building, Person, PersonStatus, Tag
from linli.screening.models import (
    OUTCOMES,
    CampaignSource,
    ScreeningAttempt,
    ScreeningCampaign,
    ScreeningTarget,
    TargetStatus,
)


def grid_workers(grid_ids: set[int]) -> dict[int, Any]:
    """The grid worker of each grid (the longest-serving active one), for assignment."""
    out: dict[int, Any] = {}
    bindings = (
        RoleBinding.objects.filter(
            area_id__in=grid_ids, role=Role.GRID_WORKER, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("created_at", "id")
    )
    for b in bindings:
        out.setdefault(b.area_id, b.user)
    return out


def _persons_of(campaign: ScreeningCampaign) -> QuerySet[Person]:
    living = Person.objects.filter(
        status=PersonStatus.LIVING, grid__path__startswith=campaign.area.path
    )
    if campaign.source == CampaignSource.BUILDING:
        return living.filter(household__dwelling__building=campaign.building)
    if campaign.source == CampaignSource.TAG:
        return living.filter(person_tags__tag=campaign.tag)
    return living.none()


def _snapshot(campaign: ScreeningCampaign) -> int:
    """Write the campaign's targets from its source; the count written."""
    rows: list[ScreeningTarget] = []
    area = campaign.area
    if campaign.source == CampaignSource.WATCH_LIST:
        assert campaign.watch_list is not None
        seen: set[int] = set()
        entries = campaign.watch_list.entries.select_related("person__grid").exclude(
            result=EntryResult.REJECTED
        )
        for e in entries:
            p = e.person
            if p is not None and p.status == PersonStatus.LIVING:
                if not p.grid.path.startswith(area.path) or p.pk in seen:
                    continue
                seen.add(p.pk)
                rows.append(
                    ScreeningTarget(
                        campaign=campaign,
                        person=p,
                        entry=e,
                        name=p.name,
                        phone_masked=p.phone_masked,
                        grid=p.grid,
                    )
                )
            elif p is None:
                # Not in the register: the community works it until the person is found.
                rows.append(
                    ScreeningTarget(
                        campaign=campaign,
                        entry=e,
                        name=e.name or _("Row %(n)s") % {"n": e.row},
                        phone_masked=e.phone_masked,
                        address=e.origin[:200],
                        grid=area,
                    )
                )
    else:
        for p in _persons_of(campaign).select_related("grid", "household__dwelling").distinct():
            dwelling = p.household.dwelling if p.household_id and p.household else None
            rows.append(
                ScreeningTarget(
                    campaign=campaign,
                    person=p,
                    name=p.name,
                    phone_masked=p.phone_masked,
                    address=getattr(dwelling, "address", "") or "",
                    grid=p.grid,
                )
            )
    workers = grid_workers({t.grid_id for t in rows})
    for t in rows:
        t.assignee = workers.get(t.grid_id)
    ScreeningTarget.objects.bulk_create(rows, batch_size=500)
    return len(rows)


@transaction.atomic
def campaign_create(
    *,
    actor: Any,
    name: str,
    area: Area,
    source: str,
    due_on: dt.date,
    watch_list: WatchList | None = None,
    building: Building | None = None,
    tag: Tag | None = None,
    event: EmergencyEvent | None = None,
) -> ScreeningCampaign:
    """Start a campaign over *area* and snapshot its targets from the source."""
    if actor is not None and not scope_for(actor, Perm.MANAGE_SCREENING).covers(area):
        raise PermissionDenied(_("You may not start screening campaigns here."))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Name the campaign.")]
    if area.kind not in (AreaKind.COMMUNITY, AreaKind.GRID, AreaKind.SUBDISTRICT):
        errors["area"] = [_("A campaign covers a subdistrict, a community or a grid.")]
    if due_on < timezone.localdate():
        errors["due_on"] = [_("The due date is in the past.")]
    if source == CampaignSource.WATCH_LIST:
        lists = WatchList.objects.all()
        if actor is not None:
            lists = lists.restrict(actor, Perm.MATCH_LISTS)
        if watch_list is None or not lists.filter(pk=watch_list.pk).exists():
            errors["watch_list"] = [_("Choose the matched list.")]
    elif source == CampaignSource.BUILDING:
        if building is None or not building.grid.path.startswith(area.path):
            errors["building"] = [_("Choose a building in the campaign's area.")]
    elif source == CampaignSource.TAG:
        if tag is None:
            errors["tag"] = [_("Choose the tag.")]
    else:
        errors["source"] = [_("Choose where the people come from.")]
    if errors:
        raise ValidationError(errors)
    campaign = ScreeningCampaign.objects.create(
        name=name[:100],
        event=event,
        area=area,
        source=source,
        watch_list=watch_list if source == CampaignSource.WATCH_LIST else None,
        building=building if source == CampaignSource.BUILDING else None,
        tag=tag if source == CampaignSource.TAG else None,
        due_on=due_on,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    count = _snapshot(campaign)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=campaign,
        area=area,
        object_label=campaign.name,
        changes={"source": source, "targets": count},
    )
    return campaign


def _require_work(actor: Any, target: ScreeningTarget) -> None:
    if actor is None:
        return
    if target.assignee_id == actor.pk:
        return
    if not scope_for(actor, Perm.WORK_SCREENING).covers(target.grid):
        raise PermissionDenied(_("You may not work this screening target."))


@transaction.atomic
def target_record(
    *,
    actor: Any,
    target: ScreeningTarget,
    outcome: str,
    note: str = "",
    client_key: str = "",
    now: dt.datetime | None = None,
) -> ScreeningAttempt:
    """Record a call or visit: reached, not reachable, moved away. The target takes the latest
    outcome; verification is kept only while the person stays reached."""
    now = now or timezone.now()
    if outcome not in OUTCOMES:
        raise ValidationError({"outcome": [_("Choose reached, not reachable or moved away.")]})
    target = (
        ScreeningTarget.objects.select_for_update(of=("self",))
        .select_related("grid")
        .get(pk=target.pk)
    )
    _require_work(actor, target)
    if client_key:
        done = ScreeningAttempt.objects.filter(target=target, client_key=client_key).first()
        if done is not None:
            return done
    note = (note or "").strip()[:300]
    if outcome == TargetStatus.MOVED_AWAY and not note:
        raise ValidationError({"note": [_("Say where they moved, if known, or who said so.")]})
    attempt = ScreeningAttempt.objects.create(
        target=target,
        outcome=outcome,
        note=note,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        client_key=client_key[:64],
        at=now,
    )
    before = target.status
    target.status = outcome
    target.attempts_count += 1
    target.last_attempt_at = now
    fields = ["status", "attempts_count", "last_attempt_at", "updated_at"]
    if outcome != TargetStatus.REACHED and target.verified_at is not None:
        target.verified_at = None
        target.verified_by = None
        fields += ["verified_at", "verified_by"]
    target.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=target,
        area=target.grid,
        object_label=target.name,
        reason=note[:200],
        changes={"status": [before, outcome]},
    )
    return attempt


@transaction.atomic
def target_verify(
    *, actor: Any, target: ScreeningTarget, now: dt.datetime | None = None
) -> ScreeningTarget:
    """A worker confirms what the reached person said (核查): the "verified" stage."""
    target = (
        ScreeningTarget.objects.select_for_update(of=("self",))
        .select_related("grid")
        .get(pk=target.pk)
    )
    _require_work(actor, target)
    if target.status != TargetStatus.REACHED:
        raise ValidationError(_("Only a reached person can be verified."))
    if target.verified_at is None:
        target.verified_at = now or timezone.now()
        target.verified_by = actor if getattr(actor, "is_authenticated", False) else None
        target.save(update_fields=["verified_at", "verified_by", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=target,
            area=target.grid,
            object_label=target.name,
            changes={"verified": True},
        )
    return target


def target_reveal_phone(*, actor: Any, target: ScreeningTarget) -> str:
    """The full phone of a register person, for the call link: only the assigned worker (who
    must also hold reveal rights on the grid), audited as a reveal."""
    if (
        actor is None
        or target.assignee_id != actor.pk
        or not scope_for(actor, Perm.REVEAL_PII).covers(target.grid)
    ):
        raise PermissionDenied(_("Only the assigned grid worker may call this person."))
    if target.person is None or not target.person.phone_sealed:
        raise ValidationError(_("No phone number is on record for this person."))
    number = target.person.reveal_phone()
    audit_record(
        actor=actor,
        action=AuditAction.REVEAL,
        obj=target.person,
        field="phone",
        reason=_("Screening call: %(campaign)s") % {"campaign": target.campaign.name},
    )
    return number


def targets_open_q() -> Q:
    """Targets still to work: not reached yet or not reachable last time."""
    return Q(status__in=[TargetStatus.PENDING, TargetStatus.NOT_REACHABLE])
