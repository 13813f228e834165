"""Templates and versions, the library, import/export, renders' life, data requests, burden."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from linli.audit.models import AuditEntry
from linli.reports import selectors, services
from linli.reports.library import LIBRARY
from linli.reports.models import (
    DataRequest,
    DataRequestDelivery,
    DataRequestStatus,
    RenderStatus,
    ReportRender,
    ReportRenderEvent,
    ReportTemplate,
    ReportTemplateVersion,
)
from linli.reports.registry import shipped_templates
from tests.factories import World

pytestmark = pytest.mark.django_db

SPEC = {
    "kind": "ledger",
    "rowset": "register.person",
    "header": {"title": "{area}老人名单", "info": ["填报人："]},
    "columns": [
        {"source": "seq", "label": "序号"},
        {"source": "name", "label": "姓名"},
        {"source": "age", "label": "年龄"},
        {"source": "manual", "label": "签字"},
    ],
    "filters": {"status": "living", "age_min": 60},
}


def test_library_load_is_idempotent_and_versions_changes(rworld: World, monkeypatch: Any) -> None:
    every = len(LIBRARY) + len(shipped_templates())
    assert services.library_load() == (0, 0, every)
    changed = {**LIBRARY, "key-persons": {**LIBRARY["key-persons"], "group_by": ""}}
    monkeypatch.setattr("linli.reports.library.LIBRARY", changed)
    assert services.library_load() == (0, 1, every - 1)
    t = ReportTemplate.objects.get(code="key-persons")
    assert t.current().number == 2 and t.current().spec["group_by"] == ""
    assert services.library_load() == (0, 0, every)


def test_a_capability_ships_its_own_templates(rworld: World, monkeypatch: Any) -> None:
    from linli.reports import registry

    monkeypatch.setattr(registry, "_SHIPPED", {})
    registry.register_template("later-capability-form", SPEC)
    assert services.library_load() == (1, 0, len(LIBRARY))
    t = ReportTemplate.objects.get(code="later-capability-form")
    assert t.is_library and t.current().spec["columns"][1]["source"] == "name"


def test_library_is_read_only_and_copies_are_editable(rworld: World) -> None:
    w = rworld
    lib = ReportTemplate.objects.get(code="elderly-alone-care")
    with pytest.raises(PermissionDenied):
        services.template_version_save(actor=w.head, template=lib, spec=SPEC)
    copy = services.template_copy(
        actor=w.head, template=lib, owner_area=w.community, code="my-elderly"
    )
    assert copy.current().spec == lib.current().spec and copy.owner_area == w.community
    v2 = services.template_version_save(actor=w.head, template=copy, spec=SPEC, note="shorter")
    assert (v2.number, copy.title) == (2, "{area}老人名单")
    assert list(copy.versions.values_list("number", flat=True)) == [2, 1]


def test_grid_worker_may_not_design_and_nothing_changes(rworld: World) -> None:
    w = rworld
    mine = services.template_create(actor=w.head, code="mine", spec=SPEC, owner_area=w.community)
    before = (ReportTemplate.objects.count(), ReportTemplateVersion.objects.count())
    with pytest.raises(PermissionDenied):
        services.template_create(actor=w.a.worker, code="x1", spec=SPEC, owner_area=w.a.grid)
    with pytest.raises(PermissionDenied):
        services.template_version_save(actor=w.a.worker, template=mine, spec=SPEC)
    assert (ReportTemplate.objects.count(), ReportTemplateVersion.objects.count()) == before


def test_bad_specs_get_clear_messages(rworld: World) -> None:
    w = rworld
    bad = {**SPEC, "columns": [{"source": "shoe_size", "label": "鞋码"}], "filters": {"sex": "X"}}
    with pytest.raises(ValidationError) as exc:
        services.template_create(actor=w.head, code="bad", spec=bad, owner_area=w.community)
    assert exc.value.message_dict == {
        "columns": ["未知的列内容 shoe_size。"],
        "filters": ["性别：X 不是可选值。"],
    }
    with pytest.raises(ValidationError) as exc:
        services.template_create(actor=w.head, code="Bad Code", spec=SPEC, owner_area=w.community)
    assert list(exc.value.message_dict) == ["code"]
    assert not ReportTemplate.objects.filter(code__in=["bad", "Bad Code"]).exists()


def test_export_then_import_in_another_district(rworld: World) -> None:
    w = rworld
    t = services.template_create(actor=w.head, code="share-me", spec=SPEC, owner_area=w.community)
    data = json.loads(json.dumps(services.template_export(t)))
    assert data["format"] == "linli-report-template" and data["spec"]["rowset"] == "register.person"
    imported = services.template_import(
        actor=w.admin, data=data, owner_area=w.district, code="shared"
    )
    assert imported.current().spec == t.current().spec and imported.owner_area == w.district
    with pytest.raises(ValidationError):
        services.template_import(actor=w.admin, data={"spec": {}}, owner_area=w.district)


def test_templates_seen_below_and_at_their_owner_never_beside(rworld: World) -> None:
    w = rworld
    services.template_create(actor=w.head, code="community-t", spec=SPEC, owner_area=w.community)
    leader_b_tpl = services.template_create(
        actor=None, code="b-only", spec=SPEC, owner_area=w.b.grid
    )
    codes_a = set(selectors.templates_visible(w.a.worker).values_list("code", flat=True))
    assert "community-t" in codes_a and "elderly-alone-care" in codes_a
    assert leader_b_tpl.code not in codes_a
    assert "b-only" in set(selectors.templates_visible(w.b.worker).values_list("code", flat=True))


def test_render_life_events_audit_expiry(
    rworld: World, django_capture_on_commit_callbacks: Any
) -> None:
    w = rworld
    t = ReportTemplate.objects.get(code="household-roster")
    with django_capture_on_commit_callbacks(execute=True):
        render = services.render_request(actor=w.a.worker, template=t, area=w.a.grid, fmt="xlsx")
    render.refresh_from_db()
    assert render.status == RenderStatus.DONE and render.rows_total == 3 and render.percent == 100
    assert list(
        ReportRenderEvent.objects.filter(render=render).values_list("to_status", flat=True)
    ) == ["queued", "running", "done"]
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert (entry.actor, entry.area, entry.changes["rows"]) == (w.a.worker, w.a.grid, 3)
    # Burden: 3 rows × 9 data columns delivered; 填报人/联系电话 + 3 signature lines by hand.
    assert (render.fields_delivered, render.fields_by_hand) == (27, 5)
    path = Path(render.file_path)
    assert path.exists()
    assert services.renders_expire(now=timezone.now()) == 0
    assert services.renders_expire(now=timezone.now() + dt.timedelta(hours=73)) == 1
    render.refresh_from_db()
    assert render.status == RenderStatus.EXPIRED and not path.exists() and render.file_path == ""
    with pytest.raises(ValidationError):
        services._transition(render, RenderStatus.RUNNING)


def test_downloads_follow_scope_and_reveal(rworld: World) -> None:
    w = rworld
    t = ReportTemplate.objects.get(code="household-roster")
    render = services.render_request(
        actor=w.head, template=t, area=w.b.grid, fmt="csv", enqueue=False
    )
    services.render_run(render_id=render.pk)
    assert selectors.render_downloadable(w.a.worker, render.pk) is None
    assert selectors.render_downloadable(w.b.worker, render.pk) is not None
    ReportRender.objects.filter(pk=render.pk).update(revealed=True)
    from linli.accounts.services import user_create
    from tests.factories import PASSWORD

    dept, _ = user_create(
        actor=None, username="dept", password=PASSWORD, role="department", area=w.community
    )
    assert selectors.render_downloadable(dept, render.pk) is None
    assert selectors.render_downloadable(w.b.worker, render.pk) is not None


def test_data_requests_render_due_once_and_advance(
    rworld: World, django_capture_on_commit_callbacks: Any
) -> None:
    w = rworld
    t = ReportTemplate.objects.get(code="grid-population")
    ledger = ReportTemplate.objects.get(code="household-roster")
    today = timezone.localdate()
    weekly = services.data_request_create(
        actor=w.head,
        department="街道办",
        template=t,
        area=w.community,
        due_on=today,
        recurrence="weekly",
    )
    once = services.data_request_create(
        actor=w.head,
        department="派出所",
        template=ledger,
        area=w.community,
        due_on=today + dt.timedelta(days=3),
    )
    later = services.data_request_create(
        actor=w.head,
        department="民政",
        template=t,
        area=w.community,
        due_on=today + dt.timedelta(days=30),
    )
    with pytest.raises(PermissionDenied):
        services.data_request_create(
            actor=w.a.worker, department="x", template=t, area=w.a.grid, due_on=today
        )
    with pytest.raises(ValidationError):
        services.data_request_create(
            actor=w.head, department=" ", template=t, area=w.community, due_on=today
        )
    due = selectors.requests_due(w.head, services.due_horizon())
    assert [r.pk for r in due] == [weekly.pk, once.pk]
    with django_capture_on_commit_callbacks(execute=True):
        delivered = services.data_requests_render_due(actor=w.head, requests=due)
    assert len(delivered) == 2
    weekly.refresh_from_db()
    once.refresh_from_db()
    later.refresh_from_db()
    assert weekly.due_on == today + dt.timedelta(days=7) and weekly.status == DataRequestStatus.OPEN
    assert once.status == DataRequestStatus.DONE and later.due_on == today + dt.timedelta(days=30)
    # A retry of the same action delivers nothing twice.
    assert services.data_requests_render_due(actor=w.head, requests=due) == []
    assert DataRequestDelivery.objects.count() == 2
    assert all(d.render.status == RenderStatus.DONE for d in DataRequestDelivery.objects.all())
    burden = selectors.burden(w.head)
    # grid-population: 2 grids × 12 figures; roster: 6 rows × 9 columns; by hand: 5 + 5.
    assert burden == {"delivered": 24 + 54, "by_hand": 10, "percent_saved": 89, "deliveries": 2}
    assert selectors.burden(w.a.worker)["deliveries"] == 0
    assert DataRequest.objects.count() == 3


def test_cli_lists_and_renders(rworld: World, tmp_path: Path, capsys: Any) -> None:
    w = rworld
    call_command("report", "list")
    assert "household-roster" in capsys.readouterr().out
    out = tmp_path / "out"
    call_command(
        "report",
        "render",
        "--all",
        "--area",
        w.community.code,
        "--out",
        str(out),
        "--format",
        "csv",
    )
    files = sorted(p.name for p in out.iterdir())
    every = len(LIBRARY) + len(shipped_templates())
    assert len(files) == every and all(f.startswith("测试社区-") for f in files)
    call_command(
        "report",
        "render",
        "household-roster",
        "--area",
        w.a.grid.code,
        "--out",
        str(out / "a"),
        "--as",
        w.a.worker.username,
        "--format",
        "csv",
    )
    (only,) = (out / "a").iterdir()
    text = only.read_text("utf-8-sig")
    assert "张建国" in text and "李建国" not in text
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            "report",
            "render",
            "household-roster",
            "--area",
            w.community.code,
            "--out",
            str(out),
            "--as",
            w.a.worker.username,
        )
    assert AuditEntry.objects.filter(action="export", channel="cli").count() == every + 1
