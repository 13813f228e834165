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
