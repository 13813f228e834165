"""Scoped reads of the reports capability: templates, renders, data requests, the burden."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet, Sum

from linli.accounts.roles import Perm
from linli.areas.models import Area
from linli.core.scoping import scope_for
from linli.reports import engine
from linli.reports.models import (
    DataRequest,
    DataRequestDelivery,
    DataRequestStatus,
    RenderStatus,
    ReportRender,
    ReportTemplate,
)
from linli.reports.spec import TemplateSpec


def templates_visible(user: Any) -> QuerySet[ReportTemplate]:
    """Templates the user may use: the library, their nodes' own and those above them."""
    return ReportTemplate.objects.restrict(user, Perm.VIEW_REPORTS).filter(is_active=True)


def templates_all(user: Any = None) -> list[ReportTemplate]:
    """For the CLI: every active template (the system), or those *user* may use."""
    qs = ReportTemplate.objects.filter(is_active=True) if user is None else templates_visible(user)
    return list(qs.select_related("owner_area").order_by("owner_area_id", "code"))


def template_editable(user: Any, template: ReportTemplate) -> bool:
    return not template.is_library and scope_for(user, Perm.DESIGN_REPORTS).covers(
        template.owner_area
    )


def areas_for_reports(user: Any) -> QuerySet[Area]:
    """The nodes the user may make reports for (the top of their scope first)."""
    return Area.objects.restrict(user, Perm.VIEW_REPORTS).order_by("depth", "path")


def design_areas(user: Any) -> QuerySet[Area]:
    return Area.objects.restrict(user, Perm.DESIGN_REPORTS).order_by("depth", "path")


def renders_visible(user: Any) -> QuerySet[ReportRender]:
    """Renders for areas in the user's scope. A file holding full values is seen only by
    users who may reveal personal data where it was made."""
    qs = ReportRender.objects.restrict(user, Perm.VIEW_REPORTS)
    reveal = scope_for(user, Perm.REVEAL_PII)
    if reveal.is_empty:
        return qs.filter(revealed=False)
    return qs.exclude(revealed=True, area__in=Area.objects.exclude(reveal.q("id")).values("id"))


def render_downloadable(user: Any, pk: int) -> ReportRender | None:
    return (
        renders_visible(user).filter(pk=pk, status=RenderStatus.DONE).exclude(file_path="").first()
    )


def requests_visible(user: Any) -> QuerySet[DataRequest]:
    return DataRequest.objects.restrict(user, Perm.VIEW_REPORTS).select_related("template", "area")


def requests_due(user: Any, on: dt.date) -> list[DataRequest]:
    return list(
        requests_visible(user)
        .filter(status=DataRequestStatus.OPEN, due_on__lte=on)
        .order_by("due_on", "id")
    )


def deliveries_visible(user: Any) -> QuerySet[DataRequestDelivery]:
    return DataRequestDelivery.objects.restrict(user, Perm.VIEW_REPORTS).select_related(
        "render", "request__template", "request__area", "delivered_by"
    )


def burden(user: Any) -> dict[str, int]:
    """The burden removed, over deliveries in scope: fields delivered from the register vs
    fields still typed by hand (see services._burden)."""
    sums = (
        deliveries_visible(user)
        .filter(render__status__in=[RenderStatus.DONE, RenderStatus.EXPIRED])
        .aggregate(d=Sum("render__fields_delivered"), h=Sum("render__fields_by_hand"))
    )
    delivered, by_hand = int(sums["d"] or 0), int(sums["h"] or 0)
    total = delivered + by_hand
    return {
        "delivered": delivered,
        "by_hand": by_hand,
        "percent_saved": round(100 * delivered / total) if total else 0,
        "deliveries": deliveries_visible(user).count(),
    }


def preview(user: Any, spec: TemplateSpec, area: Area, rows: int = 20) -> engine.Table:
    """The first rows of a template on real data in the user's scope (never revealed)."""
    return engine.build_table(spec, user=user, area=area, limit=rows)


def statistics(user: Any, spec: TemplateSpec, area: Area, period: str = "") -> engine.Table:
    return engine.build_table(spec, user=user, area=area, period=period)
