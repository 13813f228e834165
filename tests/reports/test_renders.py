"""Every shipped template renders in every format; LibreOffice (or a PDF reader) reads it back;
no cell of a grid worker's output holds the sibling grid; full IDs only with reveal, logged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from pypdf import PdfReader

from linli.audit.models import AuditEntry
from linli.register import services as reg
from linli.reports import services
from linli.reports.library import LIBRARY
from linli.reports.models import RenderStatus, ReportRender, ReportTemplate
from tests.factories import World
from tests.reports.conftest import b_markers, csv_rows, soffice_text, soffice_texts

pytestmark = pytest.mark.django_db


def _render(
    user: Any, code: str, area: Any, fmt: str, reason: str = "", capture: Any = None
) -> ReportRender:
    template = ReportTemplate.objects.get(code=code)
    render = services.render_request(
        actor=user, template=template, area=area, fmt=fmt, reason=reason, enqueue=False
    )
    return services.render_run(render_id=render.pk)


def _texts(renders: list[ReportRender], tmp: Path) -> list[str]:
    """What the consumer reads: LibreOffice for xlsx and csv, a PDF text extractor for PDF
    (LibreOffice imports PDFs as drawings, without a text layer to check)."""
    paths = [Path(r.file_path) for r in renders]
    sheets = (
        soffice_texts([p for p in paths if p.suffix != ".pdf"], tmp)
        if any(p.suffix != ".pdf" for p in paths)
        else {}
    )
    return [
        "\n".join(pg.extract_text() for pg in PdfReader(p).pages)
        if p.suffix == ".pdf"
        else sheets[p]
        for p in paths
    ]


def test_library_has_the_register_fed_forms(rworld: World) -> None:
    from linli.reports.registry import shipped_templates

    # The reports app's own 9 register-fed forms, plus 8 capabilities ship (emergency,
    # orders, volunteers: tests/reports/test_capability_sources.py; health: tests/health).
    assert len(LIBRARY) == 9 and len(shipped_templates()) == 8
    assert sorted(ReportTemplate.objects.values_list("code", flat=True)) == sorted(
        [*LIBRARY, *shipped_templates()]
    )


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "pdf"])
def test_every_shipped_template_renders_for_the_community(
    rworld: World, tmp_path: Path, fmt: str
) -> None:
    w = rworld
    renders = [_render(w.head, code, w.community, fmt) for code in LIBRARY]
    for code, render in zip(LIBRARY, renders, strict=True):
        assert render.status == RenderStatus.DONE, (code, render.error)
    texts = dict(zip(LIBRARY, _texts(renders, tmp_path), strict=True))
    roster = texts["household-roster"]
    for name in (
        "张建国",
        "李建国",
        "张小A",
        "李小B",
        "流动A",
        "合计：6 人",
        "小计（网格A）：3 人",
    ):
        assert name in roster, (fmt, name)
    if fmt != "csv":  # CSV is the table alone; xlsx and PDF carry the form's header block
        for line in (
            "测试社区实有人口花名册",
            "填报单位：测试社区",
            "填报人：",
            "负责人（签字）：",
        ):
            assert line in roster, (fmt, line)
    assert "流动A" in texts["floating-population"] and "流动B" in texts["floating-population"]
    assert "张建国" not in texts["floating-population"]
    assert "张建国" in texts["elderly-alone-care"] and "李建国" in texts["elderly-alone-care"]
    assert "流动A" in texts["key-persons"] and "张建国" not in texts["key-persons"]
    assert w.a.householder.id_masked in roster
    assert w.a.householder.reveal_national_id() not in roster


def test_grid_population_figures_are_exact(rworld: World, tmp_path: Path) -> None:
    w = rworld
    render = _render(w.head, "grid-population", w.community, "xlsx")
    rows = csv_rows(soffice_text(Path(render.file_path), tmp_path))
    by_label = {r[1]: r for r in rows if len(r) > 2 and r[0].isdigit()}
    # 网格A: householder (1951, registered), child (2012), floating tenant (1980).
    assert by_label["网格A"][2:6] == ["3", "2", "0", "1"]
    assert by_label["网格A"][8:11] == ["1", "1", "1"]  # 0–17, 18–59, 60+
    assert by_label["网格A"][11] == "1"  # 独居老人
    total = next(r for r in rows if r and r[0] == "合计")
    assert total[2] == "6"


def test_grid_worker_render_holds_nothing_of_the_sibling_grid(
    rworld: World, tmp_path: Path
) -> None:
    w = rworld
    markers = b_markers(w)
    assert "李建国" in markers and w.b.householder.id_masked in markers
    # Asking for the whole community is refused; the own grid is what a grid worker renders.
    with pytest.raises(PermissionDenied):
        _render(w.a.worker, "household-roster", w.community, "xlsx")
    renders = [
        _render(w.a.worker, code, w.a.grid, fmt)
        for fmt in ("xlsx", "csv", "pdf")
        for code in LIBRARY
    ]
    assert {r.status for r in renders} == {RenderStatus.DONE}
    raw = [Path(r.file_path).read_text("utf-8-sig") for r in renders if r.format == "csv"]
    for render, text in zip(renders, [*_texts(renders, tmp_path)], strict=True):
        leaked = [m for m in markers if m in text]
        assert leaked == [], (render.format, render.version.template.code, leaked)
    assert all(not [m for m in markers if m in t] for t in raw)
    own = _render(w.a.worker, "household-roster", w.a.grid, "csv")
    assert "张建国" in Path(own.file_path).read_text("utf-8-sig")


def test_engine_reads_through_the_scope_even_for_a_wider_area(
    rworld: World, tmp_path: Path
) -> None:
    """Defence in depth: were a caller to pass the community, the rows are still A's only."""
    from linli.reports import engine, renderers
    from linli.reports.spec import spec_validate

    w = rworld
    markers = b_markers(w)
    for code, spec in LIBRARY.items():
        table = engine.build_table(spec_validate(spec), user=w.a.worker, area=w.community)
        path = tmp_path / f"{code}.csv"
        renderers.render_csv(table, path)
        text = path.read_text("utf-8-sig")
        assert [m for m in markers if m in text] == [], code
    roster = engine.build_table(
        spec_validate(LIBRARY["household-roster"]), user=w.a.worker, area=w.community
    )
    names = [cells[3] for kind, cells in roster.rows if kind == "data"]
    assert sorted(names) == sorted(["张建国", "张小A", "流动A"])


def _full_id_template(w: World) -> ReportTemplate:
    spec = {
        "kind": "ledger",
        "rowset": "register.person",
        "header": {"title": "核查名单"},
        "columns": [
            {"source": "name", "label": "姓名"},
            {"source": "national_id_full", "label": "公民身份号码"},
            {"source": "phone_full", "label": "电话"},
        ],
    }
    return services.template_create(
        actor=w.head, code="full-ids", spec=spec, owner_area=w.community
    )


def test_full_ids_only_with_reveal_and_reason_and_logged(
    rworld: World, tmp_path: Path, settings: Any
) -> None:
    w = rworld
    _full_id_template(w)
    full_a = w.a.householder.reveal_national_id()
    full_b = w.b.householder.reveal_national_id()
    before = AuditEntry.objects.filter(action="export").count()
    # No reason: masked, and the export is logged without a reveal.
    masked = _render(w.head, "full-ids", w.community, "csv")
    text = Path(masked.file_path).read_text("utf-8-sig")
    assert full_a not in text and w.a.householder.id_masked in text and not masked.revealed
    # With a reason: full values, logged as an export naming the fields and the reason.
    shown = _render(w.head, "full-ids", w.community, "csv", reason="民政核查")
    text = Path(shown.file_path).read_text("utf-8-sig")
    assert full_a in text and full_b in text and shown.revealed
    assert w.a.householder_phone in text
    entry = AuditEntry.objects.filter(action="export").order_by("-id").first()
    assert entry is not None and entry.reason == "民政核查"
    assert (
        entry.changes["revealed_cells"] == 12
    )  # 6 persons × (ID, phone); phones missing count too
    assert AuditEntry.objects.filter(action="export").count() == before + 2


def test_department_without_reveal_gets_masked_ids(rworld: World) -> None:
    from linli.accounts.services import user_create
    from tests.factories import PASSWORD

    w = rworld
    _full_id_template(w)
    dept, _ = user_create(
        actor=None, username="minzheng", password=PASSWORD, role="department", area=w.community
    )
    render = _render(dept, "full-ids", w.community, "csv", reason="想看")
    text = Path(render.file_path).read_text("utf-8-sig")
    assert w.a.householder.reveal_national_id() not in text
    assert w.a.householder.id_masked in text and not render.revealed


def test_cells_that_look_like_formulas_stay_text(rworld: World, tmp_path: Path) -> None:
    w = rworld
    reg.person_create(actor=None, name="=HYPERLINK(1)", grid=w.a.grid)
    reg.person_create(actor=None, name="-2+3", grid=w.a.grid)
    render = _render(w.head, "household-roster", w.community, "xlsx")
    sheet = openpyxl.load_workbook(render.file_path).active
    values = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=HYPERLINK(1)" in values and "'-2+3" in values
    assert not any(v.startswith("=") for v in values)
    csv_render = _render(w.head, "household-roster", w.community, "csv")
    text = Path(csv_render.file_path).read_text("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


def test_a_ledger_longer_than_a_sheet_continues_on_the_next(rworld: World, tmp_path: Path) -> None:
    from linli.reports import engine, renderers
    from linli.reports.spec import spec_validate

    w = rworld
    spec = spec_validate(LIBRARY["household-roster"])
    table = engine.build_table(spec, user=w.head, area=w.community)
    path = tmp_path / "split.xlsx"
    # Sheets of 8 rows: 4 rows of header block and column headers, then 4 rows of the table.
    sheets = renderers.render_xlsx(table, path, max_rows=8)
    book = openpyxl.load_workbook(path)
    # 6 persons, 2 subtotals, 1 total = 9 rows on three sheets; the signature lines (a blank
    # row and three lines) do not fit below the total, so they take a fourth.
    assert sheets == len(book.sheetnames) == 4
    names = []
    for ws in book.worksheets[:3]:
        assert ws.cell(row=1, column=1).value == "测试社区实有人口花名册"
        assert ws.freeze_panes == "A5"
        assert ws.cell(row=4, column=4).value == "姓名"
        assert ws.max_row <= 8
        names += [ws.cell(row=r, column=4).value for r in range(5, ws.max_row + 1)]
    assert sorted(n for n in names if n) == sorted(
        ["张建国", "张小A", "流动A", "李建国", "李小B", "流动B"]
    )
    last = book.worksheets[-1]
    assert last.cell(row=1, column=1).value == "测试社区实有人口花名册"
    assert [last.cell(row=r, column=1).value for r in range(5, 8)] == [
        "负责人（签字）：",
        "审核人：",
        "填报人：",
    ]


def test_signature_lines_that_do_not_fit_go_on_a_sheet_of_their_own(
    rworld: World, tmp_path: Path
) -> None:
    from linli.reports import engine, renderers
    from linli.reports.spec import spec_validate

    w = rworld
    spec = spec_validate(LIBRARY["household-roster"])
    table = engine.build_table(spec, user=w.head, area=w.community)
    path = tmp_path / "full.xlsx"
    # Sheets of 7 rows hold 3 table rows each: the 9 rows fill three sheets exactly.
    sheets = renderers.render_xlsx(table, path, max_rows=7)
    book = openpyxl.load_workbook(path)
    assert sheets == len(book.sheetnames) == 4
    assert all(ws.max_row <= 7 for ws in book.worksheets)
    assert book.worksheets[2].cell(row=7, column=1).value == "合计：6 人"
    last = book.worksheets[-1]
    assert last.cell(row=1, column=1).value == "测试社区实有人口花名册"
    assert [last.cell(row=r, column=1).value for r in range(5, 8)] == [
        "负责人（签字）：",
        "审核人：",
        "填报人：",
    ]


def test_printed_pdf_pages_are_numbered_and_carry_no_blank_glyphs(
    rworld: World, tmp_path: Path
) -> None:
    """A printed form is stapled and handed up: each page says its number. The header block
    and signature lines are laid out in cells, not padded with U+00A0, which the CID font has
    no glyph for (viewers drew it as a row of boxes)."""
    render = _render(rworld.head, "household-roster", rworld.community, "pdf")
    pages = [pg.extract_text() for pg in PdfReader(Path(render.file_path)).pages]
    for n, text in enumerate(pages, start=1):
        assert f"第 {n} 页" in text
        assert "\xa0" not in text
    assert "填报单位：测试社区" in pages[0] and "负责人（签字）：" in pages[-1]


def test_household_size_counts_the_living_members_of_each_row_household(rworld: World) -> None:
    from django.utils import timezone

    from linli.register.models import Person, PersonStatus
    from linli.reports import engine
    from linli.reports.spec import spec_validate

    w = rworld
    # One member of A's household dies: the household size counts the living only.
    dead = Person.objects.filter(household=w.a.household).exclude(pk=w.a.householder.pk).first()
    assert dead is not None
    reg.person_record_death(actor=None, person=dead, occurred_on=timezone.localdate())
    spec = spec_validate(
        {
            "kind": "ledger",
            "rowset": "register.person",
            "header": {"title": "t"},
            "columns": [
                {"source": "name", "label": "n"},
                {"source": "household_size", "label": "s"},
            ],
        }
    )
    table = engine.build_table(spec, user=w.head, area=w.community)
    got = {cells[0]: cells[1] for kind, cells in table.rows if kind == engine.DATA}
    expected = {
        p.name: Person.objects.filter(
            household_id=p.household_id, status=PersonStatus.LIVING
        ).count()
        if p.household_id
        else 0
        for p in Person.objects.filter(grid__parent=w.community)
    }
    assert got == expected
    # A's household: the householder and the floating tenant; the deceased counts nowhere.
    assert got[w.a.householder.name] == 2 and got[dead.name] == 0
