"""Limit/offset pagination shared by every list operation: ``{"count": n, "items": [...]}``."""

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field, Schema

DEFAULT_LIMIT = 50
# A department's system pages through a community (≈10,000 people) in 50 requests at most;
# larger pages would hold one request, and its transaction, for too long.
MAX_LIMIT = 200

M = TypeVar("M", bound=Model)


class PageParams(Schema):
    """Which slice of a list to return."""

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT})."
    )
    offset: int = Field(0, ge=0, description="How many items to skip.")


def paginate(queryset: QuerySet[M], page: PageParams) -> dict[str, Any]:
    """Count the whole (already scoped and filtered) list and cut one page out of it."""
    return {
        "count": queryset.count(),
        "items": list(queryset[page.offset : page.offset + page.limit]),
    }
