"""Open311 GeoReport v2 (/open311/v2/): existing Open311 clients and city hotline (12345)
systems file and follow work orders.

- ``services.json``: the categories (``service_code`` = category code). Public, as the spec has it.
- ``requests.json`` GET: the requests the API key's user may see (``orders.view`` scope);
  filters ``service_request_id``, ``service_code``, ``start_date``, ``end_date``, ``status``.
- ``requests.json`` POST: files a work order (source ``open311``) in a grid the key's user
  handles orders in. Where: ``jurisdiction_id`` (a grid's code), or ``address_id`` (a dwelling
  id in scope); when the key's user handles exactly one grid, that grid.
- ``requests/{service_request_id}.json``: one request (our order number).

The API key is an ``ApiToken``, sent as the ``api_key`` parameter (as Open311 clients do) or as
``Authorization: Bearer``. Errors use GeoReport's form: ``[{"code": 400, "description": …}]``.
Only the JSON format is served.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from linli.accounts.roles import Perm
from linli.accounts.services import token_authenticate
from linli.areas.models import Area, AreaKind
from linli.audit.context import AuditContext, bind_context
from linli.core.scoping import scope_for
from linli.orders import services as svc
from linli.orders.models import OrderCategory, Source, Status, WorkOrder
from linli.orders.selectors import orders_visible
from linli.register.models import Dwelling

# Requests that are finished, one way or another, are "closed" for Open311.
CLOSED = frozenset({Status.DONE, Status.RATED, Status.CLOSED, Status.CANCELLED, Status.RETURNED})
MAX_RESULTS = 1000
DEFAULT_DAYS = 90

View = Callable[..., HttpResponse]


def _error(status: int, description: str) -> JsonResponse:
    return JsonResponse([{"code": status, "description": description}], status=status, safe=False)


def _key(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()


def with_key(view: View) -> View:
    """Resolve the API key to its user; answer 403 in GeoReport's form without a valid one."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = _key(request)
        user = token_authenticate(key) if key else None
        if user is None:
            return _error(403, _("api_key was not provided or is not valid."))
        if scope_for(user, Perm.USE_API).is_empty:
            return _error(403, _("Your role does not include use of the API."))
        ctx = AuditContext(
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
            channel="api",
        )
        with bind_context(ctx):
            return view(request, user, *args, **kwargs)

    return wrapped


def _stamp(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def request_json(order: WorkOrder) -> dict[str, Any]:
    """One order in GeoReport v2's fields (no personal data: no name, no phone)."""
    if order.department is not None and order.status in (Status.WHISTLED, Status.ANSWERED):
        agency = order.department.name
    else:
        agency = svc.level_area(order).name
    return {
        "service_request_id": order.number,
        "status": "closed" if order.status in CLOSED else "open",
        "status_notes": str(Status(order.status).label),
        "service_name": order.category.label,
        "service_code": order.category.code,
        "description": order.description or order.title,
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": _stamp(order.submitted_at),
        "updated_datetime": _stamp(order.updated_at),
        "expected_datetime": _stamp(order.due_at),
        "address": order.location,
        "address_id": None,
        "zipcode": None,
        "lat": float(order.latitude) if order.latitude is not None else None,
        "long": float(order.longitude) if order.longitude is not None else None,
        "media_url": None,
    }


def services(request: HttpRequest) -> HttpResponse:
    """GET services.json: the categories people may ask for."""
    if request.method != "GET":
        return _error(405, _("Use GET."))
    return JsonResponse(
        [
            {
                "service_code": c.code,
                "service_name": c.label,
                "description": "",
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": "",
            }
            for c in OrderCategory.objects.filter(is_active=True)
        ],
        safe=False,
    )


@csrf_exempt
@with_key
def requests(request: HttpRequest, user: Any) -> HttpResponse:
    """GET: the requests in the key's scope; POST: file a new one."""
    if request.method == "POST":
        return _create(request, user)
    if request.method != "GET":
        return _error(405, _("Use GET or POST."))
    qs = orders_visible(user).select_related("category", "department", "grid")
    ids = [i.strip() for i in request.GET.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        qs = qs.filter(number__in=ids)
    else:
        if request.GET.get("service_code"):
            codes = [c.strip() for c in request.GET["service_code"].split(",")]
            qs = qs.filter(category__code__in=codes)
        start = end = None
        for name in ("start_date", "end_date"):
            raw = request.GET.get(name)
            if raw:
                parsed = parse_datetime(raw.replace(" ", "+"))
                if parsed is None:
                    return _error(400, _("%(name)s is not an ISO 8601 date-time.") % {"name": name})
                if timezone.is_naive(parsed):
                    parsed = timezone.make_aware(parsed)
                if name == "start_date":
                    start = parsed
                else:
                    end = parsed
        if start is None and end is None:
            start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        if start is not None:
            qs = qs.filter(submitted_at__gte=start)
        if end is not None:
            qs = qs.filter(submitted_at__lte=end)
        statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            return _error(400, _("status is open or closed."))
        if statuses == {"open"}:
            qs = qs.exclude(status__in=list(CLOSED))
        elif statuses == {"closed"}:
            qs = qs.filter(status__in=list(CLOSED))
    orders = qs.order_by("-submitted_at", "-id")[:MAX_RESULTS]
    return JsonResponse([request_json(o) for o in orders], safe=False)


@csrf_exempt
@with_key
def request_detail(request: HttpRequest, user: Any, request_id: str) -> HttpResponse:
    """GET requests/{service_request_id}.json: one request, as a list of one (the spec's form)."""
    if request.method != "GET":
        return _error(405, _("Use GET."))
    order = (
        orders_visible(user)
        .select_related("category", "department", "grid")
        .filter(number=request_id)
        .first()
    )
    if order is None:
        return _error(404, _("No such service request."))
    return JsonResponse([request_json(order)], safe=False)


def _fields(request: HttpRequest) -> dict[str, str]:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return (
            {k: str(v) for k, v in body.items() if v is not None} if isinstance(body, dict) else {}
        )
    return {k: str(v) for k, v in request.POST.items()}


def _grid_for(user: Any, f: dict[str, str]) -> Area | None:
    handle = scope_for(user, Perm.HANDLE_ORDERS)
    if f.get("jurisdiction_id"):
        grid = Area.objects.filter(kind=AreaKind.GRID, code=f["jurisdiction_id"]).first()
        return grid if handle.covers(grid) else None
    if f.get("address_id", "").isdigit():
        dwelling = (
            Dwelling.objects.restrict(user, Perm.VIEW_REGISTER)
            .filter(pk=int(f["address_id"]))
            .select_related("grid")
            .first()
        )
        return dwelling.grid if dwelling is not None and handle.covers(dwelling.grid) else None
    grids = list(Area.objects.restrict(user, Perm.HANDLE_ORDERS).filter(kind=AreaKind.GRID)[:2])
    return grids[0] if len(grids) == 1 else None


def _create(request: HttpRequest, user: Any) -> HttpResponse:
    f = _fields(request)
    category = OrderCategory.objects.filter(code=f.get("service_code", ""), is_active=True).first()
    if category is None:
        return _error(400, _("service_code is missing or unknown."))
    lat = lon = None
    if f.get("lat") or f.get("long"):
        try:
            lat, lon = Decimal(f.get("lat", "")), Decimal(f.get("long", ""))
        except InvalidOperation:
            return _error(400, _("lat and long must be decimal degrees."))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return _error(400, _("lat and long must be decimal degrees."))
        lat, lon = round(lat, 6), round(lon, 6)
    address = f.get("address_string", "").strip()
    if lat is None and not address and not f.get("address_id"):
        return _error(400, _("Give a location: lat and long, address_string or address_id."))
    handled = Area.objects.restrict(user, Perm.HANDLE_ORDERS).filter(kind=AreaKind.GRID)
    if not f.get("jurisdiction_id") and not f.get("address_id") and handled.count() != 1:
        return _error(400, _("jurisdiction_id (the code of a grid) is required."))
    grid = _grid_for(user, f)
    if grid is None:
        return _error(404, _("No such jurisdiction or address in your scope."))
    description = f.get("description", "").strip()[:4000]
    name = (f.get("last_name", "") + f.get("first_name", "")).strip()
    try:
        order = svc.order_submit(
            actor=user,
            category=category,
            title=(description.splitlines()[0][:40] if description else category.label),
            description=description,
            grid=grid,
            contact_name=name,
            phone=f.get("phone", ""),
            source=Source.OPEN311,
            location=address,
            latitude=lat,
            longitude=lon,
        )
    except PermissionDenied:
        return _error(404, _("No such jurisdiction or address in your scope."))
    except ValidationError as exc:
        return _error(400, " ".join(exc.messages))
    return JsonResponse(
        [{"service_request_id": order.number, "service_notice": "", "account_id": None}],
        status=201,
        safe=False,
    )
