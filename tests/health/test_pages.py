"""Health pages: a grid worker samples, enters results, records a dose and acts on a positive
result; counts on the pages are exact; the resident sees only their own records; the event
page shows the tests buttons and the "tested" stage."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import User
from linli.emergency import services as em
from linli.health import services as hs
from linli.health.models import PositiveAlert, TestRecord, Vaccination
from tests.factories import World

pytestmark = pytest.mark.django_db


def counts(html: str) -> dict[str, int]:
    """The stat cards of a page: data-count name -> number (inside a link or not)."""
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(?:<a[^>]*>)?(\d+)', html)}


def _client(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(user)
    return c


@pytest.fixture
def event(world: World) -> Any:
    return em.event_declare(
        actor=None,
        name="演练事件",
        kind="epidemic",
        areas=[world.community],
        measures=["quarantine", "tests"],
    )


@pytest.fixture
def rnd(world: World, event: Any) -> Any:
    return hs.round_open(
        actor=world.head,
        name="第一轮",
        area=world.community,
        date=timezone.localdate(),
        sites=["广场采样点"],
        event=event,
    )


def test_head_opens_a_round_and_bad_input_keeps_what_was_typed(world: World, event: Any) -> None:
    c = _client(world.head)
    url = reverse("health:round_open")
    r = c.post(
        url, {"name": "第二轮", "area": world.community.pk, "date": "2026-11-20", "sites": ""}
    )
    body = r.content.decode()
    assert r.status_code == 200 and "请至少填写一个采样点。" in body and 'value="第二轮"' in body
    r = c.post(
        url,
        {
            "name": "第二轮",
            "area": world.community.pk,
            "date": "2026-11-20",
            "sites": "广场\n学校",
            "event": event.pk,
        },
    )
    assert r.status_code == 302
    assert _client(world.a.worker).get(url).status_code == 403  # workers do not open rounds


def test_sampling_page_finds_by_id_tail_and_records_once(world: World, rnd: Any) -> None:
    c = _client(world.a.worker)
    url = reverse("health:sampling", args=[rnd.pk])
    site = rnd.sites.get()
    tail = world.a.householder_id_number[-4:]
    r = c.get(url, {"q": tail, "site": site.pk}, HTTP_HX_REQUEST="true")
    assert world.a.householder.name in r.content.decode()
    # Grid B's people are not found by A's worker, whatever the key.
    r = c.get(url, {"q": world.b.householder_id_number[-4:]}, HTTP_HX_REQUEST="true")
    assert world.b.householder.name not in r.content.decode()
    for _ in range(2):
        r = c.post(url, {"person": world.a.householder.pk, "site": site.pk})
        assert r.status_code == 302
    rec = TestRecord.objects.get()
    assert (rec.person, rec.site, rec.source, rec.recorded_by) == (
        world.a.householder,
        site,
        "site",
        world.a.worker,
    )
    assert c.post(url, {"person": world.b.householder.pk}).status_code == 404
    page = c.get(url).content.decode()
    assert "本轮已采样：1 人" in page


def test_results_in_bulk_and_round_page_counts(world: World, rnd: Any) -> None:
    for p in (world.a.householder, world.a.member):
        hs.test_sample(actor=None, round=rnd, person=p)
    c = _client(world.a.worker)
    ids = list(TestRecord.objects.values_list("pk", flat=True))
    r = c.post(reverse("health:results", args=[rnd.pk]), {"record": ids, "result": "negative"})
    assert r.status_code == 302
    assert set(TestRecord.objects.values_list("result", flat=True)) == {"negative"}
    page = c.get(reverse("health:round_detail", args=[rnd.pk])).content.decode()
    assert counts(page) == {
        "people": 2,
        "sampled": 2,
        "negative": 2,
        "positive": 0,
        "pending": 0,
        "missing": 0,
    }
    head = _client(world.head).get(reverse("health:round_detail", args=[rnd.pk])).content.decode()
    assert counts(head) == {
        "people": 4,
        "sampled": 2,
        "negative": 2,
        "positive": 0,
        "pending": 0,
        "missing": 2,
    }
    missing = _client(world.head).get(reverse("health:round_missing", args=[rnd.pk]))
    body = missing.content.decode()
    assert world.b.householder.name in body and world.a.householder.name not in body
    assert world.b.householder.id_masked in body and world.b.householder_id_number not in body


def test_person_page_records_a_dose_and_keeps_bad_input(world: World) -> None:
    c = _client(world.a.worker)
    url = reverse("health:person", args=[world.a.householder.pk])
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    r = c.post(url, {"dose": 1, "product": "科兴", "vaccinated_on": future})
    assert r.status_code == 200 and "日期不能晚于今天。" in r.content.decode()
    assert 'value="科兴"' in r.content.decode()
    r = c.post(url, {"dose": 1, "product": "科兴", "vaccinated_on": "2021-04-01"})
    assert r.status_code == 302 and Vaccination.objects.count() == 1
    assert "科兴" in c.get(url).content.decode()
    assert c.get(reverse("health:person", args=[world.b.householder.pk])).status_code == 404
    # The register's person page links here.
    detail = c.get(reverse("workbench:person_detail", args=[world.a.householder.pk]))
    assert url in detail.content.decode()


def test_positive_alert_starts_a_measure_from_the_page(world: World, rnd: Any) -> None:
    hs.test_result_record(actor=None, round=rnd, person=world.a.member, result="positive")
    alert = PositiveAlert.objects.get()
    c = _client(world.a.worker)
    assert "阳性结果" in c.get(reverse("health:alert_list")).content.decode()
    url = reverse("health:alert_detail", args=[alert.pk])
    r = c.post(url, {"action": "measure", "kind": "centralised"})
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "done" and alert.quarantine is not None
    assert _client(world.b.worker).get(url).status_code == 404


def test_event_page_has_the_tests_buttons_and_the_tested_count(
    world: World, event: Any, rnd: Any
) -> None:
    hs.test_result_record(actor=None, round=rnd, person=world.a.member, result="negative")
    page = _client(world.head).get(reverse("emergency:event_detail", args=[event.pk]))
    body = page.content.decode()
    assert reverse("health:round_list") in body and reverse("health:coverage") in body
    assert 'data-count="tested">1<' in body


def test_coverage_page_and_unvaccinated_list(world: World) -> None:
    hs.vaccination_record(
        actor=None,
        person=world.a.householder,
        dose=1,
        product="x",
        vaccinated_on=dt.date(2021, 1, 1),
    )
    c = _client(world.a.worker)
    body = c.get(reverse("health:coverage")).content.decode()
    assert world.a.grid.name in body and world.b.grid.name not in body
    missing = c.get(reverse("health:unvaccinated")).content.decode()
    assert world.a.member.name in missing and world.a.householder.name not in missing
    assert world.b.member.name not in missing


def test_resident_sees_only_their_own_records(world: World, rnd: Any) -> None:
    hs.test_result_record(actor=None, round=rnd, person=world.a.householder, result="negative")
    hs.test_result_record(actor=None, round=rnd, person=world.a.member, result="positive")
    resident = User.objects.create(username="res-a", person=world.a.householder)
    c = _client(resident)
    body = c.get(reverse("health:portal_mine")).content.decode()
    assert "阴性" in body and "阳性" not in body
    assert _client(world.a.worker).get(reverse("health:portal_mine")).status_code in (302, 403)


def test_department_has_no_health_pages(world: World, department: Any) -> None:
    c = _client(department)
    assert c.get(reverse("health:round_list")).status_code == 403
    assert c.get(reverse("health:coverage")).status_code == 403
