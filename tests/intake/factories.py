"""Intake objects for tests (the scoping walk asks for grid B's batch and profile)."""

from __future__ import annotations

from linli.intake.mapping import suggest_mapping
from linli.intake.models import ImportBatch, ImportStatus, MappingProfile
from tests.factories import World

HEADERS = ["姓名", "身份证号", "楼栋", "单元", "房号"]


def batch_in(world_grid_area: object, *, status: str = ImportStatus.PREVIEWED) -> ImportBatch:
    """A previewed batch in an area, with a (non-existent) error file path."""
    batch, _created = ImportBatch.objects.get_or_create(
        area=world_grid_area,  # type: ignore[misc]
        file_name="乙网格花名册.xlsx",
        defaults={
            "source": "网格花名册",
            "file_sha256": "0" * 64,
            "status": status,
            "headers": HEADERS,
            "header_row": 1,
            "mapping": suggest_mapping(HEADERS).to_dict(),
            "counts": {"read": 2, "created": 1, "updated": 0, "unchanged": 0, "rejected": 1},
            "rows_total": 2,
            "rows_done": 2,
            "error_file": "/nonexistent/intake/1.csv",
            "rejected_sample": [{"row": 3, "cells": ["李乙"], "reason": "姓名为空。"}],
        },
    )
    return batch


def batch_b(world: World) -> ImportBatch:
    return batch_in(world.b.grid)


def profile_b(world: World) -> MappingProfile:
    profile, _created = MappingProfile.objects.get_or_create(
        area=world.b.grid,
        name="乙网格月报",
        defaults={"source": "网格花名册", "mapping": suggest_mapping(HEADERS).to_dict()},
    )
    return profile
