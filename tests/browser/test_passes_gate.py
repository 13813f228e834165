"""The gate page's vendored libraries in a real browser: jsQR reads the QR code a pass page
draws (the camera path, fed an image instead of a camera frame), and @noble/ed25519 accepts the
token it decodes; once the event ends, the reloaded page refuses the same code offline as closed."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from linli.emergency import services as em
from linli.emergency.certificates import qr_png
from linli.passes import services as ps
from linli.passes.models import GateScan
from tests.factories import PASSWORD, World, make_world
from tests.passes.walk import passes_event

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


def test_gate_reads_a_pass_qr_code(
    live_server: Any, live_world: World, browser: Any, artifacts: Path
) -> None:
    w = live_world
    event = passes_event(w)
    gate_cp = ps.checkpoint_create(
        actor=None, estate=w.a.building.estate, grid=w.a.grid, name="东门"
    )
    token = ps.pass_token(ps.resident_pass_issue(actor=None, person=w.a.householder))
    png = base64.b64encode(qr_png(token, scale=6)).decode()

    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/w/login/")
    page.fill("input[name=username]", w.a.worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/w/$"))
    page.goto(f"{live_server.url}/w/passes/gate/{gate_cp.pk}/")
    page.locator("#net-state[data-online='1']").wait_for()
    decoded = page.evaluate(
        """async (png) => {
          const img = new Image();
          img.src = "data:image/png;base64," + png;
          await img.decode();
          const canvas = document.createElement("canvas");
          canvas.width = img.width; canvas.height = img.height;
          const ctx = canvas.getContext("2d");
          ctx.drawImage(img, 0, 0);
          const data = ctx.getImageData(0, 0, img.width, img.height);
          const found = window.jsQR(data.data, data.width, data.height);
          return found ? found.data : null;
        }""",
        png,
    )
    assert decoded == token
    page.fill("#code", decoded)
    page.click("#check")
    page.locator("#verdict[data-result=ok]").wait_for()
    assert "张*国" in page.locator("#verdict").inner_text()
    page.locator("#sent-count", has_text="1").wait_for()
    page.screenshot(path=str(artifacts / "passes-gate-qr.png"), full_page=True)

    # The event ends: its passes close. The gate page, loaded again while online, learns it;
    # offline afterwards it refuses the same code and says why (closed, not revoked).
    em.event_end(actor=None, event=event)
    page.reload()
    page.locator("#net-state[data-online='1']").wait_for()
    page.context.set_offline(True)
    page.fill("#code", token)
    page.click("#check")
    page.locator("#verdict[data-result=refused][data-reason=closed]").wait_for()
    assert "突发事件已结束" in page.locator("#verdict-reason").inner_text()
    page.screenshot(path=str(artifacts / "passes-gate-closed.png"), full_page=True)
    # Back online, the queued refusal is sent (once) before the page goes away.
    page.context.set_offline(False)
    page.locator("#sent-count", has_text="2").wait_for()
    page.close()
    scans = list(GateScan.objects.order_by("pk").values_list("result", "reason"))
    assert scans == [("ok", ""), ("refused", "closed")]
