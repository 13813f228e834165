"""Health services and selectors: rounds, sampling, results, vaccinations, positive alerts,
coverage with exact numbers, and the emergency closed loop's "tested" stage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linli.audit.models import AuditEntry
from linli.emergency import selectors as em_sel
from linli.emergency import services as em
from linli.health import selectors as sel
from linli.health import services as hs
from linli.health.models import AlertStatus, PositiveAlert, TestRecord, Vaccination
from linli.register import services as reg
from tests.factories import World, make_national_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def rnd(world: World) -> Any:
    return hs.round_open(
        actor=world.head,
        name="第一轮",
        area=world.community,
        date=timezone.localdate(),
        sites=["广场", "广场", "学校"],
    )


def test_round_open_needs_rounds_permission_and_sites(world: World) -> None:
    with pytest.raises(PermissionDenied):
        hs.round_open(
            actor=world.a.worker, name="x", area=world.a.grid, date=dt.date.today(), sites=["a"]
        )
    with pytest.raises(ValidationError) as exc:
        hs.round_open(actor=world.head, name=" ", area=world.community, date=dt.date.today())
    assert set(exc.value.message_dict) == {"name", "sites"}


def test_round_has_its_sites_once_and_is_visible_to_both_grid_workers(
    world: World, rnd: Any
) -> None:
    assert list(rnd.sites.values_list("name", flat=True)) == ["广场", "学校"]
    assert list(sel.rounds_visible(world.a.worker)) == [rnd]
    assert list(sel.rounds_visible(world.b.worker)) == [rnd]
    only_b = hs.round_open(
        actor=None, name="乙", area=world.b.grid, date=dt.date.today(), sites=["s"]
    )
    assert only_b not in sel.rounds_visible(world.a.worker)


def test_sampling_twice_stores_once(world: World, rnd: Any) -> None:
    site = rnd.sites.first()
    rec, created = hs.test_sample(
        actor=world.a.worker, round=rnd, person=world.a.householder, site=site
    )
    again, created2 = hs.test_sample(actor=world.a.worker, round=rnd, person=world.a.householder)
    assert (created, created2, again.pk) == (True, False, rec.pk)
    assert TestRecord.objects.count() == 1
    assert rec.result == "pending" and rec.grid == world.a.grid


def test_worker_cannot_sample_or_record_beyond_their_grid(world: World, rnd: Any) -> None:
    with pytest.raises(PermissionDenied):
        hs.test_sample(actor=world.a.worker, round=rnd, person=world.b.householder)
    with pytest.raises(PermissionDenied):
        hs.test_result_record(
            actor=world.a.worker, round=rnd, person=world.b.householder, result="negative"
        )
    with pytest.raises(PermissionDenied):
        hs.vaccination_record(
            actor=world.a.worker,
            person=world.b.member,
            dose=1,
            product="x",
            vaccinated_on=dt.date(2021, 1, 1),
        )
    assert TestRecord.objects.count() == Vaccination.objects.count() == 0


def test_person_outside_the_round_area_is_refused(world: World) -> None:
    rnd_b = hs.round_open(
        actor=None, name="乙", area=world.b.grid, date=dt.date.today(), sites=["s"]
    )
    with pytest.raises(ValidationError):
        hs.test_sample(actor=None, round=rnd_b, person=world.a.householder)


def test_closed_round_takes_results_but_no_sampling(world: World, rnd: Any) -> None:
    hs.test_sample(actor=None, round=rnd, person=world.a.member)
    hs.round_close(actor=world.head, round=rnd)
    with pytest.raises(ValidationError):
        hs.test_sample(actor=None, round=rnd, person=world.a.householder)
    rec, changed = hs.test_result_record(
        actor=world.a.worker, round=rnd, person=world.a.member, result="negative"
    )
    assert changed and rec.result == "negative" and rec.result_at is not None


def test_result_same_twice_changes_nothing_and_a_correction_is_audited(
    world: World, rnd: Any
) -> None:
    p = world.a.householder
    _rec, first = hs.test_result_record(actor=None, round=rnd, person=p, result="negative")
    entries = AuditEntry.objects.count()
    _rec, second = hs.test_result_record(actor=None, round=rnd, person=p, result="negative")
    assert (first, second) == (True, False)
    assert AuditEntry.objects.count() == entries
    rec, third = hs.test_result_record(actor=None, round=rnd, person=p, result="positive")
    assert third and rec.result == "positive"
    assert AuditEntry.objects.count() == entries + 1
    with pytest.raises(ValidationError):
        hs.test_result_record(actor=None, round=rnd, person=p, result="pending")


def test_sample_number_cannot_name_two_people(world: World, rnd: Any) -> None:
    hs.test_result_record(
        actor=None, round=rnd, person=world.a.householder, result="negative", external_id="S1"
    )
    with pytest.raises(ValidationError) as exc:
        hs.test_result_record(
            actor=None, round=rnd, person=world.a.member, result="negative", external_id="S1"
        )
    assert "external_id" in exc.value.message_dict


def test_positive_raises_one_alert_for_the_grid_worker_and_can_start_a_measure(
    world: World, rnd: Any
) -> None:
    event = em.event_declare(
        actor=None,
        name="疫情",
        kind="epidemic",
        areas=[world.community],
        measures=["tests", "quarantine"],
    )
    rnd.event = event
    rnd.save()
    p = world.a.householder
    hs.test_result_record(actor=world.a.worker, round=rnd, person=p, result="positive")
    hs.test_result_record(actor=world.a.worker, round=rnd, person=p, result="positive")
    alert = PositiveAlert.objects.get()
    assert (alert.status, alert.assigned_to, alert.grid) == ("open", world.a.worker, world.a.grid)
    assert list(sel.open_alerts(world.a.worker)) == [alert]
    assert list(sel.open_alerts(world.b.worker)) == []
    done = hs.alert_start_measure(
        actor=world.a.worker, alert=alert, event=event, kind="centralised"
    )
    assert done.status == AlertStatus.DONE
    assert done.quarantine is not None and done.quarantine.person == p
    assert done.quarantine.kind == "centralised"
    with pytest.raises(ValidationError):
        hs.alert_start_measure(actor=world.a.worker, alert=alert, event=event, kind="home")


def test_alert_done_needs_a_note(world: World, rnd: Any) -> None:
    hs.test_result_record(actor=None, round=rnd, person=world.a.member, result="positive")
    alert = PositiveAlert.objects.get()
    with pytest.raises(ValidationError):
        hs.alert_done(actor=world.a.worker, alert=alert, note=" ")
    with pytest.raises(PermissionDenied):
        hs.alert_done(actor=world.b.worker, alert=alert, note="送医")
    assert hs.alert_done(actor=world.a.worker, alert=alert, note="送医").status == "done"


def test_vaccination_retry_is_stored_once_and_a_conflict_refused(world: World) -> None:
    p = world.a.householder
    kw: dict[str, Any] = {
        "person": p,
        "dose": 1,
        "product": "科兴",
        "vaccinated_on": dt.date(2021, 5, 1),
    }
    v1, c1 = hs.vaccination_record(actor=world.a.worker, **kw)
    v2, c2 = hs.vaccination_record(actor=world.a.worker, **kw)
    assert (c1, c2, v1.pk == v2.pk) == (True, False, True)
    with pytest.raises(ValidationError) as exc:
        hs.vaccination_record(actor=world.a.worker, **{**kw, "product": "北京生物"})
    assert "dose" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        hs.vaccination_record(
            actor=world.a.worker,
            person=p,
            dose=2,
            product="科兴",
            vaccinated_on=dt.date(2021, 1, 1),
        )
    assert "vaccinated_on" in exc.value.message_dict
    for bad in (0, 7):
        with pytest.raises(ValidationError):
            hs.vaccination_record(actor=None, **{**kw, "dose": bad})
    with pytest.raises(ValidationError):
        hs.vaccination_record(
            actor=None, **{**kw, "dose": 2, "vaccinated_on": timezone.localdate() + dt.timedelta(1)}
        )
    assert Vaccination.objects.count() == 1


def _extra_person(world: World, name: str, birth: dt.date) -> Any:
    return reg.person_create(
        actor=None,
        name=name,
        national_id=make_national_id(birth),
        household=world.a.household,
        relation="other",
    )


def test_round_coverage_counts_are_exact_per_grid_and_building(world: World, rnd: Any) -> None:
    # Grid A: 3 people (householder, member, an elder); grid B: 2 people.
    elder = _extra_person(world, "张老人", dt.date(1940, 1, 1))
    hs.test_result_record(actor=None, round=rnd, person=world.a.householder, result="negative")
    hs.test_sample(actor=None, round=rnd, person=elder)
    hs.test_result_record(actor=None, round=rnd, person=world.b.member, result="positive")
    head = sel.round_coverage(user=world.head, rnd=rnd)
    rows = {r["key"]: r for r in head["rows"]}
    a, b = rows[world.a.grid.pk], rows[world.b.grid.pk]
    pick = ("people", "sampled", "negative", "positive", "pending", "missing")
    assert [a[k] for k in pick] == [3, 2, 1, 0, 1, 1]
    assert [b[k] for k in pick] == [2, 1, 0, 1, 0, 1]
    assert [head["totals"][k] for k in pick] == [5, 3, 1, 1, 1, 2]
    # The grid worker of A counts A only; per building gives the same numbers for A.
    mine = sel.round_coverage(user=world.a.worker, rnd=rnd, by="building")
    assert [r["key"] for r in mine["rows"]] == [world.a.building.pk]
    assert [mine["totals"][k] for k in pick] == [3, 2, 1, 0, 1, 1]
    missing = sel.round_missing(user=world.a.worker, rnd=rnd)
    assert list(missing) == [world.a.member]
    assert list(sel.round_missing(user=world.a.worker, rnd=rnd, grid_id=world.b.grid.pk)) == []


def test_vaccination_coverage_counts_doses_and_age_bands_exactly(world: World) -> None:
    today = dt.date(2026, 6, 1)
    elder = _extra_person(world, "张老人", dt.date(1940, 1, 1))
    no_birth = reg.person_create(
        actor=None, name="张无生日", household=world.a.household, relation="other"
    )

    def doses(p: Any, n: int) -> None:
        for d in range(1, n + 1):
            hs.vaccination_record(
                actor=None,
                person=p,
                dose=d,
                product="科兴",
                vaccinated_on=dt.date(2021, 1 + d, 1),
                today=today,
            )

    doses(world.a.householder, 3)  # born 1951: 60+
    doses(world.a.member, 1)  # born 2012: 0–17
    doses(elder, 2)
    doses(world.b.householder, 2)
    board = sel.vaccination_coverage(user=world.a.worker, today=today)
    (a,) = board["rows"]
    pick = ("people", "dose1", "dose2", "booster", "missing")
    assert [a[k] for k in pick] == [4, 3, 2, 1, 1]
    assert [a["bands"]["0_17"][k] for k in pick] == [1, 1, 0, 0, 0]
    assert [a["bands"]["18_59"][k] for k in pick] == [0, 0, 0, 0, 0]
    assert [a["bands"]["60_plus"][k] for k in pick] == [2, 2, 2, 1, 0]
    assert list(sel.unvaccinated(user=world.a.worker)) == [no_birth]
    head = sel.vaccination_coverage(user=world.head, area=world.community, today=today)
    assert [head["totals"][k] for k in pick] == [6, 4, 3, 1, 2]


def test_tested_joins_the_emergency_closed_loop(world: World) -> None:
    event = em.event_declare(
        actor=None,
        name="疫情",
        kind="epidemic",
        areas=[world.community],
        measures=["arrivals", "quarantine", "tests"],
    )
    rnd = hs.round_open(
        actor=None,
        name="事件轮次",
        area=world.community,
        date=dt.date.today(),
        sites=["s"],
        event=event,
    )
    routine = hs.round_open(
        actor=None, name="常规", area=world.community, date=dt.date.today(), sites=["s"]
    )
    hs.test_result_record(actor=None, round=rnd, person=world.a.householder, result="negative")
    hs.test_sample(actor=None, round=rnd, person=world.a.member)  # no result yet: not tested
    hs.test_result_record(actor=None, round=routine, person=world.b.member, result="negative")
    board = em_sel.event_dashboard(user=world.head, event=event)
    tested = {r["grid"].pk: r["tested"] for r in board["rows"]}
    assert tested == {world.a.grid.pk: 1, world.b.grid.pk: 0}
    assert board["totals"]["tested"] == 1
    assert em_sel.event_dashboard(user=world.b.worker, event=event)["totals"]["tested"] == 0
    q = em.quarantine_start(
        actor=None, event=event, person=world.a.householder, kind="home", reason="密接"
    )
    stages = {s["key"]: s["done"] for s in em_sel.person_stages(arrival=None, quarantine=q)}
    assert stages["tested"] is True
    q2 = em.quarantine_start(
        actor=None, event=event, person=world.a.member, kind="home", reason="密接"
    )
    stages = {s["key"]: s["done"] for s in em_sel.person_stages(arrival=None, quarantine=q2)}
    assert stages["tested"] is False
