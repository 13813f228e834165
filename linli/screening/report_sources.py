"""Screening's rows for report templates: the people to reach and where each stands
(排查进度台账). Read through ``restrict(user, screening.view)`` under the area; phones masked."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Perm
from linli.reports.registry import (
    Column,
    Filter,
    RowSet,
    choice_label,
    register_rowset,
    under_area,
)
from linli.screening.models import ScreeningTarget, TargetStatus


def _base(user: Any, area: Any) -> QuerySet[ScreeningTarget]:
    qs = (
        ScreeningTarget.objects.all()
        if user is None
        else ScreeningTarget.objects.restrict(user, Perm.VIEW_SCREENING)
    )
    return under_area(qs, area)


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


SCREENING_TARGET = RowSet(
    key="screening.target",
    label=_("Screening targets"),
    unit=_("people to reach"),
    capability="screening",
    perm=Perm.VIEW_SCREENING,
    base=_base,
    default_order=("campaign_id", "grid__path", "id"),
    columns={
        c.key: c
        for c in [
            Column("campaign", _("Campaign name"), ("campaign__name",), order="campaign_id"),
            Column("name", _("name"), ("name",), order="name", width=10),
            Column("phone", _("phone"), ("phone_masked",), width=14),
            Column(
                "status",
                _("status"),
                ("status",),
                lambda r, a: choice_label(TargetStatus, r["status"], a),
                order="status",
                width=10,
            ),
            Column(
                "verified_at",
                _("verified at"),
                ("verified_at",),
                lambda r, a: _local(r["verified_at"]),
                width=16,
            ),
            Column("attempts", _("attempts"), ("attempts_count",), kind="int", width=8),
            Column(
                "assignee",
                _("assignee"),
                ("assignee__display_name", "assignee__username"),
                lambda r, a: r["assignee__display_name"] or r["assignee__username"] or "",
                width=12,
            ),
            Column("grid", _("Grid"), ("grid__name",), order="grid__path", width=12),
        ]
    },
    filters={
        f.key: f
        for f in [
            Filter(
                "status",
                _("status"),
                "multi",
                lambda v: Q(status__in=v),
                TargetStatus.choices,
            ),
        ]
    },
)
register_rowset(SCREENING_TARGET)
