"""Top-level routes: the workbench (/w/), the resident portal (/p/), the command view (/c/),
the API (/api/v1/)."""

from django.conf.urls.i18n import i18n_patterns  # noqa: F401
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workbench:home", permanent=False)),
    # Browsers ask for /favicon.ico whatever the page says; answer with the real icon.
    path("favicon.ico", RedirectView.as_view(url=static("linli/favicon.svg"), permanent=True)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("w/reports/", include("linli.reports.urls")),
    path("w/", include("linli.workbench.urls")),
    path("w/linkage/", include("linli.linkage.urls")),
    path("w/intake/", include("linli.intake.urls")),
    path("p/", include("linli.portal.urls")),
    path("c/", include("linli.command.urls")),
    path("api/v1/", include("linli.api.urls")),
    path("", include("linli.orders.urls")),
    path("", include("linli.volunteers.urls")),
    path("", include("linli.emergency.urls")),
    path("", include("linli.notify.urls")),
    path("", include("linli.supplies.urls")),
    path("", include("linli.screening.urls")),
    path("", include("linli.passes.urls")),
    path("", include("linli.health.urls")),
]
