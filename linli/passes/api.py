"""Passes and checkpoints over HTTP: gate scans (the write checkpoint tools send, honouring
``Idempotency-Key``), the list of scans, a pass check, and health codes set by a department's
system."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.roles import Perm
from linli.api.auth import caller
from linli.api.idempotency import idempotent
from linli.api.pagination import PageParams, paginate
from linli.api.routers.areas import area_in_scope
from linli.api.schemas import ErrorOut
from linli.core.scoping import scope_for
from linli.passes import selectors as sel
from linli.passes import services as ps
from linli.passes.models import Checkpoint, GateScan, HealthColour
from linli.register.models import Person

scans_router = Router(tags=["passes"])
passes_router = Router(tags=["passes"])
health_router = Router(tags=["passes"])

_WRITE_ERRORS: dict[int | str, Any] = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ScanIn(Schema):
    checkpoint: int = Field(description="Id of a checkpoint (gate) in the caller's scope.")
    token: str = Field(description="The text of the pass's QR code (LP1.…).", max_length=600)
    direction: Literal["in", "out"]
    client_id: str = Field(
        description="The scanning device's own id for this scan (unique per checkpoint): a scan "
        "sent again with the same id is stored once.",
        max_length=64,
    )
    scanned_at: dt.datetime | None = Field(
        None, description="When the device scanned (for scans queued offline); now if omitted."
    )
    offline: bool = Field(False, description="The device scanned while offline.")


class ScanOut(Schema):
    id: int
    checkpoint_id: int
    pass_id: int | None = Field(description="The pass the code named, when it is known.")
    direction: str
    result: str = Field(description="ok or refused.")
    reason: str = Field(
        description="Why refused: malformed, bad_signature, unknown_key, not_yet_valid, "
        "expired, unknown_pass, wrong_estate, revoked, not_approved, closed (the emergency "
        "event the pass was issued under has ended)."
    )
    holder_masked: str
    health_code: str = Field(
        description="green, yellow or red while the event runs health-code checks; else empty."
    )
    offline: bool
    scanned_at: dt.datetime
    grid_id: int


def scan_out(scan: GateScan, *, health: str = "") -> dict[str, Any]:
    return ScanOut(
        id=scan.pk,
        checkpoint_id=scan.checkpoint_id,
        pass_id=scan.access_pass_id,
        direction=scan.direction,
        result=scan.result,
        reason=scan.reason,
        holder_masked=scan.holder_masked,
        health_code=health,
        offline=scan.offline,
        scanned_at=scan.scanned_at,
        grid_id=scan.grid_id,
    ).model_dump(mode="json")


def scan_store(request: HttpRequest, *, user: Any, checkpoint: Checkpoint, data: ScanIn) -> Any:
    """Record a scan once per Idempotency-Key (and per client id): (status, body)."""

    def run() -> tuple[int, Any]:
        scan, created = ps.gate_scan_record(
            actor=user,
            checkpoint=checkpoint,
            token=data.token,
            direction=data.direction,
            client_id=data.client_id,
            scanned_at=data.scanned_at,
            offline=data.offline,
        )
        health = ""
        if scan.access_pass is not None and ps.measure_on(checkpoint.grid, "health_code"):
            health = ps.health_colour_of(scan.access_pass)
        return (201 if created else 200), scan_out(scan, health=health)

    return idempotent(
        request,
        user=user,
        operation="POST /gate-scans",
        body=data.model_dump(mode="json"),
        run=run,
    )


@scans_router.post(
    "",
    response={200: ScanOut, 201: ScanOut, **_WRITE_ERRORS},
    summary="Record a gate scan",
    description=(
        "Record one scan of a pass's code at a gate: the server checks the signature, the key "
        "version, the validity window at `scanned_at`, the estate and whether the pass was "
        "revoked, and stores the verdict (who, which gate, in or out, when). 201 for a new "
        "scan, 200 when this checkpoint already holds a scan with this `client_id` (its stored "
        "answer). A checkpoint outside the caller's scope: 404. Send an `Idempotency-Key` "
        "header to make a retry safe: the first answer is stored and a retry with the same "
        "key answers it again; the same key with a different body answers 422."
    ),
    url_name="gate_scan_create",
)
def gate_scan_create(request: HttpRequest, payload: ScanIn) -> Status[Any]:
    user = caller(request)
    cp = get_object_or_404(sel.checkpoints_visible(user, Perm.SCAN_PASSES), pk=payload.checkpoint)
    status, body = scan_store(request, user=user, checkpoint=cp, data=payload)
    return Status(status, body)


class ScanPage(Schema):
    count: int
    items: list[ScanOut]


@scans_router.get(
    "",
    response={200: ScanPage, 403: ErrorOut},
    summary="List gate scans",
    description=(
        "Scans at the gates of the caller's grids, newest first; filter by `checkpoint`, "
        "`grid` or `result` (ok, refused)."
    ),
)
def gate_scan_list(
    request: HttpRequest,
    page: Query[PageParams],
    checkpoint: int | None = None,
    grid: str | None = None,
    result: Literal["ok", "refused", "all"] = "all",
) -> dict[str, Any]:
    user = caller(request)
    if scope_for(user, Perm.VIEW_PASSES).is_empty:
        raise PermissionDenied
    qs: QuerySet[GateScan] = sel.scans_visible(user)
    if checkpoint is not None:
        qs = qs.filter(checkpoint_id=checkpoint)
    if grid:
        area = area_in_scope(user, grid)
        if area is None:
            return {"count": 0, "items": []}
        qs = qs.filter(grid__path__startswith=area.path)
    if result != "all":
        qs = qs.filter(result=result)
    out = paginate(qs, page)
    out["items"] = [scan_out(s) for s in out["items"]]
    return out


class VerifyIn(Schema):
    token: str = Field(description="The text of the pass's QR code (LP1.…).", max_length=600)
    checkpoint: int = Field(description="Id of the gate it is shown at (in the caller's scope).")


class VerifyOut(Schema):
    ok: bool
    reason: str
    pass_id: int | None
    holder_masked: str
    valid_until: dt.datetime | None


@passes_router.post(
    "/verify",
    response={200: VerifyOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Check a pass's code",
    description=(
        "Check a pass's code as a gate would, without recording a scan: signature, key "
        "version, validity now, estate of the checkpoint and revocation. A checkpoint outside "
        "the caller's scope: 404."
    ),
)
def pass_verify(request: HttpRequest, payload: VerifyIn) -> dict[str, Any]:
    user = caller(request)
    cp = get_object_or_404(sel.checkpoints_visible(user, Perm.SCAN_PASSES), pk=payload.checkpoint)
    result, reason, p, holder = ps.scan_verdict(cp, payload.token, at=timezone.now())
    return {
        "ok": result == "ok",
        "reason": reason,
        "pass_id": p.pk if p is not None and result == "ok" else None,
        "holder_masked": holder,
        "valid_until": p.valid_until if p is not None and result == "ok" else None,
    }


class HealthCodeIn(Schema):
    person: int = Field(description="Id of a person in the caller's scope.")
    colour: HealthColour
    source: str = Field("", max_length=50, description="Where the colour comes from.")


class HealthCodeOut(Schema):
    person_id: int
    colour: str
    source: str
    set_at: dt.datetime


@health_router.post(
    "",
    response={200: HealthCodeOut, **_WRITE_ERRORS},
    summary="Set a health code",
    description=(
        "Set a person's health code colour (green, yellow, red), e.g. from the health "
        "department's system (a department token may set the colours of the people of the "
        "nodes it is bound to, and nothing else of passes). Gates show it while an event "
        "covering the estate runs health-code checks. A person outside the caller's scope: "
        "404."
    ),
)
def health_code_set(request: HttpRequest, payload: HealthCodeIn) -> dict[str, Any]:
    user = caller(request)
    person = Person.objects.restrict(user, Perm.SET_HEALTH_CODES).filter(pk=payload.person).first()
    if person is None:
        raise Http404
    code = ps.health_code_set(
        actor=user, person=person, colour=payload.colour, source=payload.source
    )
    return {
        "person_id": person.pk,
        "colour": code.colour,
        "source": code.source,
        "set_at": code.set_at,
    }
