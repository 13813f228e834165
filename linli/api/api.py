"""The HTTP API (``/api/v1/``): one NinjaAPI, one router per resource, OpenAPI 3 at
``/api/v1/openapi.json`` and a locally served docs page at ``/api/v1/docs/``.

Operations are thin: they parse input, call a selector (scoped reads) or a register service
(writes), and shape the answer. Errors have one form: ``{"detail": ..., "errors": {...}}``.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from linli.api.auth import API_AUTH
from linli.api.docs import LocalSwaggerDocs
from linli.api.routers import areas, buildings, dwellings, estates, households, orders, persons
from linli.reports.api import router as reports_router

DESCRIPTION = """
The Linli register over HTTP, for departments' systems and workers' tools.

**Authentication.** Send a token issued with `linli issue_token` as
`Authorization: Bearer lnl_…`. A user signed in to the workbench may also call the API
with their session (unsafe methods then need the `X-CSRFToken` header, which this page adds).
No or a revoked token: 401. A user whose roles do not include use of the API: 403.

**Scope.** Every answer holds only what the caller's roles cover: the nodes they are bound to
and everything below. An object outside that scope answers 404, exactly as one that does not
exist. Doing what one's role does not allow on an object one can see answers 403.

**Personal data.** National ID and phone are always masked; the `reveal` operation returns a
full value with a stated reason, and is audited. Every write is audited (channel `api`).

**Lists** take `limit` (at most 200) and `offset` and answer `{"count": n, "items": [...]}`.

**Errors** answer `{"detail": "...", "errors": {"field": ["..."]}}`: 422 for invalid input,
with messages per field.
"""

api = NinjaAPI(
    title="Linli API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=API_AUTH,
    docs=LocalSwaggerDocs(),
    # The docs page has its own URL name ("api:docs"), see linli/api/urls.py.
    docs_url=None,
)

api.add_router("/areas", areas.router)
api.add_router("/estates", estates.router)
api.add_router("/buildings", buildings.router)
api.add_router("/dwellings", dwellings.router)
api.add_router("/households", households.router)
api.add_router("/persons", persons.router)
api.add_router("/orders", orders.router)
api.add_router("/reports", reports_router)
# Emergency mode (linli.emergency): events, arrivals, quarantines, check-ins.
from linli.emergency import api as emergency_api  # noqa: E402

api.add_router("/emergency-events", emergency_api.events_router)
api.add_router("/arrivals", emergency_api.arrivals_router)
api.add_router("/quarantines", emergency_api.quarantines_router)
api.add_router("/check-ins", emergency_api.checkins_router)
# Supplies and screening (linli.supplies, linli.screening): read-only lists.
from linli.screening import api as screening_api  # noqa: E402
from linli.supplies import api as supplies_api  # noqa: E402

api.add_router("/supply-requests", supplies_api.requests_router)
api.add_router("/stock-items", supplies_api.stock_router)
api.add_router("/screening-targets", screening_api.targets_router)
# Tests and vaccinations (linli.health).
from linli.health import api as health_api  # noqa: E402

api.add_router("/test-rounds", health_api.rounds_router)
api.add_router("/test-results", health_api.results_router)
api.add_router("/vaccinations", health_api.vaccinations_router)
api.add_router("/vaccination-coverage", health_api.coverage_router)


def _error(
    request: HttpRequest, status: int, detail: str, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Never echo the lookup: the same answer whether the object is absent or out of scope.
    return _error(request, 404, _("Not found."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401, _("Authentication required: send a valid bearer token or sign in.")
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, str(exc) or _("You may not do this."))


@api.exception_handler(DjangoValidationError)
def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A service refused the input: answer 422 with its messages per field."""
    if hasattr(exc, "error_dict"):
        errors: dict[str, list[str]] = {
            field: [str(m) for m in messages] for field, messages in exc.message_dict.items()
        }
    else:
        errors = {"__all__": [str(m) for m in exc.messages]}
    first = next((m for messages in errors.values() for m in messages), _("Invalid input."))
    return _error(request, 422, first, errors)


@api.exception_handler(NinjaValidationError)
def _malformed(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    """The request did not match the schema: 422 with messages per input field."""
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        loc: list[Any] = list(item.get("loc", ()))
        # Drop the source ("body", "query", "path") and ninja's name for the body argument.
        if loc and loc[0] in ("body", "query", "path"):
            loc = loc[1:]
        if len(loc) > 1 and loc[0] == "payload":
            loc = loc[1:]
        key = ".".join(str(p) for p in loc) or "__all__"
        errors.setdefault(key, []).append(str(item.get("msg", "")))
    return _error(request, 422, _("The request is not valid; see the messages per field."), errors)


# Passes and checkpoints (linli.passes): gate scans, pass checks, health codes.
from linli.passes import api as passes_api  # noqa: E402

api.add_router("/gate-scans", passes_api.scans_router)
api.add_router("/passes", passes_api.passes_router)
api.add_router("/health-codes", passes_api.health_router)
