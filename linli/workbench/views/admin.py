"""Review and administration pages: corrections, the audit log, users and roles, tags."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.accounts import services as acc
from linli.accounts.models import User
from linli.accounts.roles import ROLE_PERMS, ROLE_RANK, Perm
from linli.areas.models import Area
from linli.audit.selectors import audit_entries
from linli.core.feedback import add_service_errors, flash_error
from linli.core.identity import mask_phone
from linli.register import services as reg
from linli.register.models import CorrectionProposal, CorrectionStatus, Person, PersonStatus, Tag
from linli.workbench import forms as wb_forms
from linli.workbench import selectors as wb_sel
from linli.workbench.views.common import paginate, perm_required

# --- corrections proposed by residents -----------------------------------------------------


def _pending(user: Any) -> Any:
    return (
        CorrectionProposal.objects.restrict(user, Perm.REVIEW_CORRECTIONS)
        .filter(status=CorrectionStatus.PENDING)
        .select_related("person", "household__dwelling", "proposed_by")
        .order_by("created_at")
    )


def _shown_changes(proposal: CorrectionProposal) -> list[dict[str, str]]:
    """What the resident asked for; a proposed phone is shown masked like every phone."""
    labels = {"name": _("Name"), "phone": _("Phone"), "notes": _("Notes")}
    person = proposal.person
    now = {
        "name": person.name if person else "",
        "phone": person.phone_masked if person else "",
        "notes": person.notes if person else "",
    }
    rows = []
    for key, value in proposal.changes.items():
        shown = str(value)
        if key == "phone":
            try:
                shown = mask_phone(shown)
            except Exception:
                shown = "***"
        rows.append({"field": labels.get(key, key), "now": now.get(key, ""), "value": shown})
    return rows


@perm_required(Perm.REVIEW_CORRECTIONS)
def correction_list(request: HttpRequest) -> HttpResponse:
    """Pending corrections from residents, in the user's scope, oldest first."""
    user: Any = request.user
    page = paginate(request, _pending(user))
    rows = [{"proposal": p, "changes": _shown_changes(p)} for p in page.object_list]
    return render(request, "workbench/corrections.html", {"page": page, "rows": rows})


@require_POST
@perm_required(Perm.REVIEW_CORRECTIONS)
def correction_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or reject one proposal (register.services.correction_review)."""
    user: Any = request.user
    proposal = get_object_or_404(_pending(user), pk=pk)
    form = wb_forms.CorrectionReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to accept or reject."))
        return redirect("workbench:correction_list")
    accept = form.cleaned_data["decision"] == "accept"
    try:
        reg.correction_review(
            actor=user, proposal=proposal, accept=accept, note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request,
            _("The correction was accepted.") if accept else _("The correction was rejected."),
        )
    return redirect("workbench:correction_list")


# --- the audit log -------------------------------------------------------------------------


@perm_required(Perm.VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit log as the user may see it, newest first, filtered by action."""
    user: Any = request.user
    form = wb_forms.AuditFilterForm(request.GET or None)
    action = form.cleaned_data["action"] if form.is_bound and form.is_valid() else ""
    page = paginate(request, audit_entries(user=user, action=action), capped=True)
    return render(request, "workbench/audit_list.html", {"form": form, "page": page})


# --- users and role bindings ---------------------------------------------------------------


def _manager_rank(user: Any) -> int:
    """The highest rank among the user's active bindings that carry MANAGE_USERS."""
    ranks = [
        ROLE_RANK.get(role, 0)
        for role in user.role_bindings.filter(is_active=True).values_list("role", flat=True)
        if Perm.MANAGE_USERS in ROLE_PERMS.get(role, frozenset())
    ]
    return max(ranks, default=-1)


def _grant_form_args(user: Any) -> dict[str, Any]:
    return {
        "roles": wb_forms.grantable_roles(_manager_rank(user)),
        "areas": Area.objects.restrict(user, Perm.MANAGE_USERS).order_by("path"),
    }


def _managed_users(user: Any) -> Any:
    return User.objects.filter(pk__in=wb_sel.bindings_managed(user).values("user_id"))


@perm_required(Perm.MANAGE_USERS)
def user_list(request: HttpRequest) -> HttpResponse:
    """Users bound within the manager's scope, with their bindings there."""
    user: Any = request.user
    page = paginate(request, _managed_users(user).order_by("username"))
    bindings: dict[int, list[Any]] = {}
    for b in (
        wb_sel.bindings_managed(user)
        .filter(user__in=[u.pk for u in page.object_list], is_active=True)
        .order_by("area__path")
    ):
        bindings.setdefault(b.user_id, []).append(b)
    rows = [{"user": u, "bindings": bindings.get(u.pk, [])} for u in page.object_list]
    return render(request, "workbench/users/list.html", {"page": page, "rows": rows})


@never_cache
@perm_required(Perm.MANAGE_USERS)
def user_create(request: HttpRequest) -> HttpResponse:
    """Create a staff user bound to a node in scope; a generated password is shown once."""
    user: Any = request.user
    form = wb_forms.UserCreateForm(request.POST or None, **_grant_form_args(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, generated = acc.user_create(
                actor=user,
                username=data["username"],
                password=data["password"] or None,
                role=data["role"],
                area=data["area"],
                display_name=data["display_name"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Rendered, not redirected: the generated password must not linger in a session.
            return render(
                request,
                "workbench/users/created.html",
                {"created": created, "generated": generated},
            )
    return render(request, "workbench/users/create.html", {"form": form})


@perm_required(Perm.MANAGE_USERS)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One user's bindings within the manager's scope; grant and revoke."""
    user: Any = request.user
    target = get_object_or_404(_managed_users(user), pk=pk)
    form = wb_forms.GrantForm(request.POST or None, **_grant_form_args(user))
    if request.method == "POST" and form.is_valid():
        try:
            acc.binding_grant(
                actor=user,
                user=target,
                role=form.cleaned_data["role"],
                area=form.cleaned_data["area"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The role was granted."))
            return redirect("workbench:user_detail", pk=target.pk)
    bindings = (
        wb_sel.bindings_managed(user).filter(user=target).order_by("-is_active", "area__path")
    )
    return render(
        request,
        "workbench/users/detail.html",
        {"target": target, "bindings": bindings, "form": form},
    )


@require_POST
@perm_required(Perm.MANAGE_USERS)
def binding_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """End a role binding in scope (a binding above the manager's own role gives 403)."""
    user: Any = request.user
    binding = get_object_or_404(wb_sel.bindings_managed(user).filter(is_active=True), pk=pk)
    acc.binding_revoke(actor=user, binding=binding)
    messages.success(request, _("The role was revoked."))
    return redirect("workbench:user_detail", pk=binding.user_id)


# --- tags ----------------------------------------------------------------------------------


@perm_required(Perm.MANAGE_TAGS)
def tag_list(request: HttpRequest) -> HttpResponse:
    """The configurable tag set, with how many living persons in scope carry each tag."""
    user: Any = request.user
    usage = dict(
        Person.objects.restrict(user)
        .filter(status=PersonStatus.LIVING, person_tags__isnull=False)
        .order_by()
        .values("person_tags__tag")
        .annotate(n=Count("id"))
        .values_list("person_tags__tag", "n")
    )
    rows = [{"tag": t, "persons": usage.get(t.pk, 0)} for t in Tag.objects.all()]
    return render(request, "workbench/tags/list.html", {"rows": rows})


@perm_required(Perm.MANAGE_TAGS)
def tag_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = wb_forms.TagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = reg.tag_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Tag “%(name)s” added.") % {"name": tag.name})
            return redirect("workbench:tag_list")
    return render(request, "workbench/tags/form.html", {"form": form, "tag": None})


@perm_required(Perm.MANAGE_TAGS)
def tag_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    tag = get_object_or_404(Tag, pk=pk)
    initial = {
        k: getattr(tag, k)
        for k in ("name", "name_en", "color", "description", "sort_key", "is_active")
    }
    form = wb_forms.TagForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            reg.tag_update(actor=user, tag=tag, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("workbench:tag_list")
    return render(request, "workbench/tags/form.html", {"form": form, "tag": tag})


@require_POST
@perm_required(Perm.MANAGE_TAGS)
def tag_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a tag on or off; an inactive tag stays on the persons who carry it."""
    user: Any = request.user
    tag = get_object_or_404(Tag, pk=pk)
    reg.tag_update(actor=user, tag=tag, data={"is_active": not tag.is_active})
    return redirect("workbench:tag_list")
