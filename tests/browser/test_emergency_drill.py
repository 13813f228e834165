"""The emergency drill of issue 4, in a real browser.

The community head declares a drill over one community and lists a risk area; a grid worker
prints the gate poster; a newcomer scans it, proves their phone with an SMS code and registers
arriving from the risk area; home quarantine starts. Over the following days (the server's clock
is moved forward) they check in on the portal, once with a fever (an alert and a task appear),
miss a day (the periodic reminder goes out on the console SMS backend, then a task), the worker
records the missed day on their behalf and releases them; the certificate's QR text verifies in
the browser with the public key (and a tampered one does not); the head ends the event.

The drill also runs passes and checkpoints: on day 0 the grid worker adds a gate, a resident
applies on the portal for a visitor's pass, the worker approves it, the resident gets the code;
the gate phone goes offline, checks the code in the browser (green), queues the scan and, back
online, sends it exactly once; a forged, an expired and a revoked code show red.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from linli.emergency.models import EmergencyEvent, Quarantine, RiskArea
from linli.emergency.services import reminders_run
from linli.passes import services as ps
from linli.passes.models import AccessPass, Checkpoint, GateScan
from linli.passes.signing import PassBody, token_sign
from tests.factories import PASSWORD, World, make_phone, make_world

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


class Clock:
    """Moves the server's clock forward by whole days (the live server runs in-process)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.days = 0
        real = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real() + dt.timedelta(days=self.days))

    def today(self) -> dt.date:
        return timezone.localdate()


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/w/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"drill-{name}.png"), full_page=True)


def _portal_sign_in(browser: Any, base: str, phone: str, capfd: Any) -> Any:
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{base}/p/login/")
    page.fill("input[name=phone]", phone)
    capfd.readouterr()
    page.locator("form button[type=submit]").first.click()
    page.locator("input[name=code]").wait_for()
    match = re.search(rf"\[SMS → {phone}\].*?(\d{{6}})", capfd.readouterr().out)
    assert match
    page.fill("input[name=code]", match.group(1))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/p/$"))
    return page


def _gate_check(gate: Any, token: str) -> tuple[str, str]:
    """Type a code on the gate page; the verdict (ok/refused) and its text."""
    gate.fill("#code", token)
    gate.click("#check")
    verdict = gate.locator("#verdict[data-result]")
    verdict.wait_for()
    result = verdict.get_attribute("data-result")
    text = verdict.inner_text()
    gate.evaluate("document.getElementById('verdict').removeAttribute('data-result')")
    return str(result), text


def _passes_drill(
    browser: Any, base: str, w: World, worker: Any, artifacts: Path, capfd: Any
) -> None:
    """Day 0 of the drill: a gate, a visitor's pass, and scans at the gate (offline too)."""
    # The grid worker adds a gate of the estate.
    worker.goto(f"{base}/w/passes/checkpoints/new/")
    worker.select_option("select[name=estate]", str(w.a.building.estate_id))
    worker.select_option("select[name=grid]", str(w.a.grid.pk))
    worker.fill("input[name=name]", "东门")
    worker.get_by_role("button", name="保存").click()
    worker.wait_for_url(re.compile(r"/w/passes/$"))
    gate_cp = Checkpoint.objects.get()

    # A resident applies for a visitor's pass from the emergency banner of the portal.
    host = _portal_sign_in(browser, base, w.a.householder_phone, capfd)
    host.locator("#emergency-banner a[data-measure=passes]").click()
    host.wait_for_url(re.compile(r"/p/passes/$"))
    host.get_by_role("link", name="为访客申请通行证").click()
    host.fill("input[name=visitor_name]", "王来访")
    host.fill("input[name=visitor_phone]", "139 0000 1111")
    host.fill("input[name=reason]", "送药")
    _shot(host, artifacts, "visitor-apply")
    host.get_by_role("button", name="申请").click()
    host.wait_for_url(re.compile(r"/p/passes/\d+/$"))
    assert "等待网格员审批" in host.content()
    visitor = AccessPass.objects.get()

    # The worker approves it.
    worker.goto(f"{base}/w/passes/")
    worker.locator(f"#waiting a[data-pass='{visitor.pk}']").click()
    _shot(worker, artifacts, "pass-decide")
    worker.get_by_role("button", name="通过").click()
    worker.locator("[data-status=approved]").first.wait_for()
    visitor.refresh_from_db()
    assert visitor.status == "approved"

    # The resident sees the code to forward to the visitor.
    host.reload()
    host.locator("#pass-qr svg").wait_for()
    token = host.locator("#pass-token").text_content().strip()
    _shot(host, artifacts, "visitor-pass")

    # A revoked resident pass, so the gate's revocation list holds one.
    revoked = ps.resident_pass_issue(actor=w.a.worker, person=w.a.member)
    revoked_token = ps.pass_token(revoked)
    ps.pass_revoke(actor=w.a.worker, access_pass=revoked, reason="演练作废")

    # The gate phone loads its page, then loses the network.
    gate = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    _sign_in(gate, base, w.a.worker.username)
    gate.goto(f"{base}/w/passes/gate/{gate_cp.pk}/")
    gate.locator("#net-state[data-online='1']").wait_for()
    gate.context.set_offline(True)
    gate.locator("#net-state[data-online='0']").wait_for()
    result, text = _gate_check(gate, token)
    assert result == "ok", text
    assert "准予通行" in text and "王*访" in text and "无健康码记录" in text
    assert gate.locator("#queue-count").inner_text() == "1"
    _shot(gate, artifacts, "gate-offline-ok")
    assert GateScan.objects.count() == 0

    # Back online: the queued scan is sent once, judged by the server too.
    gate.context.set_offline(False)
    gate.locator("#sent-count", has_text="1").wait_for()
    assert gate.locator("#queue-count").inner_text() == "0"
    scan = GateScan.objects.get()
    assert (scan.access_pass_id, scan.result, scan.offline, scan.direction) == (
        visitor.pk,
        "ok",
        True,
        "in",
    )
    gate.wait_for_timeout(6000)  # a later periodic send must not store it again
    assert GateScan.objects.count() == 1

    # Forged, expired and revoked codes show red.
    prefix, body, sig = token.split(".")
    forged = f"{prefix}.{body}.{sig[:-3]}{'AAA' if sig[-3:] != 'AAA' else 'BBB'}"
    result, text = _gate_check(gate, forged)
    assert result == "refused" and "签名不符" in text
    _shot(gate, artifacts, "gate-forged")
    past = int(timezone.now().timestamp())
    expired = token_sign(
        PassBody(visitor.pk, "visitor", visitor.estate_id, past - 7200, past - 60, 1, "王*访")
    )
    result, text = _gate_check(gate, expired)
    assert result == "refused" and "已过期" in text
    result, text = _gate_check(gate, revoked_token)
    assert result == "refused" and "已作废" in text
    gate.locator("#sent-count", has_text="4").wait_for()
    assert list(GateScan.objects.order_by("pk").values_list("result", "reason")) == [
        ("ok", ""),
        ("refused", "bad_signature"),
        ("refused", "expired"),
        ("refused", "revoked"),
    ]
    worker.goto(f"{base}/w/passes/scans/")
    assert worker.locator("#scans tr[data-scan]").count() == 4
    _shot(worker, artifacts, "gate-scans")
    gate.close()
    host.close()


def test_emergency_drill(
    live_server: Any,
    live_world: World,
    browser: Any,
    artifacts: Path,
    capfd: Any,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    w = live_world
    # Sessions must outlive the days the clock is moved forward by.
    settings.SESSION_COOKIE_AGE = 30 * 24 * 3600
    base = live_server.url
    clock = Clock(monkeypatch)
    day0 = clock.today()

    # 1. The community head declares a drill over the community, 3 days of home quarantine.
    head = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in(head, base, w.head.username)
    head.goto(f"{base}/w/e/new/")
    head.fill("input[name=name]", "春季疫情演练")
    head.select_option("select[name=areas]", str(w.community.pk))
    head.fill("input[name=days_home]", "3")
    head.check("input[name=is_drill]")
    _shot(head, artifacts, "declare")
    head.get_by_role("button", name="发布").click()
    head.wait_for_url(re.compile(r"/w/e/\d+/$"))
    event = EmergencyEvent.objects.get()
    assert head.locator("#nav-emergency .badge").inner_text() == "1"

    # The risk-area list.
    head.goto(f"{base}/w/e/{event.pk}/risk-areas/")
    head.fill("input[name=name]", "甲市乙区")
    head.select_option("select[name=level]", "high")
    head.get_by_role("button", name="添加").click()
    head.locator("#risk-areas", has_text="甲市乙区").wait_for()
    risk = RiskArea.objects.get()

    # 2. Grid A's worker prints the gate poster; its QR code holds the arrival URL.
    worker = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _sign_in(worker, base, w.a.worker.username)
    worker.goto(f"{base}/w/e/posters/{w.a.grid.pk}/")
    url = worker.locator(".poster .text-break").first.inner_text().strip()
    assert "/p/e/arrive/" in url and worker.locator(".poster svg").count() == 1
    _shot(worker, artifacts, "poster")

    # 3. A newcomer (not in the register) scans it on their phone.
    phone = make_phone()
    resident = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    resident.goto(url)
    resident.fill("input[name=phone]", phone)
    capfd.readouterr()
    resident.get_by_role("button", name="发送验证码").click()
    resident.locator("input[name=code]").wait_for()
    sms = capfd.readouterr().out
    code = re.search(rf"\[SMS → {phone}\].*?(\d{{6}})", sms)
    assert code, sms
    resident.fill("input[name=code]", code.group(1))
    resident.get_by_role("button", name="继续").click()
    resident.wait_for_url(re.compile(r"/p/e/arrive/"))
    resident.fill("input[name=name]", "赵远行")
    resident.select_option("select[name=risk_area]", str(risk.pk))
    resident.fill("input[name=address]", "测试小区1号楼1单元302")
    _shot(resident, artifacts, "arrival-form")
    resident.get_by_role("button", name="登记").click()
    resident.wait_for_url(re.compile(r"/p/e/$"))
    assert "居家隔离" in resident.locator(".alert").first.inner_text()
    q = Quarantine.objects.get()
    assert (q.kind, q.starts_on, q.planned_end) == ("home", day0, day0 + dt.timedelta(days=3))

    # The worker sees the quarantine start.
    worker.goto(f"{base}/w/e/{event.pk}/arrivals/")
    _shot(worker, artifacts, "arrivals")
    worker.goto(f"{base}/w/e/quarantines/")
    _shot(worker, artifacts, "quarantines")
    worker.get_by_role("link", name="赵远行").click()
    worker.locator("#q-timeline li[data-kind=started]").wait_for()

    # 3b. Passes and checkpoints, on day 0 (the gate phone's clock is the server's).
    _passes_drill(browser, base, w, worker, artifacts, capfd)

    def check_in(temperature: str, *, cough: bool = False) -> None:
        resident.goto(f"{base}/p/e/")
        resident.get_by_role("link", name="今日打卡").click()
        resident.fill("input[name=temperature]", temperature)
        if cough:
            resident.check("input[name=symptoms][value=cough]")
        resident.get_by_role("button", name="提交").click()
        resident.wait_for_url(re.compile(r"/p/e/$"))

    # 4. Day 0: normal. Day 1: a fever — an alert and a task at once.
    check_in("36.5")
    _shot(resident, artifacts, "portal-home")
    clock.days = 1
    check_in("38.1", cough=True)
    assert "网格员会尽快联系您" in resident.locator(".alert").first.inner_text()
    worker.goto(f"{base}/w/e/tasks/")
    alert_row = worker.locator("#tasks tr[data-kind=alert]")
    assert "发热 38.1" in alert_row.inner_text()
    _shot(worker, artifacts, "tasks")

    # 5. Day 2: no check-in. After 10:00 the reminder goes out, two hours later a task.
    clock.days = 2
    day2 = day0 + dt.timedelta(days=2)
    at_10 = timezone.make_aware(dt.datetime.combine(day2, dt.time(10, 5)))
    capfd.readouterr()
    assert reminders_run(now=at_10) == {"reminded": 1, "tasks": 0}
    sms = capfd.readouterr().out
    assert re.search(rf"\[SMS → {phone}\] 邻里：请上报今日体温", sms), sms
    assert reminders_run(now=at_10 + dt.timedelta(hours=2)) == {"reminded": 0, "tasks": 1}
    worker.goto(f"{base}/w/e/{event.pk}/")
    row = worker.locator(f"#event-grids tr[data-grid='{w.a.grid.pk}']")
    assert row.locator("td").nth(3).inner_text() == "1"  # missing today
    _shot(worker, artifacts, "dashboard")
    worker.goto(f"{base}/w/e/tasks/")
    assert "未打卡" in worker.locator("#tasks tr[data-kind=missed]").inner_text()

    # The worker reaches them by phone and records the day on their behalf.
    worker.goto(f"{base}/w/e/quarantines/{q.pk}/check-in/")
    worker.fill("input[name=temperature]", "36.7")
    worker.fill("input[name=day]", str(day2))
    worker.get_by_role("button", name="记录").click()
    worker.wait_for_url(re.compile(rf"/w/e/quarantines/{q.pk}/$"))

    # 6. Day 3: the days are done and every day has a check-in — release.
    clock.days = 3
    worker.reload()
    worker.get_by_role("button", name="解除隔离").click()
    worker.locator("#certificate").wait_for()
    assert worker.locator("#q-status").inner_text() == "已解除"
    payload = worker.locator("#cert-payload").text_content().strip()
    _shot(worker, artifacts, "released")

    # 7. Anyone verifies the QR text in the browser, with the public key only.
    checker = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    checker.goto(f"{base}/verify/")
    checker.fill("#payload", payload)
    checker.click("#check")
    checker.locator("#verdict").wait_for()
    assert "签名有效" in checker.locator("#result").inner_text()
    assert "赵*行" in checker.locator("#result").inner_text()
    _shot(checker, artifacts, "verify")
    prefix, body, sig = payload.split(".")
    checker.fill("#payload", f"{prefix}.{body[:-2]}{'AA' if body[-2:] != 'AA' else 'BB'}.{sig}")
    checker.click("#check")
    checker.locator("#result.alert-danger").wait_for()
    assert "无效" in checker.locator("#result").inner_text()

    # The command view shows the event's card with its counts.
    head.goto(f"{base}/c/")
    card = head.locator("#command-emergency")
    assert card.locator("[data-count=released]").inner_text() == "1"
    assert card.locator("[data-count=arrivals]").inner_text() == "1"
    _shot(head, artifacts, "command")

    # 8. The head ends the event: its measures close, the nav returns to normal.
    head.goto(f"{base}/w/e/{event.pk}/end/")
    head.get_by_role("button", name="结束事件").click()
    head.wait_for_url(re.compile(rf"/w/e/{event.pk}/$"))
    assert head.locator("#nav-emergency .badge").count() == 0
    event.refresh_from_db()
    assert event.status == "ended"
