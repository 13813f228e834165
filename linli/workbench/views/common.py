"""Helpers shared by the workbench views: who may enter, htmx detection, paging, breadcrumbs."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.core.scoping import scope_for

PER_PAGE = 50

View = Callable[..., HttpResponse]


def portal_url() -> str:
    try:
        return reverse("portal:home")
    except NoReverseMatch:
        return "/p/"


def is_resident_only(user: Any) -> bool:
    """A resident's account (linked to a person, no staff binding) belongs on the portal."""
    return bool(
        getattr(user, "person_id", None) is not None
        and not user.role_bindings.filter(is_active=True).exists()
    )


def staff_required(view: View) -> View:
    """Signed-in staff only: anonymous users go to the sign-in page, residents to the portal."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if is_resident_only(user):
            return HttpResponseRedirect(portal_url())
        return view(request, *args, **kwargs)

    return wrapped


def perm_required(perm: Perm) -> Callable[[View], View]:
    """Staff holding *perm* somewhere; others get 403 (the page itself is no secret)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if scope_for(request.user, perm).is_empty:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return staff_required(inner)

    return decorator


def may(user: Any, perm: Perm, area: Area | None) -> bool:
    return scope_for(user, perm).covers(area)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def progress_partial(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: str, working: bool
) -> HttpResponse:
    """A background run's progress bar alone, which htmx polls: once the run is over, or its
    status moved on from the one the page was drawn with (``?seen=``), the page reloads."""
    from django.shortcuts import render

    response = render(request, template, context)
    if not working or request.GET.get("seen", status) != status:
        response["HX-Refresh"] = "true"
    return response


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows: past that, "2,000+" helps nobody and a wide search over a
    million persons would spend most of its time counting (SELECT count(*) over a LIMIT)."""

    cap = 2000

    @cached_property
    def count(self) -> int:
        limited: Any = self.object_list[: self.cap + 1]
        return int(limited.count())

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def paginate(
    request: HttpRequest, qs: QuerySet[Any], per_page: int = PER_PAGE, *, capped: bool = False
) -> Page[Any]:
    """One page of a queryset; the paginator counts and slices in the database."""
    cls = CappedPaginator if capped else Paginator
    return cls(qs, per_page).get_page(request.GET.get("page"))


def breadcrumb(user: Any, area: Area, *, include_self: bool = True) -> list[dict[str, Any]]:
    """Names from the top of the tree down to *area*; only nodes in scope are links."""
    chain = [*area.ancestors(), area] if include_self else area.ancestors()
    scope = scope_for(user, Perm.VIEW_REGISTER)
    return [{"area": a, "link": scope.covers(a)} for a in chain]


def pk_or_404(value: object) -> int:
    """An id taken from a query string or form: a malformed one is a missing object (404)."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise Http404 from None
