"""What a newcomer does first, in a real browser.

A grid worker signs in, finds a person by pinyin initials, reveals the national ID with a
reason, and finds that reveal in the audit log; a resident signs in on the portal with the
code the console SMS backend printed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from linli.audit.models import AuditEntry
from tests.factories import PASSWORD, World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


def test_grid_worker_finds_person_reveals_id_and_sees_audit(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/w/login/")
    page.fill("input[name=username]", w.a.worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))
    page.screenshot(path=str(artifacts / "workbench-home.png"), full_page=True)

    # Find the person by pinyin initials through the live search box.
    page.goto(f"{live_server.url}/w/persons/")
    page.fill("#id_q", "zjg")
    link = page.get_by_role("link", name=w.a.householder.name).first
    link.wait_for()
    assert page.get_by_text(w.b.householder.name).count() == 0
    page.screenshot(path=str(artifacts / "workbench-search.png"), full_page=True)
    link.click()
    page.wait_for_url(re.compile(rf"/w/persons/{w.a.householder.pk}/$"))
    assert w.a.householder_id_number not in page.content()
    assert page.locator("#reveal-national_id").inner_text().startswith(w.a.householder.id_masked)

    # Reveal: a reason is required, then the full value replaces the mask.
    page.locator("#reveal-national_id a, #reveal-national_id button").first.click()
    form = page.locator("#reveal-national_id form")
    form.wait_for()
    form.locator("input[name=reason]").fill("入户核查，核对身份")
    form.locator("button").click()
    revealed = page.locator("#reveal-national_id .revealed-value")
    revealed.wait_for()
    assert revealed.inner_text().strip() == w.a.householder_id_number
    page.screenshot(path=str(artifacts / "workbench-reveal.png"), full_page=True)
    entry = AuditEntry.objects.filter(action="reveal").get()
    assert entry.actor_id == w.a.worker.pk and entry.reason == "入户核查，核对身份"

    # The reveal is in the audit log page, with who and why.
    page.goto(f"{live_server.url}/w/audit/")
    row = page.locator("tr", has_text="入户核查，核对身份")
    row.wait_for()
    assert w.a.householder.name in row.inner_text()
    page.screenshot(path=str(artifacts / "workbench-audit.png"), full_page=True)
    page.close()


def test_resident_signs_in_with_console_sms_code(
    live_server: Any, live_world: World, browser: Any, artifacts: Path, capfd: Any
) -> None:
    w = live_world
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/p/login/")
    page.fill("input[name=phone]", w.a.householder_phone)
    page.locator("form button[type=submit]").first.click()
    page.locator("input[name=code]").wait_for()
    printed = capfd.readouterr().out
    match = re.search(rf"\[SMS → {w.a.householder_phone}\].*?(\d{{6}})", printed)
    assert match, printed
    page.fill("input[name=code]", match.group(1))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/p/$"))
    body = page.content()
    assert w.a.householder.name in body and w.a.member.name in body
    assert w.b.householder.name not in body
    assert w.a.householder_id_number not in body
    page.screenshot(path=str(artifacts / "portal-home.png"), full_page=True)
    page.close()
