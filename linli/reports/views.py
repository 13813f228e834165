"""Workbench pages of the reports capability (/w/reports/): the template library, the editor
with a preview on real data, renders with progress and download, data requests."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.core.scoping import scope_for
from linli.reports import registry, selectors, services
from linli.reports.forms import (
    DataRequestForm,
    RenderForm,
    filter_fields,
    source_choices,
    spec_from_post,
)
from linli.reports.models import RenderStatus, ReportTemplate
from linli.reports.spec import spec_validate
from linli.workbench.views.common import paginate, perm_required, pk_or_404

PREVIEW_ROWS = 20


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{k}: {m}" if k != "__all__" else str(m)
            for k, ms in exc.message_dict.items()
            for m in ms
        ]
    return [str(m) for m in exc.messages]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _filter_text(rs: registry.RowSet, key: str, value: Any) -> str:
    f = rs.filters[key]
    labels = dict(f.choice_list())
    values = value if isinstance(value, list) else [value]
    return "、".join(str(labels.get(v, v)) for v in values)


def _template(user: Any, pk: int) -> ReportTemplate:
    return get_object_or_404(selectors.templates_visible(user).select_related("owner_area"), pk=pk)


@perm_required(Perm.VIEW_REPORTS)
def home(request: HttpRequest) -> HttpResponse:
    """The template library, the latest renders in scope and the burden removed."""
    user: Any = request.user
    templates = list(selectors.templates_visible(user).select_related("owner_area"))
    areas = selectors.areas_for_reports(user)
    renders = paginate(
        request,
        selectors.renders_visible(user).select_related("version__template", "area", "created_by"),
        per_page=15,
    )
    return render(
        request,
        "reports/home.html",
        {
            "library": [t for t in templates if t.is_library],
            "own": [t for t in templates if not t.is_library],
            "renders": renders,
            "form": RenderForm(areas=areas),
            "burden": selectors.burden(user),
            "may_design": not scope_for(user, Perm.DESIGN_REPORTS).is_empty,
            "design_areas": selectors.design_areas(user)[:50],
        },
    )


@perm_required(Perm.VIEW_REPORTS)
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    template = _template(user, pk)
    version = template.current()
    spec = spec_validate(version.spec)
    rs = registry.rowset(spec.rowset)
    areas = selectors.areas_for_reports(user)
    return render(
        request,
        "reports/template_detail.html",
        {
            "template": template,
            "version": version,
            "spec": spec,
            "rowset": rs,
            "filters": [
                (rs.filters[k].label, _filter_text(rs, k, v))
                for k, v in spec.filters.items()
                if k in rs.filters
            ],
            "versions": template.versions.select_related("created_by")[:20],
            "form": RenderForm(areas=areas),
            "areas": areas[:200],
            "editable": selectors.template_editable(user, template),
            "may_design": not scope_for(user, Perm.DESIGN_REPORTS).is_empty,
            "design_areas": selectors.design_areas(user)[:50],
        },
    )


def _editor_context(template: ReportTemplate, spec: dict[str, Any], user: Any) -> dict[str, Any]:
    rs = registry.rowset(template.rowset)
    return {
        "template": template,
        "spec": spec,
        "header": spec.get("header", {}),
        "rowset": rs,
        "sources": source_choices(rs),
        "orderable": [(c.key, c.label) for c in rs.columns.values() if c.order],
        "filters": filter_fields(rs, spec.get("filters", {})),
        "areas": selectors.areas_for_reports(user)[:200],
        "sort": (spec.get("sort") or [{}])[0],
        "orientations": [
            ("auto", _("Automatic")),
            ("portrait", _("Portrait")),
            ("landscape", _("Landscape")),
        ],
    }


@perm_required(Perm.VIEW_REPORTS)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The editor: save the form as the template's next version; on an error keep what was
    typed and say what is wrong."""
    user: Any = request.user
    template = _template(user, pk)
    if not selectors.template_editable(user, template):
        raise PermissionDenied
    spec = template.current().spec
    errors: list[str] = []
    if request.method == "POST":
        rs = registry.rowset(template.rowset)
        spec = spec_from_post(request.POST, spec, rs)
        try:
            version = services.template_version_save(
                actor=user, template=template, spec=spec, note=request.POST.get("note", "")[:200]
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Saved as version %(n)d.") % {"n": version.number})
            return redirect("reports:template_detail", pk=template.pk)
    context = _editor_context(template, spec, user)
    context["errors"] = errors
    return render(request, "reports/template_edit.html", context, status=422 if errors else 200)


@perm_required(Perm.VIEW_REPORTS)
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The first rows on real data in the user's scope: of the editor's unsaved form (POST)
    or of the current version (GET). Full values are never shown in a preview."""
    user: Any = request.user
    template = _template(user, pk)
    data = request.POST if request.method == "POST" else request.GET
    spec_data = template.current().spec
    if request.method == "POST":
        spec_data = spec_from_post(request.POST, spec_data, registry.rowset(template.rowset))
    areas = selectors.areas_for_reports(user)
    area_id = data.get("area")
    area = areas.filter(pk=pk_or_404(area_id)).first() if area_id else areas.first()
    if area is None:
        raise Http404
    try:
        spec = spec_validate(spec_data)
    except ValidationError as exc:
        return render(request, "reports/_preview.html", {"errors": _errors(exc)})
    table = selectors.preview(user, spec, area, rows=PREVIEW_ROWS)
    rows = [
        {
            "kind": kind,
            "cells": [_shown(v) for v in cells],
            "merged": kind != "data" and all(c == "" for c in cells[1:]),
        }
        for kind, cells in table.rows
        # A total over the first rows only would mislead: totals are in the made form.
        if kind == "data" or table.total <= PREVIEW_ROWS
    ]
    return render(
        request,
        "reports/_preview.html",
        {"table": table, "rows": rows, "area": area, "limit": PREVIEW_ROWS},
    )


@perm_required(Perm.VIEW_REPORTS)
def template_export(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(request.user, pk)
    response = JsonResponse(
        services.template_export(template), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="{template.code}.json"'
    return response


def _design_area(request: HttpRequest) -> Any:
    areas = selectors.design_areas(request.user)
    area_id = request.POST.get("owner_area")
    area = areas.filter(pk=pk_or_404(area_id)).first() if area_id else areas.first()
    if area is None:
        raise Http404
    return area


@require_POST
@perm_required(Perm.VIEW_REPORTS)
def template_copy(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    template = _template(user, pk)
    if scope_for(user, Perm.DESIGN_REPORTS).is_empty:
        raise PermissionDenied
    area = _design_area(request)
    code = request.POST.get("code", "").strip() or f"{template.code}-{area.code}".lower()
    try:
        copy = services.template_copy(actor=user, template=template, owner_area=area, code=code)
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc)))
        return redirect("reports:template_detail", pk=template.pk)
    messages.success(request, _("Copied. You can now edit your own template."))
    return redirect("reports:template_edit", pk=copy.pk)


@require_POST
@perm_required(Perm.DESIGN_REPORTS)
def template_import(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    area = _design_area(request)
    upload = request.FILES.get("file")
    try:
        if upload is None or (upload.size or 0) > 1_000_000:
            raise ValidationError({"file": [_("Choose a template file (.json, at most 1 MB).")]})
        try:
            data = json.loads(upload.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValidationError(
                {"file": [_("This is not a Linli report template file.")]}
            ) from exc
        template = services.template_import(
            actor=user, data=data, owner_area=area, code=request.POST.get("code", "").strip()
        )
    except ValidationError as exc:
        messages.error(request, "；".join(_errors(exc)))
        return redirect("reports:home")
    messages.success(request, _("Template imported."))
    return redirect("reports:template_detail", pk=template.pk)


# --- renders -------------------------------------------------------------------------------


@require_POST
@perm_required(Perm.VIEW_REPORTS)
def render_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    template = _template(user, pk_or_404(request.POST.get("template")))
    form = RenderForm(request.POST, areas=selectors.areas_for_reports(user))
    if not form.is_valid():
        messages.error(request, _("Choose an area and a format."))
        return redirect("reports:template_detail", pk=template.pk)
    try:
        with transaction.atomic():
            made = services.render_request(
                actor=user,
                template=template,
                area=form.cleaned_data["area"],
                fmt=form.cleaned_data["format"],
                reason=form.cleaned_data["reason"],
            )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, str(exc))
        return redirect("reports:template_detail", pk=template.pk)
    return redirect("reports:render_detail", pk=made.pk)


@perm_required(Perm.VIEW_REPORTS)
def render_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of one render (the page polls while it runs) and its download."""
    user: Any = request.user
    made = get_object_or_404(
        selectors.renders_visible(user).select_related("version__template", "area", "created_by"),
        pk=pk,
    )
    running = made.status in (RenderStatus.QUEUED, RenderStatus.RUNNING)
    name = (
        "reports/_render_status.html"
        if request.headers.get("HX-Request")
        else "reports/render_detail.html"
    )
    return render(request, name, {"render": made, "running": running})


@perm_required(Perm.VIEW_REPORTS)
def render_download(request: HttpRequest, pk: int) -> Any:
    made = selectors.render_downloadable(request.user, pk)
    if made is None:
        raise Http404
    try:
        handle = open(made.file_path, "rb")  # noqa: SIM115  (FileResponse closes it)
    except OSError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=made.file_name)


# --- data requests -------------------------------------------------------------------------


def _request_areas(user: Any) -> Any:
    return selectors.areas_for_reports(user).filter(scope_for(user, Perm.REQUEST_REPORTS).q("id"))


@perm_required(Perm.VIEW_REPORTS)
def request_list(request: HttpRequest) -> HttpResponse:
    """Every department's request for the user's areas in one list; render all due at once."""
    user: Any = request.user
    horizon = services.due_horizon()
    requests = list(selectors.requests_visible(user).order_by("status", "due_on", "id"))
    may_request = not scope_for(user, Perm.REQUEST_REPORTS).is_empty
    form = None
    if may_request:
        form = DataRequestForm(
            request.POST or None,
            templates=selectors.templates_visible(user),
            areas=_request_areas(user),
        )
    return render(
        request,
        "reports/requests.html",
        {
            "requests": requests,
            "due": [r for r in requests if r.status == "open" and r.due_on <= horizon],
            "horizon": horizon,
            "deliveries": selectors.deliveries_visible(user)[:30],
            "burden": selectors.burden(user),
            "form": form,
        },
    )


@require_POST
@perm_required(Perm.REQUEST_REPORTS)
def request_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = DataRequestForm(
        request.POST,
        templates=selectors.templates_visible(user),
        areas=_request_areas(user),
    )
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.data_request_create(
                actor=user,
                department=d["department"],
                template=d["template"],
                area=d["area"],
                due_on=d["due_on"],
                recurrence=d["recurrence"],
                period=d["period"],
                fmt=d["format"],
            )
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Request registered."))
            return redirect("reports:request_list")
    else:
        messages.error(
            request,
            _("Check the request: %(errors)s")
            % {
                "errors": "；".join(
                    f"{form.fields[k].label}：{' '.join(str(m) for m in v)}"
                    for k, v in form.errors.items()
                    if k in form.fields
                )
            },
        )
    return redirect("reports:request_list")


@require_POST
@perm_required(Perm.VIEW_REPORTS)
def request_render_due(request: HttpRequest) -> HttpResponse:
    """Render every due request in the user's scope in one action."""
    user: Any = request.user
    due = selectors.requests_due(user, services.due_horizon())
    try:
        delivered = services.data_requests_render_due(actor=user, requests=due)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("reports:request_list")
    if delivered:
        messages.success(
            request,
            _("%(n)d forms are being made; they appear below as they are ready.")
            % {"n": len(delivered)},
        )
    else:
        messages.info(request, _("Nothing is due."))
    return redirect("reports:request_list")


@perm_required(Perm.VIEW_REPORTS)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    req = get_object_or_404(selectors.requests_visible(user), pk=pk)
    deliveries = selectors.deliveries_visible(user).filter(request=req)
    return render(request, "reports/request_detail.html", {"req": req, "deliveries": deliveries})
