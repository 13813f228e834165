"""Large received lists: matched in the background with a progress bar that survives leaving
the page, a failure recorded with its reason, the upload never kept, other grids' runs 404;
and the command's progress line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from linli.linkage import listmatch, runs
from linli.linkage.models import ConcernCategory, ListMatchRun, RunStatus, WatchList
from tests.factories import World
from tests.linkage.test_match import city_list, write_list  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small(monkeypatch: Any, settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    # Any file counts as large here, and the batches are small so progress is reported.
    monkeypatch.setattr(runs, "INLINE_MAX_BYTES", 10)
    monkeypatch.setattr(listmatch, "BATCH_ROWS", 2)


def test_a_large_list_runs_in_the_background_then_shows_the_list(
    world: World,
    city_list: Path,  # noqa: F811
    settings: Any,
    tmp_path: Path,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    category = ConcernCategory.objects.get(code="risk_area_arrival")
    seen: list[tuple[int, int]] = []
    write = runs.progress_file_write

    def spy(path: Path, done: int, total: int) -> None:
        seen.append((done, total))
        write(path, done, total)

    monkeypatch.setattr(runs, "progress_file_write", spy)
    h = Client()
    h.force_login(world.head)
    good = SimpleUploadedFile("来返人员.csv", city_list.read_bytes())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = h.post(
            reverse("linkage:list_upload"),
            {"name": "11月来返", "area": world.community.pk, "category": category.pk, "file": good},
        )
    run = ListMatchRun.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("linkage:list_run", args=[run.pk])
    assert run.status == RunStatus.QUEUED and Path(run.stored_file).is_file()
    # Before the worker picks it up: the page shows the waiting bar, polling.
    page = h.get(r["Location"]).content.decode()
    assert "等待后台处理" in page
    assert reverse("linkage:list_run_progress", args=[run.pk]) in page
    assert h.get(reverse("linkage:lists")).content.decode().count("11月来返") == 1
    for callback in callbacks:
        callback()  # the huey task (immediate in tests)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.watch_list is not None
    assert run.watch_list.counts["rows"] == 6
    # Rows reported batch by batch (two rows a batch here), ending at the whole list.
    assert seen[0] == (0, 0) and seen[-1] == (6, 6)
    assert (2, 6) in seen and (4, 6) in seen
    assert not runs.run_dir(run.pk).exists()  # the upload (plaintext IDs) is gone
    # The progress partial asks for a reload once done; the page then is the list itself.
    partial = h.get(reverse("linkage:list_run_progress", args=[run.pk]) + "?seen=running")
    assert partial["HX-Refresh"] == "true"
    done = h.get(reverse("linkage:list_run", args=[run.pk]))
    assert done.status_code == 302
    assert done["Location"] == reverse("linkage:list_detail", args=[run.watch_list.pk])


def test_the_running_bar_reads_the_progress_file(world: World) -> None:
    run = ListMatchRun.objects.create(
        name="x", area=world.community, file_name="x.csv", status=RunStatus.RUNNING
    )
    runs.progress_file_write(runs.run_dir(run.pk) / "progress.json", 250, 1000)
    progress = runs.list_run_progress(run)
    assert (progress.done, progress.total, progress.percent) == (250, 1000, 25)
    h = Client()
    h.force_login(world.head)
    body = h.get(reverse("linkage:list_run_progress", args=[run.pk]) + "?seen=running")
    assert "250 / 1000 行 · 25%" in body.content.decode()
    assert "HX-Refresh" not in body


def test_a_bad_file_fails_with_its_reason_and_nothing_is_kept(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    h = Client()
    h.force_login(world.head)
    bad = SimpleUploadedFile("名单.csv", "甲,乙\n1,2\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        r = h.post(
            reverse("linkage:list_upload"), {"name": "坏", "area": world.community.pk, "file": bad}
        )
    run = ListMatchRun.objects.get()
    assert run.status == RunStatus.FAILED and "姓名" in run.failure
    assert WatchList.objects.count() == 0 and not runs.run_dir(run.pk).exists()
    page = h.get(r["Location"]).content.decode()
    assert run.failure in page
    assert run.failure in h.get(reverse("linkage:lists")).content.decode()


def test_another_grids_run_is_not_found(world: World) -> None:
    run = ListMatchRun.objects.create(name="乙", area=world.b.grid, file_name="b.csv")
    a = Client()
    a.force_login(world.a.worker)
    for name in ("linkage:list_run", "linkage:list_run_progress"):
        assert a.get(reverse(name, args=[run.pk])).status_code == 404
    assert "乙" not in a.get(reverse("linkage:lists")).content.decode()


def test_the_command_prints_a_progress_line(
    world: World,
    city_list: Path,  # noqa: F811
    capsys: Any,
) -> None:
    call_command("match", str(city_list), "--list-name", "x", "--area", world.community.code)
    err = capsys.readouterr().err
    assert "\r已比对 2 / 6 行（33%）" in err
    assert err.endswith("已比对 6 / 6 行（100%）\n")


def test_the_progress_file_is_json(tmp_path: Path) -> None:
    path = tmp_path / "p" / "progress.json"
    runs.progress_file_write(path, 1, 2)
    assert json.loads(path.read_text()) == {"done": 1, "total": 2}
    assert runs.progress_file_read(tmp_path / "missing.json") is None


def test_the_sqlite_page_cache_is_set_back_after_a_match(
    world: World,
    city_list: Path,  # noqa: F811
) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        before = cur.fetchone()[0]
        call_command("match", str(city_list), "--list-name", "x", "--area", world.community.code)
        cur.execute("PRAGMA cache_size")
        assert cur.fetchone()[0] == before
