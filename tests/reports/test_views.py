"""The workbench pages: editor saves versions and keeps bad input, preview, render and
download, data requests in one action, template import."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.reports.models import DataRequestDelivery, RenderStatus, ReportRender, ReportTemplate
from linli.reports.services import template_copy
from tests.factories import World

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _editor_post(template: ReportTemplate, **over: Any) -> dict[str, Any]:
    spec = template.current().spec
    data: dict[str, Any] = {
        "title": spec["header"]["title"],
        "department": spec["header"].get("department", ""),
        "info": "\n".join(spec["header"].get("info", [])),
        "footer": "\n".join(spec["header"].get("footer", [])),
        "col_source": [c["source"] for c in spec["columns"]],
        "col_label": [c["label"] for c in spec["columns"]],
        "col_group": [c.get("group", "") for c in spec["columns"]],
        "col_width": [c.get("width") or "" for c in spec["columns"]],
        "filter_status": "living",
        "filter_tags_any": ["elderly_alone"],
        "group_by": "grid",
        "subtotals": "1",
        "orientation": "auto",
        "note": "改列序",
    }
    data.update(over)
    return data


def test_editor_saves_a_new_version_in_the_new_order(rworld: World) -> None:
    w = rworld
    lib = ReportTemplate.objects.get(code="elderly-alone-care")
    mine = template_copy(actor=w.head, template=lib, owner_area=w.community, code="our-elderly")
    c = _client(w.head)
    assert c.get(reverse("reports:template_edit", args=[mine.pk])).status_code == 200
    data = _editor_post(mine)
    # Put 年龄 first, drop the last column, rename 姓名.
    for key in ("col_source", "col_label", "col_group", "col_width"):
        values = data[key][:-1]
        values.insert(0, values.pop(3))
        data[key] = values
    data["col_label"][data["col_source"].index("name")] = "老人姓名"
    r = c.post(reverse("reports:template_edit", args=[mine.pk]), data)
    assert r.status_code == 302
    v2 = mine.current()
    assert v2.number == 2 and v2.note == "改列序"
    assert [col["source"] for col in v2.spec["columns"]][:3] == ["age", "seq", "name"]
    assert v2.spec["columns"][2]["label"] == "老人姓名"
    assert len(v2.spec["columns"]) == 11
    assert v2.spec["filters"] == {"status": "living", "tags_any": ["elderly_alone"]}


def test_editor_keeps_what_was_typed_on_error(rworld: World) -> None:
    w = rworld
    lib = ReportTemplate.objects.get(code="key-persons")
    mine = template_copy(actor=w.head, template=lib, owner_area=w.community, code="our-key")
    data = _editor_post(mine, title="", department="综治办（新）", filter_age_min="abc")
    r = _client(w.head).post(reverse("reports:template_edit", args=[mine.pk]), data)
    assert r.status_code == 422
    body = r.content.decode()
    assert "综治办（新）" in body and "未保存" in body
    assert mine.versions.count() == 1


def test_library_templates_cannot_be_edited_but_can_be_copied(rworld: World) -> None:
    w = rworld
    lib = ReportTemplate.objects.get(code="key-persons")
    c = _client(w.head)
    assert c.get(reverse("reports:template_edit", args=[lib.pk])).status_code == 403
    r = c.post(reverse("reports:template_copy", args=[lib.pk]), {"code": "kp-copy"})
    copy = ReportTemplate.objects.get(code="kp-copy")
    assert r.status_code == 302 and r["Location"] == reverse(
        "reports:template_edit", args=[copy.pk]
    )
    worker = _client(w.a.worker)
    assert worker.post(reverse("reports:template_copy", args=[lib.pk])).status_code == 403


def test_preview_shows_real_rows_in_scope(rworld: World) -> None:
    w = rworld
    lib = ReportTemplate.objects.get(code="household-roster")
    r = _client(w.a.worker).get(reverse("reports:template_preview", args=[lib.pk]))
    body = r.content.decode()
    assert "张建国" in body and "李建国" not in body
    assert w.a.householder.id_masked in body
    # The editor's unsaved form previews too.
    lib2 = ReportTemplate.objects.get(code="elderly-alone-care")
    mine = template_copy(actor=w.head, template=lib2, owner_area=w.community, code="pv")
    data = _editor_post(mine, title="预览标题{area}", area=str(w.community.pk))
    body = (
        _client(w.head)
        .post(reverse("reports:template_preview", args=[mine.pk]), data)
        .content.decode()
    )
    assert "预览标题测试社区" in body and "张建国" in body and "李建国" in body


def test_render_then_download(rworld: World, django_capture_on_commit_callbacks: Any) -> None:
    w = rworld
    lib = ReportTemplate.objects.get(code="household-roster")
    c = _client(w.a.worker)
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            reverse("reports:render_create"),
            {"template": lib.pk, "area": w.a.grid.pk, "format": "csv"},
        )
    made = ReportRender.objects.get()
    assert r["Location"] == reverse("reports:render_detail", args=[made.pk])
    assert made.status == RenderStatus.DONE
    page = c.get(r["Location"]).content.decode()
    assert "100%" in page and reverse("reports:render_download", args=[made.pk]) in page
    download = c.get(reverse("reports:render_download", args=[made.pk]))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "张建国" in text and "李建国" not in text
    assert (
        _client(w.b.worker).get(reverse("reports:render_download", args=[made.pk])).status_code
        == 404
    )
    # An area outside the worker's scope is not among the choices: nothing is made.
    c.post(
        reverse("reports:render_create"), {"template": lib.pk, "area": w.b.grid.pk, "format": "csv"}
    )
    assert ReportRender.objects.count() == 1


def test_data_requests_page_renders_all_due(
    rworld: World, django_capture_on_commit_callbacks: Any
) -> None:
    w = rworld
    c = _client(w.head)
    for code, dept in (("grid-population", "街道办"), ("floating-population", "派出所")):
        t = ReportTemplate.objects.get(code=code)
        r = c.post(
            reverse("reports:request_create"),
            {
                "department": dept,
                "template": t.pk,
                "area": w.community.pk,
                "due_on": "2020-01-01",
                "recurrence": "monthly",
                "format": "xlsx",
                "period": "2020年1月",
            },
        )
        assert r.status_code == 302
    page = c.get(reverse("reports:request_list")).content.decode()
    assert "街道办" in page and "派出所" in page
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("reports:request_render_due"))
    assert DataRequestDelivery.objects.count() == 2
    page = c.get(reverse("reports:request_list")).content.decode()
    assert "2020-02-01" in page  # monthly: next due date
    # Bad input: a clear message, nothing registered.
    c.post(reverse("reports:request_create"), {"department": "", "due_on": "x"})
    assert DataRequestDelivery.objects.count() == 2


def test_import_a_template_file(rworld: World) -> None:
    w = rworld
    lib = ReportTemplate.objects.get(code="key-persons")
    c = _client(w.head)
    exported = c.get(reverse("reports:template_export", args=[lib.pk]))
    data = json.loads(exported.content)
    upload = io.BytesIO(json.dumps(data, ensure_ascii=False).encode())
    upload.name = "key-persons.json"
    r = c.post(reverse("reports:template_import"), {"file": upload, "code": "kp-imported"})
    t = ReportTemplate.objects.get(code="kp-imported")
    assert r["Location"] == reverse("reports:template_detail", args=[t.pk])
    assert t.current().spec == lib.current().spec and t.owner_area == w.community
    bad = io.BytesIO(b"not json")
    bad.name = "x.json"
    r = c.post(reverse("reports:template_import"), {"file": bad}, follow=True)
    assert (
        "不是邻里报表模板文件" in r.content.decode() or "This is not a Linli" in r.content.decode()
    )
