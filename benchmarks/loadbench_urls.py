"""Linli's URLs plus ``/bench/bare``: the peer of benchmarks/bench_load.py.

The peer is the least a Django JSON endpoint does — through the same middleware stack as every
Linli page, no database, no authentication — so the ratio says what Linli's own work costs.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from linli.urls import urlpatterns as linli_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    """A JSON answer and nothing else."""
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare", bare), *linli_urlpatterns]
