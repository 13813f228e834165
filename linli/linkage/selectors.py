"""Scoped reads of the linkage app: every page and command reads through here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from linli.accounts.roles import Perm
from linli.linkage.models import (
    CandidateStatus,
    ConcernCategory,
    ConcernFlag,
    ListMatchRun,
    MergeCandidate,
    WatchList,
    WatchListEntry,
)


def candidates_for_review(*, user: Any, decided: bool = False) -> QuerySet[MergeCandidate]:
    """Pairs whose two persons are both in the user's scope; open ones or decided ones."""
    qs = MergeCandidate.objects.restrict(user, Perm.REVIEW_DUPLICATES)
    if decided:
        qs = qs.exclude(status=CandidateStatus.OPEN).order_by("-decided_at", "-id")
    else:
        qs = qs.filter(status=CandidateStatus.OPEN).order_by("-score", "id")
    return qs.select_related(
        "left__household__dwelling",
        "right__household__dwelling",
        "left__grid",
        "right__grid",
        "decided_by",
        "merge",
    )


def flags_for_follow_up(
    *, user: Any, status: str = "", category: str = ""
) -> QuerySet[ConcernFlag]:
    """Flags in the user's scope (a grid worker: their grid), filtered by status and category."""
    qs = ConcernFlag.objects.restrict(user, Perm.FOLLOW_UP_FLAGS)
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category__code=category)
    return qs.select_related(
        "person__household__dwelling", "category", "watch_list", "entry", "grid", "followed_up_by"
    ).order_by("status", "-created_at", "-id")


def watch_lists(*, user: Any) -> QuerySet[WatchList]:
    return WatchList.objects.restrict(user, Perm.MATCH_LISTS).select_related("area", "category")


def watch_list_entries(*, user: Any, watch_list: WatchList, result: str = "") -> QuerySet[Any]:
    qs = WatchListEntry.objects.restrict(user, Perm.MATCH_LISTS).filter(watch_list=watch_list)
    if result:
        qs = qs.filter(result=result)
    return qs.select_related("person").order_by("row")


def categories(*, active_only: bool = False) -> QuerySet[ConcernCategory]:
    qs = ConcernCategory.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def list_runs(*, user: Any) -> QuerySet[ListMatchRun]:
    """Background list matches of areas in the user's scope."""
    return ListMatchRun.objects.restrict(user, Perm.MATCH_LISTS).select_related(
        "area", "watch_list"
    )
