"""Carry where a request came from to the audit log without threading it through every call."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from linli.audit.context import AuditContext, bind_context


class RequestContextMiddleware:
    """Record the client address, user agent and channel of the request being served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        channel = (
            "api" if path.startswith("/api/") else "portal" if path.startswith("/p/") else "web"
        )
        ctx = AuditContext(
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
            channel=channel,
        )
        with bind_context(ctx):
            return self.get_response(request)
