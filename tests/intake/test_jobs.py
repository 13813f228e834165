"""The workbench import flow in services: upload, mapping, queued preview and commit run as
a task (huey immediate in tests), progress, the state machine, failures, scope."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from linli.audit.models import AuditEntry
from linli.intake import jobs
from linli.intake.errors import IntakeError
from linli.intake.jobs import (
    ImportTransitionError,
    batch_map,
    batch_progress,
    batch_queue,
    batch_upload,
    mask_cell,
)
from linli.intake.mapping import ColumnMatch, Mapping
from linli.intake.models import ImportBatch, ImportEvent, ImportStatus, MappingProfile
from linli.register.models import Person
from tests.factories import World
from tests.intake.test_import import _xlsx

S = ImportStatus


@pytest.fixture
def var(tmp_path: Path, settings: Any) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def roster(world: World, tmp_path: Path, var: Path) -> Path:
    return _xlsx(tmp_path / "花名册.xlsx", world)


def _upload(world: World, path: Path, source: str = "网格花名册", **kw: Any) -> ImportBatch:
    return batch_upload(
        actor=kw.pop("actor", world.a.worker),
        area=kw.pop("area", world.a.grid),
        source=source,
        file_name=path.name,
        chunks=[path.read_bytes()],
    )


def _statuses(batch: ImportBatch) -> list[str]:
    return list(batch.events.order_by("id").values_list("status", flat=True))


def test_upload_stores_the_file_per_batch_and_reads_the_header(
    world: World, roster: Path, var: Path
) -> None:
    batch = _upload(world, roster)
    assert batch.status == S.UPLOADED
    assert (batch.header_row, batch.rows_total, batch.source) == (2, 5, "网格花名册")
    assert batch.headers[:3] == ["序号", "姓名", "身份证号"]
    stored = Path(batch.stored_file)
    assert stored == var / "intake" / "batches" / str(batch.pk) / "upload.xlsx"
    assert stored.read_bytes() == roster.read_bytes()
    assert list((var / "intake" / "batches" / "tmp").iterdir()) == []
    assert Mapping.from_dict(batch.mapping).fields["name"] == 1
    assert _statuses(batch) == [S.UPLOADED]
    assert AuditEntry.objects.filter(object_type="importbatch", action="create").count() == 1


def test_preview_then_commit_run_in_the_background_with_progress(
    world: World,
    roster: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int]] = []
    real_write = jobs.progress_write

    def spy(batch_id: int, done: int, total: int) -> None:
        seen.append((done, total))
        real_write(batch_id, done, total)

    monkeypatch.setattr(jobs, "progress_write", spy)
    batch = _upload(world, roster)
    people = Person.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        batch_map(actor=world.a.worker, batch=batch, mapping=Mapping.from_dict(batch.mapping))
    batch.refresh_from_db()
    assert batch.status == S.PREVIEWED
    assert batch.counts == {"read": 5, "created": 1, "updated": 1, "unchanged": 1, "rejected": 2}
    assert (batch.rows_done, batch.rows_total) == (5, 5)
    assert batch_progress(batch).percent == 100
    assert Person.objects.count() == people  # a preview writes nothing
    assert [r["row"] for r in batch.rejected_sample] == [6, 7]
    assert batch.rejected_sample[0]["reason"] == "身份证号校验位错误。"
    # The rejected row's ID is masked in the sample kept on the batch.
    bad_id = batch.rejected_sample[0]["cells"][2]
    assert "*" in bad_id and len(bad_id) == 18
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    assert not (jobs.batch_dir(batch.pk) / "progress.json").exists()

    with django_capture_on_commit_callbacks(execute=True):
        batch_queue(actor=world.a.worker, batch=batch, dry_run=False)
    batch.refresh_from_db()
    assert batch.status == S.COMMITTED
    assert batch.committed_at is not None
    assert Person.objects.count() == people + 1
    assert Path(batch.error_file).exists()
    assert _statuses(batch) == [
        S.UPLOADED,
        S.QUEUED,
        S.RUNNING,
        S.PREVIEWED,
        S.QUEUED,
        S.RUNNING,
        S.COMMITTED,
    ]
    assert list(batch.events.values_list("note", flat=True).filter(status=S.QUEUED)) == [
        "预览",
        "提交",
    ]
    # Committing again is refused by the state machine and changes nothing.
    with pytest.raises(ImportTransitionError) as exc:
        batch_queue(actor=world.a.worker, batch=batch, dry_run=False)
    assert "只有已预览的导入才能提交" in exc.value.messages[0]
    with pytest.raises(ImportTransitionError):
        batch_queue(actor=world.a.worker, batch=batch, dry_run=True)
    assert Person.objects.count() == people + 1
    assert ImportEvent.objects.filter(batch=batch).count() == 7


def test_commit_needs_a_preview_first(world: World, roster: Path) -> None:
    batch = _upload(world, roster)
    with pytest.raises(ImportTransitionError):
        batch_queue(actor=world.a.worker, batch=batch, dry_run=False)
    batch.refresh_from_db()
    assert batch.status == S.UPLOADED


def test_a_queued_batch_runs_once(
    world: World, roster: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    batch = _upload(world, roster)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch_map(actor=world.a.worker, batch=batch, mapping=Mapping.from_dict(batch.mapping))
    assert len(callbacks) == 1
    batch.refresh_from_db()
    assert batch.status == S.QUEUED
    assert batch_progress(batch).done == 0
    jobs.batch_run(batch_id=batch.pk)
    jobs.batch_run(batch_id=batch.pk)  # a duplicate delivery: nothing happens
    assert _statuses(batch).count(S.RUNNING) == 1


def test_next_months_file_from_the_same_source_needs_no_questions(
    world: World,
    roster: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    first = _upload(world, roster)
    with django_capture_on_commit_callbacks(execute=True):
        batch_map(
            actor=world.a.worker,
            batch=first,
            mapping=Mapping.from_dict(first.mapping),
            profile_name="网格月报",
        )
    profile = MappingProfile.objects.get()
    assert (profile.name, profile.source, profile.area) == ("网格月报", "网格花名册", world.a.grid)
    again = _xlsx(tmp_path / "12月.xlsx", world, title="12月花名册")
    with django_capture_on_commit_callbacks(execute=True):
        second = _upload(world, again)
    assert second.status == S.QUEUED  # what the upload page sees: no mapping page
    second.refresh_from_db()
    assert second.profile == profile
    assert second.status == S.PREVIEWED  # mapped by the profile, previewed at once
    # Another source's file still asks.
    third = _upload(world, again, source="派出所")
    assert third.status == S.UPLOADED and third.profile is None


def test_refused_uploads_store_nothing(world: World, tmp_path: Path, var: Path) -> None:
    junk = tmp_path / "名单.xlsx"
    junk.write_bytes(b"\x00\x01binary junk" * 10)
    with pytest.raises(IntakeError) as exc:
        _upload(world, junk)
    assert exc.value.code == "not_spreadsheet"
    pdf = tmp_path / "名单.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(IntakeError) as exc:
        _upload(world, pdf)
    assert exc.value.code == "unsupported_format"
    assert not ImportBatch.objects.exists()
    tmp_dir = var / "intake" / "batches" / "tmp"
    assert not tmp_dir.exists() or list(tmp_dir.iterdir()) == []


def test_upload_size_limit(world: World, roster: Path, settings: Any) -> None:
    settings.LINLI_INTAKE_UPLOAD_MAX_MB = 0
    with pytest.raises(IntakeError) as exc:
        _upload(world, roster)
    assert exc.value.code == "file_too_large"
    assert not ImportBatch.objects.exists()


def test_a_committed_file_cannot_be_uploaded_again(
    world: World, roster: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    batch = _upload(world, roster)
    with django_capture_on_commit_callbacks(execute=True):
        batch_map(actor=world.a.worker, batch=batch, mapping=Mapping.from_dict(batch.mapping))
    with django_capture_on_commit_callbacks(execute=True):
        batch_queue(actor=world.a.worker, batch=batch, dry_run=False)
    with pytest.raises(IntakeError) as exc:
        _upload(world, roster)
    assert exc.value.code == "already_imported"
    assert f"批次 {batch.pk}" in str(exc.value.message)
    assert ImportBatch.objects.count() == 1


def test_unusable_mapping_is_refused_and_changes_nothing(world: World, roster: Path) -> None:
    batch = _upload(world, roster)
    before = batch.mapping
    cols = [
        ColumnMatch(c.index, c.header, None if c.field == "name" else c.field, c.confidence)
        for c in Mapping.from_dict(batch.mapping).columns
    ]
    with pytest.raises(ValidationError):
        batch_map(actor=world.a.worker, batch=batch, mapping=Mapping(columns=cols))
    batch.refresh_from_db()
    assert (batch.status, batch.mapping) == (S.UPLOADED, before)
    assert not MappingProfile.objects.exists()


def test_the_sibling_grid_cannot_touch_a_batch(world: World, roster: Path) -> None:
    batch = _upload(world, roster)
    with pytest.raises(PermissionDenied):
        batch_map(actor=world.b.worker, batch=batch, mapping=Mapping.from_dict(batch.mapping))
    with pytest.raises(PermissionDenied):
        batch_queue(actor=world.b.worker, batch=batch, dry_run=True)
    with pytest.raises(PermissionDenied):
        _upload(world, roster, actor=world.b.worker)
    batch.refresh_from_db()
    assert batch.status == S.UPLOADED
    assert ImportBatch.objects.count() == 1


def test_a_run_that_fails_ends_failed_with_the_reason(
    world: World,
    roster: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = _upload(world, roster)

    def boom(**kw: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("linli.intake.services.people_import", boom)
    with django_capture_on_commit_callbacks(execute=True):
        batch_map(actor=world.a.worker, batch=batch, mapping=Mapping.from_dict(batch.mapping))
    batch.refresh_from_db()
    assert batch.status == S.FAILED
    assert batch.failure == "导入因意外错误中止，未导入任何数据。"
    assert "disk on fire" not in batch.failure
    # The worker may run the preview again.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        batch_queue(actor=world.a.worker, batch=batch, dry_run=True)
    batch.refresh_from_db()
    assert (batch.status, batch.failure) == (S.PREVIEWED, "")


def test_a_worker_who_lost_the_grid_cannot_have_the_run_go_on(
    world: World, roster: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    batch = _upload(world, roster)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch_map(actor=world.a.worker, batch=batch, mapping=Mapping.from_dict(batch.mapping))
    world.a.worker.role_bindings.update(is_active=False)
    people = Person.objects.count()
    for cb in callbacks:
        cb()
    batch.refresh_from_db()
    assert batch.status == S.FAILED
    assert batch.failure == "不能修改辖区以外的记录。"
    assert Person.objects.count() == people


def test_progress_is_read_from_the_file_while_running(world: World, roster: Path) -> None:
    batch = _upload(world, roster)
    ImportBatch.objects.filter(pk=batch.pk).update(status=S.RUNNING)
    batch.refresh_from_db()
    jobs.progress_write(batch.pk, 2, 5)
    assert json.loads((jobs.batch_dir(batch.pk) / "progress.json").read_text()) == {
        "done": 2,
        "total": 5,
    }
    assert (batch_progress(batch).done, batch_progress(batch).percent) == (2, 40)


def test_mask_cell() -> None:
    assert mask_cell("110101199003071234") == "1101**********1234"
    assert mask_cell("电话 13712345678") == "电话 137****5678"
    assert mask_cell("3号楼 301") == "3号楼 301"


# --- housekeeping ---------------------------------------------------------------------------


def test_intake_clean_deletes_old_files_and_keeps_the_batches(
    world: World,
    roster: Path,
    var: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.utils import timezone

    old = _upload(world, roster)
    with django_capture_on_commit_callbacks(execute=True):
        batch_map(actor=world.a.worker, batch=old, mapping=Mapping.from_dict(old.mapping))
    old.refresh_from_db()
    upload, errors = Path(old.stored_file), Path(old.error_file)
    assert upload.exists() and errors.exists()
    ImportBatch.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=40))
    fresh = _upload(world, roster)
    out = io.StringIO()
    call_command("intake_clean", "--days", "30", stdout=out)
    assert out.getvalue().strip() == "0 个中断的导入已标记为失败；已删除 1 个导入的文件。"
    old.refresh_from_db()
    assert (old.stored_file, old.error_file, old.status) == ("", "", S.PREVIEWED)
    assert old.counts["read"] == 5  # the record stays
    assert not upload.exists() and not errors.exists()
    assert not jobs.batch_dir(old.pk).exists()
    assert Path(fresh.stored_file).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(old.pk)).count() == 1
    # A preview of a batch whose file is gone fails with a clear reason.
    with django_capture_on_commit_callbacks(execute=True):
        batch_queue(actor=world.a.worker, batch=old, dry_run=True)
    old.refresh_from_db()
    assert (old.status, old.failure) == (S.FAILED, "上传的文件已不再保存，请重新上传。")


def test_intake_clean_fails_runs_whose_worker_stopped(world: World, roster: Path) -> None:
    import os
    import time

    from django.core.management import call_command

    stuck = _upload(world, roster)
    alive = _upload(world, roster, source="另一个来源")
    ImportBatch.objects.filter(pk__in=[stuck.pk, alive.pk]).update(status=S.RUNNING)
    ImportBatch.objects.filter(pk=stuck.pk).update(updated_at=stuck.updated_at.replace(year=2020))
    jobs.progress_write(stuck.pk, 1, 5)
    jobs.progress_write(alive.pk, 1, 5)
    two_hours_ago = time.time() - 7200
    os.utime(jobs.batch_dir(stuck.pk) / "progress.json", (two_hours_ago, two_hours_ago))
    call_command("intake_clean", "--stale-minutes", "60", stdout=io.StringIO())
    stuck.refresh_from_db()
    alive.refresh_from_db()
    assert stuck.status == S.FAILED
    assert stuck.failure == "后台处理在导入过程中停止了，未导入任何数据。"
    assert alive.status == S.RUNNING


def test_people_import_reports_progress_at_most_every_percent(
    world: World, tmp_path: Path, var: Path
) -> None:
    """The contract intake.jobs relies on: (done, total) from 0 to total, rising, at most
    ~101 calls, whatever people_import does inside."""
    from linli.intake.services import people_import

    path = tmp_path / "big.csv"
    path.write_text(
        "姓名,楼栋,房号\n" + "".join(f"人{i},1号楼,{900 + i}\n" for i in range(1050)),
        encoding="utf-8",
    )
    calls: list[tuple[int, int]] = []
    result = people_import(
        actor=world.a.worker,
        path=path,
        area=world.a.grid,
        dry_run=True,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert result.counts["read"] == 1050
    assert calls[0] == (0, 1050) and calls[-1] == (1050, 1050)
    assert {t for _d, t in calls} == {1050}
    dones = [d for d, _t in calls]
    assert dones == sorted(dones)
    assert 50 <= len(calls) <= 102


# --- large files are read by the background worker -------------------------------------------


def test_a_large_upload_is_read_in_the_background(
    world: World,
    roster: Path,
    tmp_path: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.LINLI_INTAKE_INLINE_READ_KB = 1  # the 5 KB roster counts as large
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = _upload(world, roster)
    assert batch.status == S.READING
    assert (batch.headers, batch.rows_total) == ([], 0)
    for cb in callbacks:
        cb()
    batch.refresh_from_db()
    assert batch.status == S.UPLOADED
    assert (batch.header_row, batch.rows_total, batch.headers[1]) == (2, 5, "姓名")
    assert len(batch.sample_rows) == 5
    assert _statuses(batch) == [S.READING, S.UPLOADED]
    jobs.batch_read(batch_id=batch.pk)  # a duplicate delivery changes nothing
    assert _statuses(batch) == [S.READING, S.UPLOADED]
    # With a profile of the source, the large file goes on to its preview by itself.
    with django_capture_on_commit_callbacks(execute=True):
        batch_map(
            actor=world.a.worker,
            batch=batch,
            mapping=Mapping.from_dict(batch.mapping),
            profile_name="网格月报",
        )
    again = _xlsx(tmp_path / "12月.xlsx", world, title="12月花名册")
    with django_capture_on_commit_callbacks(execute=True):
        second = _upload(world, again)
    second.refresh_from_db()
    assert second.status == S.PREVIEWED
    assert _statuses(second) == [S.READING, S.UPLOADED, S.QUEUED, S.RUNNING, S.PREVIEWED]


def test_a_large_file_that_cannot_be_read_fails_with_the_readers_message(
    world: World,
    tmp_path: Path,
    var: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.LINLI_INTAKE_INLINE_READ_KB = 1
    junk = tmp_path / "名单.xlsx"
    junk.write_bytes(b"\x00\x01binary junk" * 200)
    with django_capture_on_commit_callbacks(execute=True):
        batch = _upload(world, junk)
    batch.refresh_from_db()
    assert batch.status == S.FAILED
    assert batch.failure.startswith("这个文件虽然扩展名是 Excel")
    assert _statuses(batch) == [S.READING, S.FAILED]
