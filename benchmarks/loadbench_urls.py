"""Linli's URLs plus ``/bench/bare``: the peer of benchmarks/bench_load.py, and
``/bench/pass-verify``: the offline pass check served over HTTP so it is comparable to the peer.

The peer is the least a Django JSON endpoint does — through the same middleware stack as every
Linli page, no database, no authentication — so the ratio says what Linli's own work costs.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from linli.passes.signing import verify_token
from linli.urls import urlpatterns as linli_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    """A JSON answer and nothing else."""
    return JsonResponse({"ok": True})


def pass_verify(request: HttpRequest) -> JsonResponse:
    """What a gate phone does offline: ``verify_token`` on the code in ``?token=`` (signature,
    key version, validity window; no database, no authentication, like the peer). A refused
    code answers 422 so that wrk counts it as an error: every code the benchmark sends is a
    valid pass."""
    result = verify_token(request.GET.get("token", ""))
    body = result.body
    return JsonResponse(
        {
            "ok": result.ok,
            "reason": result.reason,
            "pass_id": body.pass_id if body is not None else None,
            "holder_masked": body.holder_masked if body is not None else "",
        },
        status=200 if result.ok else 422,
    )


urlpatterns = [
    path("bench/bare", bare),
    path("bench/pass-verify", pass_verify),
    *linli_urlpatterns,
]
