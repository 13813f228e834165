"""URLs of the API, namespace ``api``: the operations, ``openapi-json`` and ``docs``."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.generic import RedirectView

from linli.api.api import api

app_name = "api"


def docs(request: HttpRequest) -> HttpResponse:
    """The API's documentation page (Swagger UI from our own static files)."""
    return api.docs.render_page(request, api)


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="api:docs", permanent=False)),
    path("docs/", docs, name="docs"),
    *api.urls[0],
]
