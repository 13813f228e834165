"""Who is calling the API: a bearer token (integrations) or a workbench session (the docs page).

Both end in the same check: the caller must hold ``Perm.USE_API`` on some node. What they then
see is decided per operation by the scoping layer, never here.
"""

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from linli.accounts.roles import Perm
from linli.accounts.services import token_authenticate
from linli.core.scoping import scope_for

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _allow(user: Any) -> Any:
    """Return *user* when they may use the API at all; otherwise answer 403."""
    if scope_for(user, Perm.USE_API).is_empty:
        raise AuthorizationError(message=_("Your role does not include use of the API."))
    return user


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer lnl_…`` with a token issued by ``linli issue_token``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token.strip())
        if user is None:
            # Unknown, revoked or inactive: fall through to the next method, then 401.
            return None
        return _allow(user)


class SessionAuth(APIKeyCookie):
    """The signed-in workbench user (so "try it out" on the docs page works).

    Unlike ninja's own SessionAuth, an anonymous caller gets 401 (not a CSRF 403), and the
    CSRF check runs only for a signed-in user making an unsafe request.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
            raise AuthorizationError(
                message=_("CSRF check failed: send the X-CSRFToken header with this request.")
            )
        return _allow(user)


API_AUTH = [BearerTokenAuth(), SessionAuth()]


def caller(request: HttpRequest) -> Any:
    """The authenticated user of an API request (set by the auth methods above)."""
    return cast(Any, request).auth
