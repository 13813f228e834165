"""The templates capabilities ship from their own report_sources (emergency, orders,
volunteers): loaded with the library, rendered in every format from records made through the
capabilities' services, read back by LibreOffice with exact values, and never holding the
sibling grid's people, orders or volunteers in a grid worker's render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from linli.emergency import services as em
from linli.emergency.models import Arrival, Quarantine
from linli.orders import services as osvc
from linli.orders.models import WorkOrder
from linli.reports import registry, services
from linli.reports.library import LIBRARY
from linli.reports.models import RenderStatus, ReportTemplate
from linli.volunteers import services as vsvc
from tests.emergency.factories import DAY0, at, make_event, make_risk
from tests.factories import World, make_national_id, make_phone
from tests.orders.factories import T0, category, order_in, resident_user
from tests.orders.factories import volunteer as order_volunteer
from tests.reports.conftest import b_markers, csv_rows, soffice_text
from tests.reports.test_renders import _render, _texts
from tests.volunteers.factories import activity, approved_volunteer, attended, rules

pytestmark = pytest.mark.django_db

NEW = [
    "arrivals-register",
    "home-quarantine-monitoring",
    "work-order-statistics",
    "work-order-by-category",
    "volunteer-hours-by-grid",
    "volunteer-hours-ledger",
]
# Shipped by linli.health, tested in tests/health/test_reports.py.
HEALTH = ["test-round-statistics", "vaccination-coverage-statistics"]
H = dt.timedelta(hours=1)


@dataclass
class Records:
    arrival_a: Arrival
    arrival_b: Arrival
    quarantine_a: Quarantine
    quarantine_b: Quarantine
    orders_b: list[WorkOrder]


@pytest.fixture
def records(rworld: World, settings: Any, tmp_path: Path) -> Records:
    """Arrivals, quarantines with check-ins, work orders and volunteer service in both grids,
    each made through its capability's services."""
    w = rworld
    # Emergency: an arrival from a high-risk area starts home quarantine at once (grid A);
    # in grid B an arrival from elsewhere waits for a decision and a resident is put under
    # home health monitoring by hand.
    event = make_event(w)
    risk = make_risk(event, "high", "甲市乙区")
    arrival_a = em.arrival_register(
        actor=w.a.worker,
        event=event,
        grid=w.a.grid,
        name="王来返",
        national_id=make_national_id(dt.date(1990, 1, 2)),
        phone=make_phone(),
        arrived_on=DAY0,
        travel_mode="train",
        risk_area=risk,
        address="1号楼1单元101",
        now=at(0),
    )
    quarantine_a = Quarantine.objects.get(arrival=arrival_a)
    em.checkin_record(
        actor=w.a.worker, quarantine=quarantine_a, temperature="36.5", day=DAY0, now=at(0, 9)
    )
    em.checkin_record(
        actor=w.a.worker,
        quarantine=quarantine_a,
        temperature="36.8",
        day=DAY0 + dt.timedelta(days=1),
        now=at(1, 9),
    )
    arrival_b = em.arrival_register(
        actor=w.b.worker,
        event=event,
        grid=w.b.grid,
        name="赵来返",
        phone=make_phone(),
        arrived_on=DAY0,
        travel_mode="car",
        from_text="丙市",
        address="2号楼1单元101",
        now=at(0),
    )
    quarantine_b = em.quarantine_start(
        actor=w.b.worker,
        event=event,
        person=w.b.householder,
        kind="home_monitoring",
        reason="密接",
        now=at(0),
    )
    # Orders: in A two done and rated (5 h → 5 stars, 7 h → 3 stars) and one still open
    # past its limit; in B one open past its limit.
    vol = order_volunteer(w.a.grid, "ordervol")
    resident = resident_user(w)
    for hours, stars in ((5, 5), (7, 3)):
        o = order_in(w, now=T0)
        osvc.order_accept(actor=w.a.worker, order=o, now=T0 + H)
        osvc.order_dispatch(actor=w.a.worker, order=o, assignee=vol, now=T0 + 2 * H)
        osvc.order_take(actor=vol, order=o, now=T0 + 3 * H)
        osvc.order_start(actor=vol, order=o, now=T0 + 4 * H)
        osvc.order_finish(actor=vol, order=o, note="换了灯泡", now=T0 + hours * H)
        osvc.order_rate(actor=resident, order=o, stars=stars, now=T0 + (hours + 1) * H)
    order_in(w, now=T0)
    orders_b = [order_in(w, "b", now=T0, title="漏水B楼")]
    # Volunteers: 张建国 (A) served 2 h and 3 h, 20 points approved for the 2 h;
    # 李建国 (B) served 1 h.
    rules(w.a.grid)
    va = approved_volunteer(w, w.a.householder)
    s1 = attended(va, activity(w.a.grid, hours=2, title="清扫楼道"))
    attended(va, activity(w.a.grid, hours=3, title="敬老探访"))
    claim = vsvc.claim_for_signup(actor=va.user, signup=s1, note="清扫了一至六层楼道")
    vsvc.claim_review(actor=w.a.worker, claim=claim, approve=True)
    vb = approved_volunteer(w, w.b.householder)
    attended(vb, activity(w.b.grid, hours=1, title="垃圾分类宣传"))
    return Records(arrival_a, arrival_b, quarantine_a, quarantine_b, orders_b)


def _rows(text: str) -> list[list[str]]:
    return [r for r in csv_rows(text) if any(c.strip() for c in r)]


def _data(text: str) -> list[list[str]]:
    return [r for r in _rows(text) if r and r[0].isdigit()]


def test_library_holds_the_capability_templates_and_loads_idempotently(rworld: World) -> None:
    shipped = registry.shipped_templates()
    assert sorted(shipped) == sorted([*NEW, *HEALTH])
    assert len({**LIBRARY, **shipped}) == 17
    assert sorted(ReportTemplate.objects.values_list("code", flat=True)) == sorted(
        [*LIBRARY, *NEW, *HEALTH]
    )
    assert services.library_load() == (0, 0, 17)
    call_command("report", "load-library")
    assert ReportTemplate.objects.count() == 17
    assert all(t.versions.count() == 1 for t in ReportTemplate.objects.all())


def test_workbench_library_lists_them(rworld: World, records: Records, client: Any) -> None:
    w = rworld
    client.force_login(w.head)
    page = client.get("/w/reports/").content.decode()
    for title in (
        "来返人员登记表",
        "居家隔离人员健康监测表",
        "工单办理情况统计表",
        "工单办理情况分类统计表",
        "志愿服务时长统计表",
        "志愿服务时长登记表",
    ):
        assert title in page, title
    for code in NEW:
        t = ReportTemplate.objects.get(code=code)
        detail = client.get(f"/w/reports/templates/{t.pk}/")
        assert detail.status_code == 200, code
        preview = client.get(f"/w/reports/templates/{t.pk}/preview/", {"area": w.community.pk})
        assert preview.status_code == 200, code
        assert "Traceback" not in preview.content.decode()
    preview = client.get(
        f"/w/reports/templates/{ReportTemplate.objects.get(code='arrivals-register').pk}/preview/",
        {"area": w.community.pk},
    ).content.decode()
    assert "王来返" in preview and "甲市乙区" in preview


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "pdf"])
def test_each_new_template_renders_for_the_community(
    rworld: World, records: Records, tmp_path: Path, fmt: str
) -> None:
    w = rworld
    renders = [_render(w.head, code, w.community, fmt) for code in NEW]
    for code, render in zip(NEW, renders, strict=True):
        assert render.status == RenderStatus.DONE, (code, render.error)
    texts = dict(zip(NEW, _texts(renders, tmp_path), strict=True))
    expected = {
        "arrivals-register": ["王来返", "赵来返", "甲市乙区", "丙市", records.arrival_a.id_masked],
        "home-quarantine-monitoring": ["王来返", "李建国", "36.8"],
        "work-order-statistics": ["网格A", "网格B"],
        "work-order-by-category": [category("repair").name],
        "volunteer-hours-by-grid": ["网格A", "网格B"],
        "volunteer-hours-ledger": ["张建国", "李建国"],
    }
    for code, words in expected.items():
        for word in words:
            assert word in texts[code], (fmt, code, word)
    if fmt != "csv":  # xlsx and PDF carry the header block of the paper form
        for code, title in (
            ("arrivals-register", "测试社区来返人员登记表"),
            ("work-order-statistics", "测试社区工单办理情况统计表"),
            ("volunteer-hours-by-grid", "测试社区志愿服务时长统计表"),
        ):
            for line in (title, "填报单位：测试社区", "填报人：", "联系电话：", "负责人（签字）："):
                assert line in texts[code], (fmt, code, line)


def test_arrivals_and_quarantine_values_are_exact(
    rworld: World, records: Records, tmp_path: Path
) -> None:
    w = rworld
    arrivals = soffice_text(
        Path(_render(w.head, "arrivals-register", w.community, "xlsx").file_path), tmp_path
    )
    rows = _rows(arrivals)
    head = next(i for i, r in enumerate(rows) if "姓名" in r)
    assert rows[head - 1][:2] == ["序号", "人员信息"]  # the two-row header, merged cells
    a, b = _data(arrivals)
    arr_a, arr_b = records.arrival_a, records.arrival_b
    assert a[:10] == [
        "1",
        "王来返",
        arr_a.id_masked,
        arr_a.phone_masked,
        "甲市乙区",
        "2026-03-02",
        "火车",
        "1号楼1单元101",
        "居家隔离",
        "网格A",
    ]
    assert b[:10] == [
        "2",
        "赵来返",
        "",
        arr_b.phone_masked,
        "丙市",
        "2026-03-02",
        "自驾",
        "2号楼1单元101",
        "待处置",
        "网格B",
    ]
    assert any(r[0] == "合计：2 人" for r in rows)
    monitoring = soffice_text(
        Path(_render(w.head, "home-quarantine-monitoring", w.community, "xlsx").file_path),
        tmp_path / "q",
    )
    qa, qb = _data(monitoring)
    q = records.quarantine_a
    assert q.responsible is not None
    assert qa == [
        "1",
        "王来返",
        arr_a.phone_masked,
        "居家隔离",
        "1号楼1单元101",
        "2026-03-02",
        "2026-03-16",
        "隔离中",
        "2026-03-03",
        "36.80",
        "2",
        q.responsible.label,
        "网格A",
    ]
    qb_expected = records.quarantine_b
    assert qb[1:8] == [
        "李建国",
        qb_expected.phone_masked,
        "居家健康监测",
        qb_expected.address,
        "2026-03-02",
        "2026-03-09",
        "隔离中",
    ]
    assert qb[8:11] == ["", "", "0"]


def test_work_order_statistics_are_exact(rworld: World, records: Records, tmp_path: Path) -> None:
    w = rworld
    text = soffice_text(
        Path(_render(w.head, "work-order-statistics", w.community, "xlsx").file_path), tmp_path
    )
    rows = _rows(text)
    upper = next(i for i, r in enumerate(rows) if "受理总数" in r)
    assert rows[upper][:3] == ["序号", "辖区（网格）", "受理总数"]
    assert rows[upper][3] == "办理情况" and rows[upper][7] == "群众评价"
    assert rows[upper][9] == "办结时长中位数（小时）"
    assert rows[upper + 1][3:10] == [
        "已办结",
        "办理中",
        "超期未办结",
        "已撤销",
        "已评价",
        "平均评分（星）",
        "",
    ]
    by = {r[1]: r[2:] for r in _data(text)}
    assert by["网格A"] == ["3", "2", "1", "1", "0", "2", "4.00", "6.00"]
    assert by["网格B"] == ["1", "0", "1", "1", "0", "0", "", ""]
    total = next(r for r in rows if r[0] == "合计")
    assert total[2:] == ["4", "2", "2", "2", "0", "2", "4", "6"]
    by_cat = _data(
        soffice_text(
            Path(_render(w.head, "work-order-by-category", w.community, "xlsx").file_path),
            tmp_path / "c",
        )
    )
    assert by_cat == [["1", category("repair").name, "4", "2", "2", "2", "0", "2", "4.00", "6.00"]]


def test_volunteer_hours_are_exact(rworld: World, records: Records, tmp_path: Path) -> None:
    w = rworld
    text = soffice_text(
        Path(_render(w.head, "volunteer-hours-by-grid", w.community, "xlsx").file_path), tmp_path
    )
    by = {r[1]: r[2:] for r in _data(text)}
    # volunteers, party members, served, attendances, hours, points
    assert by["网格A"] == ["1", "0", "1", "2", "5.00", "20"]
    assert by["网格B"] == ["1", "0", "1", "1", "1.00", "0"]
    total = next(r for r in _rows(text) if r[0] == "合计")
    assert total[2:] == ["2", "0", "2", "3", "6", "20"]
    ledger = _data(
        soffice_text(
            Path(_render(w.head, "volunteer-hours-ledger", w.community, "xlsx").file_path),
            tmp_path / "l",
        )
    )
    va, vb = w.a.householder, w.b.householder
    assert [r[1] for r in ledger] == [va.name, vb.name] == ["张建国", "李建国"]
    assert [r[5:8] for r in ledger] == [["2", "5.00", "20"], ["1", "1.00", "0"]]


def test_grid_worker_render_holds_nothing_of_grid_b(
    rworld: World, records: Records, tmp_path: Path
) -> None:
    w = rworld
    markers = [
        *b_markers(w),
        "赵来返",
        "丙市",
        records.arrival_b.phone_masked,
        *(o.number for o in records.orders_b),
    ]
    assert "李建国" in markers and "赵来返" in markers
    renders = [
        _render(w.a.worker, code, w.a.grid, fmt) for fmt in ("xlsx", "csv", "pdf") for code in NEW
    ]
    assert {r.status for r in renders} == {RenderStatus.DONE}
    texts = _texts(renders, tmp_path)
    for render, text in zip(renders, texts, strict=True):
        leaked = [m for m in markers if m and m in text]
        assert leaked == [], (render.format, render.version.template.code, leaked)
    own = dict(zip([(r.format, r.version.template.code) for r in renders], texts, strict=True))
    assert "王来返" in own[("csv", "arrivals-register")]
    assert "王来返" in own[("csv", "home-quarantine-monitoring")]
    assert "张建国" in own[("csv", "volunteer-hours-ledger")]
    stats = {r[1]: r[2:] for r in _data(own[("csv", "work-order-statistics")])}
    # CSV holds plain numbers (4.0, 6.0), LibreOffice shows them as 4 and 6.
    assert stats == {"网格A": ["3", "2", "1", "1", "0", "2", "4", "6"]}
    vstats = {r[1]: r[2:] for r in _data(own[("csv", "volunteer-hours-by-grid")])}
    assert vstats == {"网格A": ["1", "0", "1", "2", "5", "20"]}


def test_derived_measures_average_but_do_not_sum(rworld: World) -> None:
    from django.core.exceptions import ValidationError

    from linli.reports.spec import spec_validate

    spec = {
        **registry.shipped_templates()["work-order-statistics"],
        "measures": [{"key": "h", "label": "时长", "agg": "sum", "measure": "hours_to_done"}],
    }
    with pytest.raises(ValidationError) as exc:
        spec_validate(spec)
    assert exc.value.message_dict == {"measures": ["hours_to_done 不能求和。"]}
    spec["measures"] = [{"key": "h", "label": "时长", "agg": "avg", "measure": "hours_to_done"}]
    assert spec_validate(spec).measures[0].agg == "avg"
