"""Statistics tables over HTTP (/api/v1/reports/…), for the systems above the community: as
JSON tables, and in DHIS2's dataValueSets format so a higher-level platform takes the figures
without retyping. Scoped like every read: an area outside the caller's scope answers 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from linli.accounts.roles import Perm
from linli.api.auth import caller
from linli.api.schemas import ErrorOut
from linli.areas.models import Area
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.reports import selectors
from linli.reports.models import ReportTemplate, TemplateKind
from linli.reports.spec import spec_validate

router = Router(tags=["reports"])


class StatisticsQuery(Schema):
    template: str | None = Field(
        None, description="Code of one statistics template; all of them when omitted."
    )
    period: str = Field("", max_length=20, description="Period label, e.g. 202611 (DHIS2).")


class ColumnOut(Schema):
    key: str
    label: str
    group: str


class RowOut(Schema):
    key: str = Field(description="Child area code, tag code, month or field value.")
    label: str
    values: dict[str, float | None] = Field(
        description="Figures by key; null for an average or median with no rows to take it of."
    )


class TableOut(Schema):
    template: str
    version: int
    title: str
    area: str = Field(description="Code of the area the table is for.")
    dimension: str
    columns: list[ColumnOut]
    rows: list[RowOut]
    total: dict[str, float | None]


class TablePage(Schema):
    count: int
    items: list[TableOut]


class DataValueOut(Schema):
    dataSet: str
    dataElement: str
    period: str
    orgUnit: str
    categoryOptionCombo: str | None = None
    value: str


class DataValueSetOut(Schema):
    period: str
    orgUnit: str
    completeDate: str
    dataValues: list[DataValueOut]


def _area(request: HttpRequest, area_id: int) -> tuple[Any, Area]:
    user = caller(request)
    area = get_object_or_404(Area.objects.restrict(user, Perm.VIEW_REPORTS), pk=area_id)
    return user, area


def _tables(user: Any, area: Area, query: StatisticsQuery) -> list[dict[str, Any]]:
    templates = selectors.templates_visible(user).filter(kind=TemplateKind.STATISTICS)
    if query.template:
        templates = templates.filter(code=query.template)
        if not templates.exists():
            raise Http404
    out = []
    for template in templates.order_by("code"):
        out.append(_table(user, area, template, query.period))
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        area=area,
        object_label=f"API statistics {area.code}",
        changes={"templates": [t["template"] for t in out], "format": "json"},
    )
    return out


def _table(user: Any, area: Area, template: ReportTemplate, period: str) -> dict[str, Any]:
    version = template.current()
    spec = spec_validate(version.spec)
    table = selectors.statistics(user, spec, area, period)
    *groups, total = table.stats
    return {
        "template": template.code,
        "version": version.number,
        "title": table.title,
        "area": area.code,
        "dimension": spec.dimension,
        "columns": [{"key": m.key, "label": m.label, "group": m.group} for m in spec.measures],
        "rows": [{"key": g["key"], "label": g["label"], "values": g["values"]} for g in groups],
        "total": total["values"],
    }


@router.get(
    "/statistics/{area_id}",
    response={200: TablePage, 404: ErrorOut},
    summary="Statistics tables for an area",
    description=(
        "Every statistics template the caller may use (or the one named by `template`), "
        "computed for the area from the register the caller may see: one row per child area, "
        "tag, month or value, and the total. An area outside the caller's scope: 404. Each "
        "call is written to the audit log as an export."
    ),
)
def statistics_tables(
    request: HttpRequest, area_id: int, query: Query[StatisticsQuery]
) -> dict[str, Any]:
    user, area = _area(request, area_id)
    items = _tables(user, area, query)
    return {"count": len(items), "items": items}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


@router.get(
    "/statistics/{area_id}/dhis2",
    response={200: DataValueSetOut, 404: ErrorOut},
    summary="Statistics as a DHIS2 dataValueSet",
    description=(
        "The same figures in DHIS2's dataValueSets JSON: dataSet is the template code, "
        "dataElement is `template.figure`, orgUnit the child area's code (or the area's), "
        "categoryOptionCombo the tag, month or value for tables not by area, and the total "
        "row under the area itself. `period` defaults to the current month (YYYYMM)."
    ),
)
def statistics_dhis2(
    request: HttpRequest, area_id: int, query: Query[StatisticsQuery]
) -> dict[str, Any]:
    user, area = _area(request, area_id)
    period = query.period or timezone.localdate().strftime("%Y%m")
    values: list[dict[str, Any]] = []
    for t in _tables(user, area, query):
        by_area = t["dimension"] == "child_area"
        for row in t["rows"]:
            for key, value in row["values"].items():
                if value is None:  # DHIS2 takes no value rather than an empty one
                    continue
                values.append(
                    {
                        "dataSet": t["template"],
                        "dataElement": f"{t['template']}.{key}",
                        "period": period,
                        "orgUnit": row["key"] if by_area else area.code,
                        "categoryOptionCombo": None if by_area else row["key"],
                        "value": _number(value),
                    }
                )
        if by_area:
            for key, value in t["total"].items():
                if value is None:
                    continue
                values.append(
                    {
                        "dataSet": t["template"],
                        "dataElement": f"{t['template']}.{key}",
                        "period": period,
                        "orgUnit": area.code,
                        "value": _number(value),
                    }
                )
    return {
        "period": period,
        "orgUnit": area.code,
        "completeDate": timezone.localdate().isoformat(),
        "dataValues": values,
    }
