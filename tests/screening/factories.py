"""Builders for screening tests: a matched list with found and unfound rows, campaigns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from linli.areas.models import Area
from linli.linkage.models import WatchList, WatchListEntry
from linli.register.models import Person
from linli.screening import services as svc
from linli.screening.models import ScreeningCampaign, ScreeningTarget
from tests.factories import World


def matched_list(
    area: Area, persons: list[Person], *, unfound: int = 1, name: str = "协查名单"
) -> WatchList:
    wl = WatchList.objects.create(
        name=name, area=area, file_name="list.xlsx", file_sha256=f"{name:0>64}"[:64], counts={}
    )
    row = 1
    for p in persons:
        WatchListEntry.objects.create(
            watch_list=wl, row=row, name=p.name, result="exact", person=p, score=1.0
        )
        row += 1
    for i in range(unfound):
        WatchListEntry.objects.create(
            watch_list=wl,
            row=row,
            name=f"未登记{i}",
            phone_masked="139****0000",
            result="not_found",
            origin="外地",
        )
        row += 1
    return wl


def due() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=2)


def campaign_for_list(world: World, wl: WatchList, **kw: Any) -> ScreeningCampaign:
    return svc.campaign_create(
        actor=kw.pop("actor", None),
        name=kw.pop("name", "协查排查"),
        area=kw.pop("area", world.community),
        source="watch_list",
        watch_list=wl,
        due_on=due(),
        **kw,
    )


def screening_extras(world: World) -> dict[str, Any]:
    """Grid B's campaign (a building of grid B) and its target, for the cross-grid walk."""
    campaign = svc.campaign_create(
        actor=None,
        name="乙网格排查",
        area=world.b.grid,
        source="building",
        building=world.b.building,
        due_on=due(),
    )
    return {
        "campaign_b": campaign,
        "target_b": ScreeningTarget.objects.filter(campaign=campaign).first(),
    }


def screening_snapshot() -> tuple[Any, ...]:
    from linli.screening.models import ScreeningAttempt

    return (
        list(ScreeningTarget.objects.values_list("pk", "status", "verified_at")),
        ScreeningAttempt.objects.count(),
    )
