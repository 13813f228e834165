"""All writes of the reports capability: templates and their versions, renders (queued,
run in the background, expired), data requests and their deliveries.

Every service checks the actor's permission on the area it touches (``actor=None`` is the
system: the shipped library, operators' CLI), writes the audit log, and changes workflow
state only along the transition tables in models.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import secrets
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
from linli.reports import engine, renderers
from linli.reports.models import (
    DATA_REQUEST_TRANSITIONS,
    RENDER_TRANSITIONS,
    DataRequest,
    DataRequestDelivery,
    DataRequestStatus,
    Recurrence,
    RenderFormat,
    RenderStatus,
    ReportRender,
    ReportRenderEvent,
    ReportTemplate,
    ReportTemplateVersion,
)
from linli.reports.spec import MANUAL, SEQ, TemplateSpec, code_is_valid, spec_dump, spec_validate

EXPORT_FORMAT = "linli-report-template"
logger = logging.getLogger("linli.reports")


def keep_hours() -> int:
    return int(getattr(settings, "LINLI_REPORT_KEEP_HOURS", 72))


def output_dir() -> Path:
    path = Path(settings.VAR_DIR) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _require(actor: Any, perm: Perm, area: Area | None, message: str) -> None:
    if actor is None:
        return
    if area is None or not scope_for(actor, perm).covers(area):
        raise PermissionDenied(message)


# --- templates -----------------------------------------------------------------------------


def _check_code(code: str) -> None:
    if not code_is_valid(code):
        raise ValidationError(
            {"code": [_("Use 2–64 lower-case letters, digits, - or _ (e.g. floating-2026).")]}
        )
    if ReportTemplate.objects.filter(code=code).exists():
        raise ValidationError({"code": [_("A template with this code exists already.")]})


def template_create(
    *,
    actor: Any,
    code: str,
    spec: dict[str, Any],
    owner_area: Area | None,
    note: str = "",
    library_key: str = "",
) -> ReportTemplate:
    """A new template with its first version. Only the system adds to the shipped library."""
    if owner_area is None and actor is not None:
        raise PermissionDenied(_("Only the system adds templates to the shipped library."))
    _require(actor, Perm.DESIGN_REPORTS, owner_area, _("You may not design templates here."))
    parsed = spec_validate(spec)
    _check_code(code)
    with transaction.atomic():
        template = ReportTemplate.objects.create(
            code=code,
            title=parsed.header.title,
            kind=parsed.kind,
            rowset=parsed.rowset,
            department=parsed.header.department,
            owner_area=owner_area,
            library_key=library_key,
            created_by=actor,
        )
        ReportTemplateVersion.objects.create(
            template=template, number=1, spec=spec_dump(parsed), note=note, created_by=actor
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=template,
            area=owner_area,
            changes={"code": code, "version": 1},
        )
    return template


def template_version_save(
    *, actor: Any, template: ReportTemplate, spec: dict[str, Any], note: str = ""
) -> ReportTemplateVersion:
    """Save *spec* as the template's next version (versions are never edited)."""
    if template.is_library and actor is not None:
        raise PermissionDenied(_("The shipped library is read-only: copy the template first."))
    _require(
        actor, Perm.DESIGN_REPORTS, template.owner_area, _("You may not design templates here.")
    )
    parsed = spec_validate(spec)
    if parsed.rowset != template.rowset:
        raise ValidationError({"rowset": [_("A template keeps its source; copy it to change it.")]})
    with transaction.atomic():
        locked = ReportTemplate.objects.select_for_update().get(pk=template.pk)
        last = locked.versions.order_by("-number").first()
        number = (last.number if last else 0) + 1
        version = ReportTemplateVersion.objects.create(
            template=locked, number=number, spec=spec_dump(parsed), note=note, created_by=actor
        )
        locked.title = parsed.header.title
        locked.kind = parsed.kind
        locked.department = parsed.header.department
        locked.save(update_fields=["title", "kind", "department", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            obj=locked,
            area=locked.owner_area,
            changes={"version": number, "note": note},
        )
    template.refresh_from_db()
    return version


def template_copy(
    *, actor: Any, template: ReportTemplate, owner_area: Area, code: str
) -> ReportTemplate:
    """A template of one's own (to edit), starting from *template*'s current version."""
    copy = template_create(
        actor=actor,
        code=code,
        spec=template.current().spec,
        owner_area=owner_area,
        note=_("Copied from %(code)s v%(n)s")
        % {"code": template.code, "n": template.current().number},
    )
    return copy


def template_export(template: ReportTemplate) -> dict[str, Any]:
    """The file another district imports (no personal data: a template is a form)."""
    version = template.current()
    return {
        "format": EXPORT_FORMAT,
        "format_version": 1,
        "code": template.code,
        "version": version.number,
        "spec": version.spec,
    }


def template_import(*, actor: Any, data: Any, owner_area: Area, code: str = "") -> ReportTemplate:
    """Take a file made by template_export (from this or another deployment)."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError({"file": [_("This is not a Linli report template file.")]})
    return template_create(
        actor=actor,
        code=code or str(data.get("code", "")),
        spec=data.get("spec"),  # type: ignore[arg-type]
        owner_area=owner_area,
        note=_("Imported"),
    )


def library_load(*, actor: Any = None) -> tuple[int, int, int]:
    """Load the shipped library (linli/reports/library.py, and templates capabilities ship
    with ``registry.register_template``): add missing templates, add a
    version where the shipped spec changed, leave the rest. Idempotent. Returns (added,
    updated, unchanged)."""
    from linli.reports import library, registry

    added = updated = same = 0
    for code, spec in {**library.LIBRARY, **registry.shipped_templates()}.items():
        template = ReportTemplate.objects.filter(code=code).first()
        if template is None:
            template_create(actor=None, code=code, spec=spec, owner_area=None, library_key=code)
            added += 1
            continue
        if spec_dump(spec_validate(spec)) != template.current().spec:
            template_version_save(actor=None, template=template, spec=spec, note="library")
            updated += 1
        else:
            same += 1
    return added, updated, same


# --- renders -------------------------------------------------------------------------------


def _transition(render: ReportRender, to: str, note: str = "", **fields: Any) -> None:
    """Move a render along RENDER_TRANSITIONS (and nowhere else); record the event."""
    if to not in RENDER_TRANSITIONS[render.status]:
        raise ValidationError(
            _("A render cannot go from %(a)s to %(b)s.") % {"a": render.status, "b": to}
        )
    ReportRenderEvent.objects.create(
        render=render, from_status=render.status, to_status=to, note=note[:300]
    )
    render.status = to
    for k, v in fields.items():
        setattr(render, k, v)
    render.save(update_fields=["status", "updated_at", *fields])


def render_request(
    *,
    actor: Any,
    template: ReportTemplate,
    area: Area,
    fmt: str = RenderFormat.XLSX,
    reason: str = "",
    period: str = "",
    batch: str = "",
    enqueue: bool = True,
) -> ReportRender:
    """Queue one render of *template*'s current version for *area* (a background task)."""
    _require(actor, Perm.VIEW_REPORTS, area, _("You may not make reports for this area."))
    if fmt not in RenderFormat.values:
        raise ValidationError({"format": [_("Choose xlsx, csv or pdf.")]})
    version = template.current()
    spec = spec_validate(version.spec)
    # A template with full-value columns shows them only with a stated reason, and only in
    # grids where the requester may reveal; elsewhere (or without a reason) they are masked.
    with transaction.atomic():
        render = ReportRender.objects.create(
            version=version,
            area=area,
            format=fmt,
            reason=reason.strip()[:200] if spec.reveals() else "",
            batch=batch,
            created_by=actor,
            file_name=_file_name(spec, area, fmt, period),
        )
        ReportRenderEvent.objects.create(render=render, to_status=RenderStatus.QUEUED, note=period)
        if enqueue:  # the CLI runs the render itself, in the foreground
            transaction.on_commit(lambda: _enqueue(render.pk, period))
    return render


def _enqueue(render_id: int, period: str) -> None:
    from linli.reports.tasks import render_task

    render_task(render_id, period)


def _file_name(spec: TemplateSpec, area: Area, fmt: str, period: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    title = engine._fill(spec.header.title, {"area": "", "community": ""})
    title = title.replace("/", "-").strip() or "report"
    return f"{area.name}-{title}{('-' + period) if period else ''}-{stamp}.{fmt}"


def _burden(spec: TemplateSpec, table: engine.Table, rows: int) -> tuple[int, int]:
    """(fields filled from the register, fields left to type by hand) in one output.

    Delivered: each data row's cells that come from data (not 序号, not blank columns);
    by hand: each data row's blank columns plus header items left blank (e.g. 填报人：).
    """
    blank_info = sum(1 for x in table.info if x.rstrip().endswith(("：", ":")))
    blank_info += sum(1 for x in table.footer if x.rstrip().endswith(("：", ":")))
    if spec.kind == "statistics":
        return rows * len(spec.measures), blank_info
    data_cols = sum(1 for c in spec.columns if c.source not in (SEQ, MANUAL))
    manual = sum(1 for c in spec.columns if c.source == MANUAL)
    return rows * data_cols, rows * manual + blank_info


def render_run(*, render_id: int, period: str = "") -> ReportRender:
    """Make the file of a queued render (the background task calls this).

    Reads as the render's requester (their scope, their reveal rights); writes the file
    under LINLI_VAR_DIR/reports, the burden measure, and one audit entry (export)."""
    with transaction.atomic():
        render = ReportRender.objects.select_for_update().get(pk=render_id)
        if render.status != RenderStatus.QUEUED:
            return render  # a retried task: the first run owns it
        _transition(render, RenderStatus.RUNNING)
    render = ReportRender.objects.select_related("version__template", "area", "created_by").get(
        pk=render_id
    )
    actor = render.created_by
    spec = spec_validate(render.version.spec)
    path = output_dir() / f"{render.pk}-{secrets.token_hex(8)}.{render.format}"
    try:
        with translation.override(settings.LANGUAGE_CODE):
            table = engine.build_table(
                spec, user=actor, area=render.area, period=period, reveal_reason=render.reason
            )
            ReportRender.objects.filter(pk=render.pk).update(rows_total=table.total)

            def progress(n: int) -> None:
                ReportRender.objects.filter(pk=render.pk).update(rows_done=n)

            renderers.RENDERERS[render.format](table, path, progress=progress)
    except Exception as exc:
        path.unlink(missing_ok=True)
        render.refresh_from_db()
        _transition(render, RenderStatus.FAILED, note=str(exc), error=str(exc)[:2000])
        logger.exception("report render %s failed", render.pk)
        return render
    delivered, by_hand = _burden(spec, table, table.total)
    with transaction.atomic():
        render.refresh_from_db()
        _transition(
            render,
            RenderStatus.DONE,
            rows_done=table.total,
            rows_total=table.total,
            file_path=str(path),
            fields_delivered=delivered,
            fields_by_hand=by_hand,
            revealed=table.revealed > 0,
            expires_at=timezone.now() + dt.timedelta(hours=keep_hours()),
        )
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            obj=render,
            area=render.area,
            object_label=render.file_name,
            field="national_id/phone" if table.revealed else "",
            reason=render.reason if table.revealed else "",
            changes={
                "template": render.version.template.code,
                "version": render.version.number,
                "format": render.format,
                "rows": table.total,
                "revealed_cells": table.revealed,
            },
        )
    return render


def renders_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of renders past their expiry; mark them expired. Returns how many."""
    now = now or timezone.now()
    n = 0
    for render in ReportRender.objects.filter(
        status__in=[RenderStatus.DONE, RenderStatus.FAILED], expires_at__lt=now
    ):
        if render.file_path:
            Path(render.file_path).unlink(missing_ok=True)
        _transition(render, RenderStatus.EXPIRED, file_path="")
        n += 1
    # Failed renders never got an expiry: expire them after the same time.
    cutoff = now - dt.timedelta(hours=keep_hours())
    for render in ReportRender.objects.filter(
        status=RenderStatus.FAILED, expires_at__isnull=True, updated_at__lt=cutoff
    ):
        _transition(render, RenderStatus.EXPIRED)
        n += 1
    return n


# --- data requests -------------------------------------------------------------------------


def data_request_create(
    *,
    actor: Any,
    department: str,
    template: ReportTemplate,
    area: Area,
    due_on: dt.date,
    recurrence: str = Recurrence.ONCE,
    period: str = "",
    fmt: str = RenderFormat.XLSX,
    note: str = "",
) -> DataRequest:
    """A department's ask, registered for *area* (by the department or the community)."""
    _require(actor, Perm.REQUEST_REPORTS, area, _("You may not register requests for this area."))
    errors: dict[str, list[str]] = {}
    if not department.strip():
        errors["department"] = [_("Name the department that asks.")]
    if recurrence not in Recurrence.values:
        errors["recurrence"] = [_("Choose one-off, weekly or monthly.")]
    if fmt not in RenderFormat.values:
        errors["format"] = [_("Choose xlsx, csv or pdf.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = DataRequest.objects.create(
            department=department.strip()[:100],
            template=template,
            area=area,
            due_on=due_on,
            recurrence=recurrence,
            period=period.strip()[:60],
            format=fmt,
            note=note.strip()[:200],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=request,
            area=area,
            changes={"department": request.department, "template": template.code},
        )
    return request


def _next_due(day: dt.date, recurrence: str) -> dt.date:
    if recurrence == Recurrence.WEEKLY:
        return day + dt.timedelta(days=7)
    month = day.month % 12 + 1
    year = day.year + (1 if day.month == 12 else 0)
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def due_horizon() -> dt.date:
    """Requests due on or before this day are "due": this day and the next six (a week)."""
    return timezone.localdate() + dt.timedelta(days=6)


def data_request_transition(*, request: DataRequest, to: str) -> None:
    if to not in DATA_REQUEST_TRANSITIONS[request.status]:
        raise ValidationError(
            _("A request cannot go from %(a)s to %(b)s.") % {"a": request.status, "b": to}
        )
    request.status = to
    request.save(update_fields=["status", "updated_at"])


def data_requests_render_due(
    *, actor: Any, requests: list[DataRequest], on: dt.date | None = None
) -> list[DataRequestDelivery]:
    """Render every open request among *requests* that is due by *on* (default:
    due_horizon()), in one batch; log a delivery each and move recurring ones to their next due
    date. A request already delivered for its due date is not rendered again."""
    on = on or due_horizon()
    batch = secrets.token_hex(6)
    out = []
    for req in requests:
        with transaction.atomic():
            locked = DataRequest.objects.select_for_update().get(pk=req.pk)
            if locked.status != DataRequestStatus.OPEN or locked.due_on > on:
                continue
            if DataRequestDelivery.objects.filter(request=locked, due_on=locked.due_on).exists():
                continue
            _require(
                actor, Perm.VIEW_REPORTS, locked.area, _("You may not make reports for this area.")
            )
            render = render_request(
                actor=actor,
                template=locked.template,
                area=locked.area,
                fmt=locked.format,
                period=locked.period,
                batch=batch,
            )
            delivery = DataRequestDelivery.objects.create(
                request=locked, render=render, due_on=locked.due_on, delivered_by=actor
            )
            if locked.recurrence == Recurrence.ONCE:
                data_request_transition(request=locked, to=DataRequestStatus.DONE)
            else:
                locked.due_on = _next_due(locked.due_on, locked.recurrence)
                locked.save(update_fields=["due_on", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditAction.EVENT,
                obj=locked,
                area=locked.area,
                object_label=str(locked),
                changes={"delivered": str(delivery.due_on), "render": render.pk},
            )
            out.append(delivery)
    return out
