"""Mass messages: one workbench action messages everyone in a building, a grid or the
quarantine list of a grid — optionally only those who have not checked in today — as a huey
task that reports its progress on the row (decision 0032).

Retries never send twice: the form carries a token (the same post twice finds the same
`MassMessage`), and each recipient's notification has the dedupe key
``mass:<id>:<person or quarantine>``, so a task run again after a crash skips who already has
theirs. Progress is written in chunks, each in its own short transaction, so the page can
read it while the task runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Perm
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.scoping import scope_for
from linli.notify.models import Channel, MassMessage, MassStatus, MassTarget, Notification
from linli.notify.services import notify

CHUNK = 50


@dataclass(frozen=True)
class Recipient:
    key: str
    person: Any
    phone_sealed: bytes | None
    name: str
    grid_id: int


def mass_message_create(
    *,
    actor: Any,
    token: str,
    target: str,
    channel: str,
    text: str,
    grid: Any = None,
    building: Any = None,
    only_missing_checkin: bool = False,
) -> tuple[MassMessage, bool]:
    """Record a mass message and start it after commit; (row, created).

    The same *token* again returns the first row and starts nothing (a double-clicked or
    resent form). The building or grid must lie in the actor's scope.
    """
    existing = MassMessage.objects.filter(token=token).first()
    if existing is not None:
        if existing.created_by_id != getattr(actor, "pk", None):
            raise PermissionDenied
        return existing, False
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the message.")})
    if target == MassTarget.BUILDING:
        if building is None:
            raise ValidationError({"building": _("Choose a building.")})
        grid = building.grid
    elif grid is None:
        raise ValidationError({"grid": _("Choose a grid.")})
    if not scope_for(actor, Perm.SEND_NOTIFICATIONS).covers(grid):
        raise PermissionDenied
    with transaction.atomic():
        row = MassMessage.objects.create(
            token=token,
            target=target,
            grid=grid,
            building=building if target == MassTarget.BUILDING else None,
            only_missing_checkin=only_missing_checkin or target == MassTarget.QUARANTINE,
            channel=channel,
            text=text,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=row,
            area=grid,
            object_label=str(row._meta.verbose_name),
            changes={"target": target, "channel": channel},
        )
        from linli.notify.tasks import run_mass_message

        pk = row.pk
        transaction.on_commit(lambda: run_mass_message(pk))
    return row, True


def recipients(mm: MassMessage) -> list[Recipient]:
    """Who the mass message goes to, in a stable order."""
    from linli.emergency.models import Quarantine, QuarantineStatus
    from linli.register.models import Person, PersonStatus

    if mm.only_missing_checkin:
        today = timezone.localdate()
        qs = Quarantine.objects.filter(
            status=QuarantineStatus.ACTIVE, starts_on__lte=today, planned_end__gt=today
        ).exclude(check_ins__day=today)
        if mm.target == MassTarget.BUILDING:
            qs = qs.filter(person__household__dwelling__building=mm.building)
        else:
            qs = qs.filter(grid_id=mm.grid_id)
        return [
            Recipient(
                key=f"q{q.pk}",
                person=q.person,
                phone_sealed=bytes(q.phone_sealed) if q.phone_sealed else None,
                name=q.name,
                grid_id=q.grid_id,
            )
            for q in qs.select_related("person").order_by("pk")
        ]
    people = Person.objects.filter(status=PersonStatus.LIVING, household__isnull=False)
    if mm.target == MassTarget.BUILDING:
        people = people.filter(household__dwelling__building=mm.building)
    else:
        people = people.filter(grid_id=mm.grid_id)
    return [
        Recipient(
            key=f"p{p.pk}",
            person=p,
            phone_sealed=bytes(p.phone_sealed) if p.phone_sealed else None,
            name=p.name,
            grid_id=p.grid_id,
        )
        for p in people.order_by("pk")
    ]


def mass_message_run(pk: int) -> dict[str, int]:
    """The task: create each recipient's notification, writing progress as it goes."""
    with transaction.atomic():
        mm = MassMessage.objects.select_for_update().get(pk=pk)
        if mm.status == MassStatus.DONE:
            return {"total": mm.total, "created": mm.created, "skipped": mm.skipped}
        mm.status = MassStatus.RUNNING
        mm.save(update_fields=["status"])
    try:
        people = recipients(mm)
        MassMessage.objects.filter(pk=pk).update(total=len(people), done=0)
        created = skipped = 0
        for start in range(0, len(people), CHUNK):
            with transaction.atomic():
                for r in people[start : start + CHUNK]:
                    key = f"mass:{mm.pk}:{r.key}"
                    if Notification.objects.filter(dedupe_key=key).exists() or (
                        mm.channel == Channel.IN_APP and r.person is None
                    ):
                        skipped += 1  # sent by an earlier run, or no inbox to reach
                        continue
                    notify(
                        channel=mm.channel,
                        kind="notify.mass_message",
                        text=mm.text,
                        person=r.person,
                        phone_sealed=r.phone_sealed,
                        name=r.name,
                        grid_id=r.grid_id,
                        source_app="notify",
                        source_id=mm.pk,
                        dedupe_key=key,
                        mass_message=mm,
                    )
                    created += 1
                MassMessage.objects.filter(pk=pk).update(
                    done=min(len(people), start + CHUNK), created=created, skipped=skipped
                )
    except Exception as e:
        MassMessage.objects.filter(pk=pk).update(status=MassStatus.FAILED, error=str(e)[:300])
        raise
    MassMessage.objects.filter(pk=pk).update(
        status=MassStatus.DONE, finished_at=timezone.now(), done=len(people)
    )
    return {"total": len(people), "created": created, "skipped": skipped}
