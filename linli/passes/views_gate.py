"""The checkpoint phone's sync endpoint: the gate page posts each queued scan here (JSON, the
session's CSRF token, an ``Idempotency-Key`` per scan). Volunteers on gate duty hold no API
right, so the page talks to the workbench; the work is the API's (``api.scan_store``)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST
from ninja.errors import HttpError
from pydantic import ValidationError as SchemaError

from linli.accounts.roles import Perm
from linli.passes import selectors as sel
from linli.passes.api import ScanIn, scan_store
from linli.workbench.views.common import perm_required


@perm_required(Perm.SCAN_PASSES)
@require_POST
def gate_sync(request: HttpRequest, pk: int) -> JsonResponse:
    user: Any = request.user
    cp = get_object_or_404(sel.checkpoints_visible(user, Perm.SCAN_PASSES), pk=pk)
    try:
        data = ScanIn.model_validate({**json.loads(request.body or b"{}"), "checkpoint": cp.pk})
        status, body = scan_store(request, user=user, checkpoint=cp, data=data)
    except (ValueError, SchemaError) as exc:
        return JsonResponse({"detail": str(exc)[:300]}, status=422)
    except ValidationError as exc:
        return JsonResponse({"detail": " ".join(exc.messages)}, status=422)
    except HttpError as exc:
        return JsonResponse({"detail": str(exc)}, status=exc.status_code)
    except PermissionDenied:
        return JsonResponse({"detail": "forbidden"}, status=403)
    return JsonResponse(body, status=status)
