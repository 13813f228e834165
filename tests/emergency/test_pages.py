"""Emergency pages through the Django test client: declaring, the poster and the resident's
path from the gate QR code (phone code, no account), check-ins, release, verification."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.emergency import services as em
from linli.emergency.models import Arrival, CheckIn, EmergencyEvent, Quarantine
from linli.emergency.views_workbench import arrival_token
from tests.emergency.factories import make_risk
from tests.factories import PASSWORD, World, make_phone

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _event(world: World, **kw: Any) -> EmergencyEvent:
    return em.event_declare(
        actor=None,
        name="春季演练",
        kind="epidemic",
        areas=[world.community],
        measures=["arrivals", "quarantine", "checkins"],
        is_drill=True,
        **kw,
    )


def test_head_declares_an_event_and_the_nav_shows_emergency_mode(world: World) -> None:
    head = _client(world.head)
    assert 'id="nav-emergency"' in head.get(reverse("workbench:home")).content.decode()
    data = {
        "name": "",
        "kind": "epidemic",
        "level": "3",
        "areas": [str(world.community.pk)],
        "measures": ["arrivals", "quarantine", "checkins"],
        "days_home": "14",
        "days_centralised": "14",
        "days_home_monitoring": "7",
        "rule_high": "home",
        "rule_medium": "home_monitoring",
        "rule_low": "",
        "checkin_deadline_hour": "10",
        "is_drill": "on",
    }
    r = head.post(reverse("emergency:event_declare"), data)
    assert r.status_code == 200 and EmergencyEvent.objects.count() == 0
    assert 'value="3"' in r.content.decode()  # what was typed is kept
    r = head.post(reverse("emergency:event_declare"), {**data, "name": "春季演练"})
    event = EmergencyEvent.objects.get()
    assert r["Location"] == reverse("emergency:event_detail", args=[event.pk])
    assert (event.level, event.is_drill, list(event.areas.all())) == (3, True, [world.community])
    nav = _client(world.a.worker).get(reverse("workbench:home")).content.decode()
    assert re.search(r'id="nav-emergency">[^<]*<span class="badge text-bg-danger">1</span>', nav)
    # A grid worker may look but may not declare.
    assert _client(world.a.worker).get(reverse("emergency:event_declare")).status_code == 403


def test_poster_qr_leads_residents_to_the_arrival_form(
    world: World, capfd: pytest.CaptureFixture[str], django_capture_on_commit_callbacks: Any
) -> None:
    event = _event(world)
    risk = make_risk(event)
    poster = _client(world.a.worker).get(reverse("emergency:poster", args=[world.a.grid.pk]))
    body = poster.content.decode()
    url = re.search(r"(http://testserver/p/e/arrive/[^<\s]+/)", body)
    assert url and "<svg" in body
    visitor = Client()
    path = url.group(1).replace("http://testserver", "")
    r = visitor.get(path)
    assert r.status_code == 302 and r["Location"].startswith(reverse("emergency:portal_phone"))
    phone = make_phone()  # not in the register: a code is sent anyway
    with django_capture_on_commit_callbacks(execute=True):
        r = visitor.post(
            reverse("emergency:portal_phone") + "?next=" + path, {"phone": phone, "next": path}
        )
    assert r.status_code == 302
    code = re.search(rf"\[SMS → {phone}\].*?(\d{{6}})", capfd.readouterr().out)
    assert code
    r = visitor.post(reverse("emergency:portal_code"), {"code": code.group(1), "next": path})
    assert r["Location"] == path
    form = {
        "name": "赵远行",
        "national_id": "",
        "risk_area": str(risk.pk),
        "from_text": "",
        "arrived_on": str(timezone.localdate()),
        "travel_mode": "train",
        "address": "测试小区1号楼1单元301",
    }
    bad = visitor.post(path, {**form, "travel_mode": "horse"})
    assert bad.status_code == 200 and "赵远行" in bad.content.decode()
    assert Arrival.objects.count() == 0
    r = visitor.post(path, form)
    assert r["Location"] == reverse("emergency:portal_home")
    visitor.post(path, form)  # a double submission is stored once
    arrival = Arrival.objects.get()
    assert (arrival.grid, arrival.source, arrival.phone_masked) == (
        world.a.grid,
        "self",
        phone[:3] + "****" + phone[-4:],
    )
    q = Quarantine.objects.get(arrival=arrival)
    home = visitor.get(reverse("emergency:portal_home")).content.decode()
    assert reverse("emergency:portal_checkin", args=[q.pk]) in home
    r = visitor.post(reverse("emergency:portal_checkin", args=[q.pk]), {"temperature": "37.5"})
    assert r.status_code == 302
    check = CheckIn.objects.get()
    assert (check.by_self, str(check.temperature), check.is_alert) == (True, "37.5", True)
    # Another visitor (another phone) cannot reach this measure.
    assert Client().get(reverse("emergency:portal_checkin", args=[q.pk])).status_code == 404


def test_forged_or_foreign_token_is_404(world: World) -> None:
    event = _event(world)
    token = arrival_token(event, world.a.grid.pk)
    assert Client().get(reverse("emergency:arrive", args=[token[:-2] + "xx"])).status_code == 404
    em.event_end(actor=None, event=event)
    assert Client().get(reverse("emergency:arrive", args=[token])).status_code == 410


def test_worker_releases_and_anyone_verifies_online(world: World) -> None:
    event = _event(world, rule_days={"home": 1})
    arrival = em.arrival_register(
        actor=world.a.worker,
        event=event,
        grid=world.a.grid,
        name="钱二",
        phone=make_phone(),
        arrived_on=timezone.localdate() - dt.timedelta(days=1),
        travel_mode="car",
        risk_area=make_risk(event),
    )
    q = Quarantine.objects.get(arrival=arrival)
    worker = _client(world.a.worker)
    r = worker.post(reverse("emergency:quarantine_release", args=[q.pk]), follow=True)
    assert "签到" in r.content.decode() or "check-in" in r.content.decode().lower()
    r = worker.post(
        reverse("emergency:checkin_create", args=[q.pk]),
        {"temperature": "36.6", "day": str(q.starts_on)},
    )
    assert r.status_code == 302
    worker.post(reverse("emergency:quarantine_release", args=[q.pk]))
    q.refresh_from_db()
    assert q.status == "released"
    detail = worker.get(reverse("emergency:quarantine_detail", args=[q.pk])).content.decode()
    assert q.certificate.payload in detail and "<svg" in detail
    pdf = worker.get(reverse("emergency:certificate_pdf", args=[q.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    online = Client().get(reverse("emergency:verify_online", args=[q.certificate.number]))
    text = online.content.decode()
    assert online.status_code == 200 and "钱*" in text and "钱二" not in text
    em.certificate_revoke(actor=world.head, certificate=q.certificate, reason="登记有误")
    text = Client().get(reverse("emergency:verify_online", args=[q.certificate.number])).content
    assert 'id="verdict">✗' in text.decode()
    assert Client().get(reverse("emergency:verify_online", args=["NOPE"])).status_code == 404
    page = Client().get(reverse("emergency:verify")).content.decode()
    assert 'id="public-key"' in page


def test_portal_home_and_command_view_show_the_event(world: World) -> None:
    from linli.accounts.models import User

    _event(world)
    resident = User.objects.create(username="r-a", person=world.a.householder)
    home = _client(resident).get(reverse("portal:home")).content.decode()
    assert 'id="emergency-banner"' in home and "春季演练" in home
    command = _client(world.head).get(reverse("command:home")).content.decode()
    assert 'id="command-emergency"' in command
    c = Client()
    assert c.login(username=world.a.worker.username, password=PASSWORD)
    assert c.get(reverse("emergency:event_list")).status_code == 200


def test_reminder_task_texts_are_chinese(
    world: World, django_capture_on_commit_callbacks: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The periodic task (as the worker runs it) reminds in the deployment's language."""
    from linli.emergency.tasks import remind_missing_checkins

    event = _event(world, checkin_deadline_hour=0)
    phone = make_phone()
    em.arrival_register(
        actor=world.a.worker,
        event=event,
        grid=world.a.grid,
        name="周三",
        phone=phone,
        arrived_on=timezone.localdate(),
        travel_mode="car",
        risk_area=make_risk(event),
    )
    capsys.readouterr()
    with django_capture_on_commit_callbacks(execute=True):
        remind_missing_checkins.call_local()
    assert f"[SMS → {phone}] 邻里：请上报今日体温（打卡截止 0:00）。" in capsys.readouterr().out


def test_resident_downloads_their_certificate_and_head_changes_the_event(world: World) -> None:
    from linli.accounts.models import User

    event = _event(world, rule_days={"home": 1})
    q = em.quarantine_start(
        actor=None,
        event=event,
        person=world.a.householder,
        kind="home",
        reason="密接",
        starts_on=timezone.localdate() - dt.timedelta(days=1),
    )
    em.checkin_record(actor=world.a.worker, quarantine=q, temperature="36.5", day=q.starts_on)
    em.quarantine_release(actor=world.a.worker, quarantine=q)
    resident = _client(User.objects.create(username="r-a", person=world.a.householder))
    home = resident.get(reverse("emergency:portal_home")).content.decode()
    assert reverse("emergency:portal_certificate", args=[q.pk]) in home
    pdf = resident.get(reverse("emergency:portal_certificate", args=[q.pk]))
    assert pdf.content.startswith(b"%PDF")
    other = _client(User.objects.create(username="r-b", person=world.b.householder))
    assert other.get(reverse("emergency:portal_certificate", args=[q.pk])).status_code == 404

    head = _client(world.head)
    url = reverse("emergency:event_change", args=[event.pk])
    form = head.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if k != "measures"}
    data.update(level="1", measures=["arrivals", "checkins"], rule_low="", days_home="10")
    assert _client(world.a.worker).post(url, data).status_code == 403
    assert head.post(url, data).status_code == 302
    event.refresh_from_db()
    assert (event.level, event.measures, event.days_for("home")) == (
        1,
        ["arrivals", "checkins"],
        10,
    )


def test_worker_puts_a_register_person_under_a_measure(world: World) -> None:
    event = _event(world)
    worker = _client(world.a.worker)
    detail = worker.get(reverse("workbench:person_detail", args=[world.a.member.pk])).content
    url = reverse("emergency:person_measure", args=[world.a.member.pk])
    assert f'href="{url}"'.encode() in detail
    data = {"event": str(event.pk), "kind": "home_monitoring", "reason": "", "starts_on": ""}
    r = worker.post(url, data)
    assert r.status_code == 200 and Quarantine.objects.count() == 0  # reason and day missing
    r = worker.post(url, {**data, "reason": "密切接触者", "starts_on": str(timezone.localdate())})
    q = Quarantine.objects.get()
    assert r["Location"] == reverse("emergency:quarantine_detail", args=[q.pk])
    assert (q.person, q.kind, q.grid, q.responsible) == (
        world.a.member,
        "home_monitoring",
        world.a.grid,
        world.a.worker,
    )
    assert _client(world.b.worker).post(url, data).status_code == 404
    assert Quarantine.objects.count() == 1
    again = worker.get(reverse("workbench:person_detail", args=[world.a.member.pk])).content
    assert reverse("emergency:quarantine_detail", args=[q.pk]).encode() in again
