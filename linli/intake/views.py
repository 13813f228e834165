"""Workbench pages of the intake (/w/intake/): upload → mapping → preview → commit, the
batch history, a batch's page with its progress, the rejected-rows download, the profiles.

Thin: they parse input, call intake.jobs / intake.profiles, and render. Batches and profiles
outside the user's scope answer 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.areas.models import Area, AreaKind
from linli.core.feedback import flash_error
from linli.intake import jobs
from linli.intake.errors import IntakeError
from linli.intake.forms import MappingForm, UploadForm
from linli.intake.mapping import FIELDS, Mapping, header_score
from linli.intake.models import ImportBatch, ImportStatus
from linli.intake.profiles import (
    mapping_profile_delete,
    mapping_profiles,
    mapping_profiles_for_area,
    profile_mapping,
)
from linli.intake.readers import _column_letter
from linli.intake.selectors import import_batch_events, import_batches
from linli.workbench.views.common import paginate, perm_required, pk_or_404, progress_partial

S = ImportStatus
#: Statuses in which the background worker has something to do (the page polls).
WORKING = (S.READING, S.QUEUED, S.RUNNING)
#: Counts shown on a batch, in this order, with their labels.
COUNT_LABELS = {
    "read": gettext_lazy("Rows read"),
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "merged": gettext_lazy("Merged into existing records"),
    "unchanged": gettext_lazy("Unchanged"),
    "rejected": gettext_lazy("Rejected rows"),
}


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    return get_object_or_404(import_batches(user=request.user), pk=pk)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _service_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@perm_required(Perm.CHANGE_REGISTER)
def batch_list(request: HttpRequest) -> HttpResponse:
    """The imports of the user's jurisdiction, newest first."""
    page = paginate(request, import_batches(user=request.user))
    return render(request, "intake/batch_list.html", {"page": page})


@never_cache
@perm_required(Perm.CHANGE_REGISTER)
def upload(request: HttpRequest) -> HttpResponse:
    """Step 1: choose the file, the community or grid and the source."""
    user: Any = request.user
    areas = (
        Area.objects.restrict(user, Perm.CHANGE_REGISTER)
        .filter(kind__in=[AreaKind.COMMUNITY, AreaKind.GRID])
        .order_by("path")
    )
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        areas=areas,
        initial={
            "area": areas.filter(pk=_int_or_none(request.GET.get("area")) or 0).first()
            or areas.filter(kind=AreaKind.GRID).first()
            or areas.first(),
            "source": request.GET.get("source", "")[:64],
        },
    )
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        try:
            batch = jobs.batch_upload(
                actor=user,
                area=form.cleaned_data["area"],
                source=form.cleaned_data["source"],
                file_name=f.name,
                chunks=f.chunks(),
            )
        except IntakeError as exc:
            form.add_error("file", str(exc.message))
        except ValidationError as exc:
            _service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            if batch.status == S.UPLOADED:
                return redirect("intake:batch_mapping", pk=batch.pk)
            if batch.status == S.READING:
                return redirect("intake:batch_detail", pk=batch.pk)
            messages.success(
                request,
                _("The saved mapping %(name)s fits this file; the preview is under way.")
                % {"name": batch.profile.name if batch.profile else ""},
            )
            return redirect("intake:batch_detail", pk=batch.pk)
        form.mark_invalid()
    sources = sorted(set(mapping_profiles(user=user).values_list("source", flat=True)))
    return render(
        request,
        "intake/upload.html",
        {"form": form, "sources": sources, "max_mb": jobs.upload_max_bytes() // (1024 * 1024)},
    )


@never_cache
@perm_required(Perm.CHANGE_REGISTER)
def batch_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: the header row, the first rows, each column's field (fix it), the profile."""
    user: Any = request.user
    batch = _batch(request, pk)
    if batch.status not in (S.UPLOADED, S.PREVIEWED, S.FAILED) or not batch.headers:
        messages.info(
            request, _("This import is %(status)s.") % {"status": batch.get_status_display()}
        )
        return redirect("intake:batch_detail", pk=batch.pk)
    profiles = mapping_profiles_for_area(user=user, area=batch.area)
    applied = None
    if request.GET.get("profile"):
        applied = get_object_or_404(profiles, pk=pk_or_404(request.GET["profile"]))
        mapping = profile_mapping(applied, batch.headers)
    else:
        mapping = Mapping.from_dict(batch.mapping)
    default_name = applied.name if applied else (batch.profile.name if batch.profile else "")
    form = MappingForm(
        request.POST or None, mapping=mapping, initial={"profile_name": default_name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            jobs.batch_map(
                actor=user,
                batch=batch,
                mapping=form.chosen_mapping(),
                profile_name=form.cleaned_data["profile_name"],
            )
        except jobs.ImportTransitionError as exc:
            flash_error(request, exc)
            return redirect("intake:batch_detail", pk=batch.pk)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            return redirect("intake:batch_detail", pk=batch.pk)
    rows = batch.sample_rows
    columns = [
        {
            **row,
            "letter": _column_letter(row["col"].index),
            "label": FIELDS[row["col"].field] if row["col"].field else "",
            # 序号, 编号 …: known header cells that feed no field (not a question for the worker).
            "ignored": row["col"].field is None and header_score([row["col"].header]) == 1,
            "percent": round(row["col"].confidence * 100),
        }
        for row in form.column_rows()
    ]
    return render(
        request,
        "intake/mapping.html",
        {
            "batch": batch,
            "form": form,
            "columns": columns,
            "rows": rows,
            "profiles": profiles,
            "applied": applied,
        },
    )


def _counts(batch: ImportBatch) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "value": batch.counts[key]}
        for key, label in COUNT_LABELS.items()
        if key in batch.counts
    ]


@perm_required(Perm.CHANGE_REGISTER)
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3 and the history: progress, the preview's counts and rejected rows, commit."""
    batch = _batch(request, pk)
    return render(
        request,
        "intake/batch_detail.html",
        {
            "batch": batch,
            "progress": jobs.batch_progress(batch),
            "counts": _counts(batch),
            "events": import_batch_events(user=request.user, batch=batch),
            "S": {s.name: s.value for s in S},
            "working": batch.status in WORKING,
        },
    )


@perm_required(Perm.CHANGE_REGISTER)
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it). When the batch has moved on from the status
    the page was drawn with (queued → running, or the run is over) the page reloads."""
    batch = _batch(request, pk)
    working = batch.status in WORKING
    return progress_partial(
        request,
        "intake/_progress.html",
        {"batch": batch, "progress": jobs.batch_progress(batch), "working": working},
        status=batch.status,
        working=working,
    )


@require_POST
@perm_required(Perm.CHANGE_REGISTER)
def batch_commit(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the previewed batch into the register (in the background)."""
    return _queue(request, pk, dry_run=False)


@require_POST
@perm_required(Perm.CHANGE_REGISTER)
def batch_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the preview again (after a failure, or after the register was corrected)."""
    return _queue(request, pk, dry_run=True)


def _queue(request: HttpRequest, pk: int, *, dry_run: bool) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        jobs.batch_queue(actor=request.user, batch=batch, dry_run=dry_run)
    except ValidationError as exc:
        flash_error(request, exc)
    except PermissionDenied:
        raise Http404 from None
    return redirect("intake:batch_detail", pk=batch.pk)


@perm_required(Perm.CHANGE_REGISTER)
def batch_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows (original cells + 原因) as CSV; audited as an export."""
    batch = _batch(request, pk)
    path = jobs.batch_rejected_file(actor=request.user, batch=batch)
    if path is None:
        raise Http404
    suffix = _("rejected rows")
    name = f"{Path(batch.file_name).stem}-{suffix}.csv"
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type="text/csv; charset=utf-8"
    )
    return cast(HttpResponse, response)  # streamed; the decorators only pass it through


@perm_required(Perm.CHANGE_REGISTER)
def profile_list(request: HttpRequest) -> HttpResponse:
    """The saved mapping profiles of the user's jurisdiction."""
    profiles = [
        {
            "profile": p,
            "fields": [
                {"header": c["header"], "label": FIELDS[c["field"]]}
                for c in p.mapping.get("columns", [])
                if c.get("field") in FIELDS
            ],
        }
        for p in mapping_profiles(user=request.user)
    ]
    return render(request, "intake/profile_list.html", {"profiles": profiles})


@require_POST
@perm_required(Perm.CHANGE_REGISTER)
def profile_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one profile (the batches that used it keep their mapping)."""
    profile = get_object_or_404(mapping_profiles(user=request.user), pk=pk)
    mapping_profile_delete(actor=request.user, profile=profile)
    messages.success(request, _("The profile %(name)s was deleted.") % {"name": profile.name})
    return redirect("intake:profile_list")
