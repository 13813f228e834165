"""Request middleware of the core app."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class DefaultLanguageMiddleware:
    """Chinese by default, whatever language the browser advertises.

    Many workers' phones and office PCs are set to English; the product is Chinese unless the
    user picks English with the language switch (which sets the language cookie). Put before
    Django's LocaleMiddleware. LINLI_FOLLOW_BROWSER_LANGUAGE=1 restores Django's behaviour.
    The API is for programs, which ask for a language on purpose: it honours Accept-Language
    (its docs page, for people, does not).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not settings.LINLI_FOLLOW_BROWSER_LANGUAGE
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and not (request.path.startswith("/api/") and not request.path.endswith("/docs/"))
        ):
            request.META["HTTP_ACCEPT_LANGUAGE"] = settings.LANGUAGE_CODE
        return self.get_response(request)


class TrustedProxyMiddleware:
    """Behind a reverse proxy, take the client's address from X-Forwarded-For.

    Only when the request comes from an address listed in LINLI_TRUSTED_PROXIES; the header is
    read from the right, skipping trusted proxies, so a client cannot forge its address by
    sending the header itself. Everything after (the audit log, sign-in limits) then sees the
    real client in REMOTE_ADDR. Put first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = set(settings.LINLI_TRUSTED_PROXIES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        remote = request.META.get("REMOTE_ADDR", "")
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if self.trusted and remote in self.trusted and forwarded:
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            while hops and hops[-1] in self.trusted:
                hops.pop()
            if hops:
                request.META["REMOTE_ADDR"] = hops[-1]
        return self.get_response(request)
