"""A grid worker at a sampling site, on a phone: picks the site, types the last four digits of
an ID (htmx search), taps "sampled"; the round page then counts the person as sampled."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from linli.health import services as hs
from linli.health.models import TestRecord
from tests.factories import PASSWORD, World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None, migration_seeds: None) -> World:
    return make_world()


def test_sampling_site_on_a_phone(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    rnd = hs.round_open(
        actor=None,
        name="全员核酸第一轮",
        area=w.community,
        date=timezone.localdate(),
        sites=["社区广场采样点", "幼儿园采样点"],
    )
    base = live_server.url
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", w.a.worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))

    page.goto(f"{base}/w/health/rounds/{rnd.pk}/")
    page.locator("#go-sampling").click()
    page.wait_for_url(re.compile(r"/sample/"))
    page.select_option("select[name=site]", label="社区广场采样点")
    page.wait_for_url(re.compile(r"site=\d+"))
    tail = w.a.householder_id_number[-4:]
    page.fill("#sampling-q", tail)
    hit = page.locator(".sampling-hit", has_text=w.a.householder.name)
    hit.wait_for()
    # Grid B's householder shares the surname pattern but is never offered to A's worker.
    assert page.locator(".sampling-hit", has_text=w.b.householder.name).count() == 0
    page.screenshot(path=str(artifacts / "health-sampling-search.png"), full_page=True)
    # The button is big enough to tap (at least 44 px high) and inside the phone's width.
    box = hit.get_by_role("button", name="已采样").bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 390
    hit.get_by_role("button", name="已采样").click()
    page.locator(".alert", has_text="已采样").wait_for()
    page.screenshot(path=str(artifacts / "health-sampling-done.png"), full_page=True)
    rec = TestRecord.objects.get()
    assert (rec.person_id, rec.site.name, rec.recorded_by_id) == (
        w.a.householder.pk,
        "社区广场采样点",
        w.a.worker.pk,
    )
    # Searching again shows the person as already sampled; no second record.
    page.fill("#sampling-q", name_pinyin_prefix(w))
    page.locator(".sampling-hit .badge", has_text="已采样").first.wait_for()
    assert TestRecord.objects.count() == 1
    page.goto(f"{base}/w/health/rounds/{rnd.pk}/")
    assert page.locator('[data-count="sampled"]').inner_text() == "1"
    page.screenshot(path=str(artifacts / "health-round.png"), full_page=True)
    # The person page: record a dose; then the coverage table counts it.
    page.goto(f"{base}/w/health/persons/{w.a.householder.pk}/")
    page.fill("input[name=dose]", "1")
    page.fill("input[name=product]", "科兴中维")
    page.fill("input[name=vaccinated_on]", "2021-04-01")
    page.locator("#vaccination-form button[type=submit]").click()
    page.locator("#person-vaccinations", has_text="科兴中维").wait_for()
    page.screenshot(path=str(artifacts / "health-person.png"), full_page=True)
    page.goto(f"{base}/w/health/vaccinations/")
    row = page.locator(f'#coverage tr[data-key="{w.a.grid.pk}"] td')
    assert [row.nth(i).inner_text() for i in range(6)] == ["网格A", "2", "1", "0", "0", "1"]
    page.screenshot(path=str(artifacts / "health-coverage.png"), full_page=True)


def name_pinyin_prefix(w: World) -> str:
    """The householder's name initials (pinyin), as a worker would type them."""
    return w.a.householder.name_initials
