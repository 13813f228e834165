"""Workbench pages of the linkage app (/w/linkage/): the review queue of possible duplicates,
the follow-up queue of flagged persons, received lists and concern categories.

Thin: each view reads through ``selectors`` and writes through ``services``. Objects outside
the user's scope are absent from the selectors' querysets, so they answer 404.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Perm
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.core.feedback import flash_error
from linli.linkage import runs, trust
from linli.linkage import selectors as sel
from linli.linkage import services as svc
from linli.linkage.forms import CategoryForm, ListUploadForm
from linli.linkage.models import (
    ConcernCategory,
    EntryResult,
    FieldGroup,
    FlagStatus,
    ListMatchRun,
    MergeCandidate,
    RunStatus,
)
from linli.linkage.reasons import DECISION_LABELS, reason_labels
from linli.register.models import Person
from linli.workbench.views.common import paginate, perm_required, progress_partial

# --- the review queue ------------------------------------------------------------------------


def _side(person: Person) -> dict[str, Any]:
    dwelling = person.household.dwelling if person.household and person.household.dwelling else None
    return {
        "person": person,
        "address": dwelling.address if dwelling else "",
        "source": (person.provenance.get("name") or {}).get("source", ""),
    }


def _compare_rows(candidate: MergeCandidate, rules: trust.TrustRules) -> list[dict[str, Any]]:
    left, right = candidate.left, candidate.right
    decisions = {d.group: d for d in trust.resolve(left, right, rules=rules)}
    shown: list[tuple[str, str, Any, Any]] = [
        (_("Name"), FieldGroup.NAME, left.name, right.name),
        (_("National ID"), FieldGroup.IDENTITY, left.id_masked, right.id_masked),
        (_("Birth date"), "", left.birth_date, right.birth_date),
        (_("Sex"), "", left.get_sex_display(), right.get_sex_display()),
        (_("Phone"), FieldGroup.CONTACT, left.phone_masked, right.phone_masked),
        (
            _("Residency"),
            FieldGroup.RESIDENCY,
            left.get_residency_display(),
            right.get_residency_display(),
        ),
        (_("Notes"), FieldGroup.NOTES, left.notes, right.notes),
    ]
    rows = []
    for label, group, a, b in shown:
        d = decisions.get(group) if group else None
        rows.append(
            {
                "label": label,
                "group": group,
                "left": a,
                "right": b,
                "differs": bool(a) and bool(b) and a != b,
                "undecided": d is not None and d.choice is None,
                "rule": d.why in ("newest", "trusted") if d is not None else False,
                "takes_right": d is not None and d.choice == trust.ABSORB,
                "decision": DECISION_LABELS.get(d.why, "") if d is not None else "",
            }
        )
    return rows


@perm_required(Perm.REVIEW_DUPLICATES)
def review(request: HttpRequest) -> HttpResponse:
    """Possible duplicates in the user's scope, side by side; open ones or decided ones."""
    user: Any = request.user
    decided = request.GET.get("decided") == "1"
    page = paginate(request, sel.candidates_for_review(user=user, decided=decided), per_page=20)
    rules: dict[int, trust.TrustRules] = {}
    rows = []
    for c in page.object_list:
        if c.left.grid_id not in rules:
            rules[c.left.grid_id] = trust.TrustRules.for_grid(c.left.grid)
        rows.append(
            {
                "candidate": c,
                "left": _side(c.left),
                "right": _side(c.right),
                "reasons": reason_labels(c.reasons),
                "fields": _compare_rows(c, rules[c.left.grid_id]) if not decided else [],
            }
        )
    return render(request, "linkage/review.html", {"page": page, "rows": rows, "decided": decided})


@require_POST
@perm_required(Perm.REVIEW_DUPLICATES)
def review_refresh(request: HttpRequest) -> HttpResponse:
    """Look for new duplicates in the user's whole scope, in the background."""
    from django.db import transaction

    from linli.areas.models import Area
    from linli.core.scoping import scope_for
    from linli.linkage.tasks import find_candidates

    paths = scope_for(request.user, Perm.REVIEW_DUPLICATES).paths
    for area_id in Area.objects.filter(path__in=paths).values_list("pk", flat=True):
        transaction.on_commit(functools.partial(find_candidates, area_id))
    messages.info(
        request,
        _("Looking for duplicates in the background; new pairs appear here in a few minutes."),
    )
    return redirect("linkage:review")


def _candidate(request: HttpRequest, pk: int, *, decided: bool) -> MergeCandidate:
    return get_object_or_404(sel.candidates_for_review(user=request.user, decided=decided), pk=pk)


@require_POST
@perm_required(Perm.REVIEW_DUPLICATES)
def candidate_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge one pair: the record chosen in the form is kept, undecided fields as chosen."""
    candidate = _candidate(request, pk, decided=False)
    choices = {}
    for group in FieldGroup.values:
        picked = request.POST.get(f"take_{group}")
        if picked in ("left", "right"):
            choices[group] = picked
    keep_left = request.POST.get("keep", "left") != "right"
    # Field choices are given as left/right; the service speaks of kept/absorbed.
    mapped = {
        g: (trust.KEEP if (v == "left") == keep_left else trust.ABSORB) for g, v in choices.items()
    }
    try:
        svc.candidate_merge(
            actor=request.user,
            candidate=candidate,
            keep_left=keep_left,
            choices=mapped,
            reason=request.POST.get("reason", "").strip()[:200],
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            _("The two records were merged. You can undo this under “Decided”."),
        )
    return redirect("linkage:review")


@require_POST
@perm_required(Perm.REVIEW_DUPLICATES)
def candidate_keep_apart(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate(request, pk, decided=False)
    try:
        svc.candidate_keep_apart(actor=request.user, candidate=candidate)
    except ValidationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Kept apart: these two will not be proposed again."))
    return redirect("linkage:review")


@require_POST
@perm_required(Perm.REVIEW_DUPLICATES)
def candidate_undo(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate(request, pk, decided=True)
    try:
        svc.candidate_undo(actor=request.user, candidate=candidate)
    except ValidationError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Undone: the pair is waiting for review again."))
    return redirect(f"{_review_url()}?decided=1")


def _review_url() -> str:
    from django.urls import reverse

    return reverse("linkage:review")


# --- the follow-up queue ---------------------------------------------------------------------


@perm_required(Perm.FOLLOW_UP_FLAGS)
def followups(request: HttpRequest) -> HttpResponse:
    """Flagged persons to follow up, in the user's scope, filtered by status and category."""
    status = request.GET.get("status", FlagStatus.OPEN)
    if status not in FlagStatus.values and status != "all":
        status = FlagStatus.OPEN
    category = request.GET.get("category", "")
    qs = sel.flags_for_follow_up(
        user=request.user, status="" if status == "all" else status, category=category
    )
    page = paginate(request, qs, per_page=30)
    return render(
        request,
        "linkage/followups.html",
        {
            "page": page,
            "status": status,
            "statuses": FlagStatus.choices,
            "category": category,
            "categories": sel.categories(),
        },
    )


@require_POST
@perm_required(Perm.FOLLOW_UP_FLAGS)
def flag_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Follow up (with a note), close or reopen one flag."""
    flag = get_object_or_404(sel.flags_for_follow_up(user=request.user), pk=pk)
    if action not in ("follow_up", "close", "reopen"):
        raise Http404
    try:
        svc.flag_transition(
            actor=request.user, flag=flag, action=action, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        flash_error(request, exc)
    else:
        done = {
            "follow_up": _("Marked as followed up."),
            "close": _("Closed."),
            "reopen": _("Open again."),
        }
        messages.success(request, f"{flag.person.name}: {done[action]}")
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/w/linkage/followups/") else "linkage:followups")


# --- received lists --------------------------------------------------------------------------


@perm_required(Perm.MATCH_LISTS)
def lists(request: HttpRequest) -> HttpResponse:
    """Lists matched against areas in the user's scope, newest first."""
    page = paginate(request, sel.watch_lists(user=request.user), per_page=30)
    working = sel.list_runs(user=request.user).filter(
        status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    )
    failed = sel.list_runs(user=request.user).filter(status=RunStatus.FAILED)[:5]
    return render(
        request, "linkage/lists.html", {"page": page, "working": working, "failed": failed}
    )


@perm_required(Perm.MATCH_LISTS)
def list_upload(request: HttpRequest) -> HttpResponse:
    """Match a received list uploaded from the workbench (the same service as `linli match`).

    A small file is matched while the worker waits; a larger one is queued for the
    background worker and the page shows its progress (runs.INLINE_MAX_BYTES). A bad file or
    a missing column answers in Chinese on the same form, with the name, area and category
    kept (a browser never keeps a chosen file)."""
    import uuid

    from django.conf import settings

    from linli.areas.models import Area, AreaKind
    from linli.intake.errors import IntakeError
    from linli.intake.jobs import upload_max_bytes

    areas = (
        Area.objects.restrict(request.user, Perm.MATCH_LISTS)
        .filter(kind__in=[AreaKind.COMMUNITY, AreaKind.GRID, AreaKind.SUBDISTRICT])
        .order_by("path")
    )
    form = ListUploadForm(request.POST or None, request.FILES or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()[:8]
        data = form.cleaned_data
        if upload.size > upload_max_bytes():
            form.add_error(
                "file",
                _("The file is larger than %(mb)d MB.") % {"mb": upload_max_bytes() // 2**20},
            )
        elif upload.size > runs.INLINE_MAX_BYTES:
            try:
                run = runs.list_run_queue(
                    actor=request.user,
                    chunks=upload.chunks(),
                    file_name=upload.name,
                    list_name=data["name"],
                    area=data["area"],
                    category=data["category"],
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                return redirect("linkage:list_run", pk=run.pk)
        else:
            folder = Path(settings.VAR_DIR) / "linkage" / "uploads"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{uuid.uuid4().hex}{suffix}"
            with path.open("wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            try:
                result = svc.watch_list_match(
                    actor=request.user,
                    path=path,
                    list_name=data["name"],
                    area=data["area"],
                    category=data["category"],
                )
            except IntakeError as exc:
                form.add_error("file", str(exc.message))
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, _counts_text(result.counts))
                return redirect("linkage:list_detail", pk=result.watch_list.pk)
            finally:
                # The uploaded copy holds plaintext IDs: it is not kept (the list's entries
                # are masked; the rows not found are in the report file).
                path.unlink(missing_ok=True)
    return render(request, "linkage/list_upload.html", {"form": form})


def _counts_text(counts: dict[str, int]) -> str:
    return (
        _(
            "Read %(rows)d rows: %(exact)d found, %(probable)d probably found, "
            "%(not_found)d not in the register, %(rejected)d unreadable"
        )
        % counts
    )


def _run_context(run: ListMatchRun) -> dict[str, Any]:
    working = run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    return {"run": run, "progress": runs.list_run_progress(run), "working": working}


@perm_required(Perm.MATCH_LISTS)
def list_run(request: HttpRequest, pk: int) -> HttpResponse:
    """A list being matched in the background: its progress bar (which survives leaving
    the page); once done, the list itself."""
    run = get_object_or_404(sel.list_runs(user=request.user), pk=pk)
    if run.status == RunStatus.DONE and run.watch_list is not None:
        messages.success(request, _counts_text(run.watch_list.counts))
        return redirect("linkage:list_detail", pk=run.watch_list.pk)
    return render(request, "linkage/list_run.html", _run_context(run))


@perm_required(Perm.MATCH_LISTS)
def list_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone (htmx polls it); the page reloads when the status moved on."""
    run = get_object_or_404(sel.list_runs(user=request.user), pk=pk)
    context = _run_context(run)
    return progress_partial(
        request,
        "linkage/_run_progress.html",
        context,
        status=run.status,
        working=context["working"],
    )


@perm_required(Perm.MATCH_LISTS)
def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One list: its counts and its rows, filtered by result (not found by default)."""
    watch_list = get_object_or_404(sel.watch_lists(user=request.user), pk=pk)
    result = request.GET.get("result", EntryResult.NOT_FOUND)
    if result not in EntryResult.values:
        result = EntryResult.NOT_FOUND
    entries = sel.watch_list_entries(user=request.user, watch_list=watch_list, result=result)
    page = paginate(request, entries, per_page=50)
    rows = [{"entry": e, "reasons": reason_labels(e.reasons)} for e in page.object_list]
    return render(
        request,
        "linkage/list_detail.html",
        {
            "list": watch_list,
            "page": page,
            "rows": rows,
            "result": result,
            "results": EntryResult.choices,
        },
    )


@perm_required(Perm.MATCH_LISTS)
def list_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the rows not found (original cells, formula-escaped); the download is audited."""
    watch_list = get_object_or_404(sel.watch_lists(user=request.user), pk=pk)
    path = Path(watch_list.report_file) if watch_list.report_file else None
    if path is None or not path.is_file():
        raise Http404
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        obj=watch_list,
        area=watch_list.area,
        reason="not-found report of a received list",
    )
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{watch_list.name}-未找到.csv",
        content_type="text/csv; charset=utf-8",
    )
    # Streams the file; the workbench decorators only pass the response through.
    return cast(HttpResponse, response)


# --- concern categories ----------------------------------------------------------------------


@perm_required(Perm.MANAGE_CONCERNS)
def category_list(request: HttpRequest) -> HttpResponse:
    return render(request, "linkage/categories.html", {"categories": sel.categories()})


@perm_required(Perm.MANAGE_CONCERNS)
def category_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a category (no pk) or edit one; the form keeps what was typed on an error."""
    category = get_object_or_404(ConcernCategory, pk=pk) if pk is not None else None
    if request.method == "POST":
        form = CategoryForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                svc.category_save(
                    actor=request.user,
                    category=category,
                    code=data["code"] or "",
                    name=data["name"],
                    description=data["description"],
                    is_active=data["is_active"],
                    sort_key=data["sort_key"] or 0,
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    for err in errs:
                        form.add_error(field if field in form.fields else None, err)
            else:
                messages.success(request, _("The category was saved."))
                return redirect("linkage:category_list")
    elif category is not None:
        form = CategoryForm(
            initial={
                "code": category.code,
                "name": category.name,
                "description": category.description,
                "sort_key": category.sort_key,
                "is_active": category.is_active,
            }
        )
    else:
        form = CategoryForm()
    return render(request, "linkage/category_form.html", {"form": form, "category": category})
