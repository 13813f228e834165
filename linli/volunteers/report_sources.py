"""Volunteers' rows for report templates: one row per volunteer with the activities attended,
hours served and points earned, for 志愿服务时长统计表 (by grid and by volunteer).

Rows are read through ``restrict(user, volunteers.view)`` under the area (a volunteer's
``area`` is the grid they serve), like the volunteer pages. The figures are subqueries per
volunteer, so summing them by grid counts each attendance and each entry once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.reports.registry import (
    Column,
    Filter,
    Measure,
    RowSet,
    choice_label,
    register_rowset,
    register_template,
    under_area,
)
from linli.volunteers.models import (
    EntryKind,
    PointsEntry,
    Signup,
    SignupStatus,
    Volunteer,
    VolunteerKind,
    VolunteerStatus,
)


def _attended() -> QuerySet[Signup, Any]:
    return Signup.objects.filter(volunteer=OuterRef("pk"), status=SignupStatus.ATTENDED).values(
        "volunteer"
    )


def _base(user: Any, area: Any) -> QuerySet[Volunteer]:
    qs = (
        Volunteer.objects.all()
        if user is None
        else Volunteer.objects.restrict(user, Perm.VIEW_VOLUNTEERS)
    )
    earned = (
        PointsEntry.objects.filter(volunteer=OuterRef("pk"), kind=EntryKind.EARN)
        .values("volunteer")
        .annotate(s=Sum("delta"))
        .values("s")
    )
    return under_area(qs, area, "area_id").annotate(
        activities_attended=Coalesce(
            Subquery(_attended().annotate(n=Count("id")).values("n"), output_field=IntegerField()),
            0,
        ),
        hours_served=Coalesce(
            Subquery(
                _attended().annotate(s=Sum("hours")).values("s"),
                output_field=DecimalField(max_digits=9, decimal_places=2),
            ),
            Decimal("0"),
            output_field=DecimalField(max_digits=9, decimal_places=2),
        ),
        points_earned=Coalesce(Subquery(earned, output_field=IntegerField()), 0),
    )


VOLUNTEER = RowSet(
    key="volunteers.volunteer",
    label=_("Volunteers and their service"),
    unit=_("volunteers"),
    capability="volunteers",
    perm=Perm.VIEW_VOLUNTEERS,
    base=_base,
    grid_path="area_id",
    default_order=("area__path", "name", "id"),
    measures={
        m.key: m
        for m in [
            Measure(
                "activities_attended",
                _("Activities attended"),
                "activities_attended",
                kind="int",
            ),
            Measure("hours_served", _("Hours served"), "hours_served"),
            Measure("points_earned", _("Points earned"), "points_earned", kind="int"),
        ]
    },
    columns={
        c.key: c
        for c in [
            Column("name", _("Volunteer's name"), ("name",), order="name", width=10),
            Column("phone", _("Volunteer's phone"), ("phone_masked",), width=14),
            Column(
                "kind",
                _("Volunteer or party member"),
                ("kind",),
                lambda r, a: choice_label(VolunteerKind, r["kind"], a),
                order="kind",
                width=12,
            ),
            Column(
                "status",
                _("Volunteer status"),
                ("status",),
                lambda r, a: choice_label(VolunteerStatus, r["status"], a),
                order="status",
                width=8,
            ),
            Column("employer", _("Employer"), ("employer",), width=16),
            Column("area", _("Grid served"), ("area__name",), order="area__path", width=12),
            Column(
                "activities_attended",
                _("Activities attended"),
                ("activities_attended",),
                kind="int",
                order="activities_attended",
                width=8,
            ),
            Column(
                "hours_served",
                _("Hours served"),
                ("hours_served",),
                kind="decimal",
                order="hours_served",
                width=8,
            ),
            Column(
                "points_earned",
                _("Points earned"),
                ("points_earned",),
                kind="int",
                order="points_earned",
                width=8,
            ),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter(
                "status",
                _("Volunteer status"),
                "multi",
                lambda v: Q(status__in=v),
                VolunteerStatus.choices,
            ),
            Filter(
                "kind",
                _("Volunteer or party member"),
                "multi",
                lambda v: Q(kind__in=v),
                VolunteerKind.choices,
            ),
            Filter(
                "served",
                _("Attended at least one activity"),
                "choice",
                lambda v: Q(activities_attended__gt=0) if v == "yes" else Q(activities_attended=0),
                [("yes", _("Served (yes)")), ("no", _("Not served yet"))],
            ),
        ]
    },
)

register_rowset(VOLUNTEER)


_INFO = ["填报单位：{area}", "填报人：", "联系电话：", "填报日期：{date}"]
_FOOTER = ["负责人（签字）：", "审核人：", "填报人："]

register_template(
    "volunteer-hours-by-grid",
    {
        "kind": "statistics",
        "rowset": "volunteers.volunteer",
        "header": {
            "title": "{area}志愿服务时长统计表",
            "info": _INFO,
            "unit": "单位：人、次、小时、分",
            "footer": _FOOTER,
            "department": "社区党委 / 新时代文明实践站",
        },
        "filters": {"status": ["approved"]},
        "dimension": "child_area",
        "dimension_label": "辖区（网格）",
        "measures": [
            {"key": "volunteers", "label": "志愿者人数", "group": "队伍情况"},
            {
                "key": "party_members",
                "label": "其中报到党员",
                "where": {"kind": ["party_member"]},
                "group": "队伍情况",
            },
            {
                "key": "served",
                "label": "参与服务人数",
                "where": {"served": "yes"},
                "group": "队伍情况",
            },
            {
                "key": "attended",
                "label": "参加活动人次",
                "agg": "sum",
                "measure": "activities_attended",
                "group": "服务情况",
            },
            {
                "key": "hours",
                "label": "服务时长（小时）",
                "agg": "sum",
                "measure": "hours_served",
                "group": "服务情况",
            },
            {
                "key": "points",
                "label": "获得积分",
                "agg": "sum",
                "measure": "points_earned",
                "group": "服务情况",
            },
        ],
    },
)

register_template(
    "volunteer-hours-ledger",
    {
        "kind": "ledger",
        "rowset": "volunteers.volunteer",
        "header": {
            "title": "{community}志愿服务时长登记表",
            "info": _INFO,
            "footer": _FOOTER,
            "department": "社区党委 / 新时代文明实践站",
        },
        "filters": {"status": ["approved"]},
        "columns": [
            {"source": "seq", "label": "序号"},
            {"source": "name", "label": "姓名"},
            {"source": "phone", "label": "联系电话"},
            {"source": "kind", "label": "身份"},
            {"source": "area", "label": "所属网格"},
            {"source": "activities_attended", "label": "参加活动（次）", "group": "服务情况"},
            {"source": "hours_served", "label": "服务时长（小时）", "group": "服务情况"},
            {"source": "points_earned", "label": "获得积分", "group": "服务情况"},
            {"source": "manual", "label": "备注", "width": 12},
        ],
        "sort": [{"source": "hours_served", "descending": True}],
        "group_by": "area",
        "subtotals": True,
    },
)
