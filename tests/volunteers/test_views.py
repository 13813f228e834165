"""The volunteer pages: workbench, the volunteer's own menu, the portal. Each goes through
the same services as tests/volunteers/test_services.py; here the pages' answers are checked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import RoleBinding, User
from linli.volunteers import services as svc
from linli.volunteers.models import (
    Activity,
    ClaimStatus,
    PointsClaim,
    PointsEntry,
    Redemption,
    RedemptionStatus,
    Reward,
    Signup,
    SignupStatus,
    Volunteer,
    VolunteerStatus,
)
from tests.factories import World
from tests.volunteers.factories import (
    activity,
    approved_volunteer,
    attended,
    resident_user,
    reward,
    rules,
    volunteer_extras,
)

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_resident_applies_on_portal_and_head_approves(world: World) -> None:
    resident = client_for(resident_user(world.a.householder))
    r = resident.get(reverse("volunteers_portal:apply"))
    assert r.status_code == 200 and "申请成为志愿者" in r.content.decode()
    # A party member without an employer: the form comes back with what was typed.
    r = resident.post(
        reverse("volunteers_portal:apply"),
        {
            "kind": "party_member",
            "skills": "水电维修",
            "availability": "周末",
            "name_shown": "full",
        },
    )
    body = r.content.decode()
    assert (
        r.status_code == 200 and "报到党员请填写工作单位。" in body and 'value="水电维修"' in body
    )
    assert Volunteer.objects.count() == 0
    r = resident.post(
        reverse("volunteers_portal:apply"),
        {"kind": "volunteer", "skills": "水电维修", "availability": "周末", "name_shown": "full"},
    )
    assert r.status_code == 302
    v = Volunteer.objects.get()
    assert (v.status, v.area, v.skills) == (VolunteerStatus.APPLIED, world.a.grid, ["水电维修"])
    assert "已申请" in resident.get(reverse("volunteers_portal:apply")).content.decode()

    # A grid worker may not approve: the application is not found for them.
    worker = client_for(world.a.worker)
    r = worker.post(reverse("volunteers:volunteer_review", args=[v.pk]), {"decision": "approve"})
    assert r.status_code == 404
    assert Volunteer.objects.get().status == VolunteerStatus.APPLIED

    head = client_for(world.head)
    assert (
        world.a.householder.name in head.get(reverse("volunteers:registrations")).content.decode()
    )
    r = head.post(reverse("volunteers:volunteer_review", args=[v.pk]), {"decision": "approve"})
    assert r.status_code == 302
    assert Volunteer.objects.get().status == VolunteerStatus.APPROVED
    assert (
        RoleBinding.objects.filter(role="volunteer", area=world.a.grid, is_active=True).count() == 1
    )
    r = resident.get(reverse("volunteers_portal:apply"))
    assert reverse("volunteers:me") in r.content.decode()


def test_worker_registers_and_approval_shows_the_password_once(world: World) -> None:
    worker = client_for(world.a.worker)
    data = {
        "name": "王志愿",
        "phone": "1390000",
        "area": world.a.grid.pk,
        "kind": "volunteer",
        "name_shown": "surname",
    }
    r = worker.post(reverse("volunteers:volunteer_create"), data)
    assert r.status_code == 200 and "请填写正确的手机号。" in r.content.decode()
    assert 'value="王志愿"' in r.content.decode() and Volunteer.objects.count() == 0
    # A grid outside the worker's scope is not a choice.
    r = worker.post(reverse("volunteers:volunteer_create"), {**data, "area": world.b.grid.pk})
    assert r.status_code == 200 and Volunteer.objects.count() == 0
    r = worker.post(reverse("volunteers:volunteer_create"), {**data, "phone": "13900001234"})
    v = Volunteer.objects.get()
    assert r.status_code == 302 and v.phone_masked == "139****1234"
    r = client_for(world.head).post(
        reverse("volunteers:volunteer_review", args=[v.pk]), {"decision": "approve"}
    )
    body = r.content.decode()
    password = re.search(r'id="new-password">([^<]+)<', body)
    assert r.status_code == 200 and password is not None
    user = User.objects.get(username=f"volunteer-{v.pk}")
    assert user.check_password(password.group(1))
    c = Client()
    r = c.post(
        reverse("workbench:login"), {"username": user.username, "password": password.group(1)}
    )
    # Signing in at the workbench leads a volunteer to their own menu.
    r = c.get(reverse("workbench:home"))
    assert r.status_code == 302 and r["Location"] == reverse("volunteers:me")
    r = c.get(reverse("volunteers:me"))
    assert r.status_code == 200 and "我的积分" in r.content.decode()


def test_reject_without_reason_changes_nothing(world: World) -> None:
    v = svc.volunteer_apply(actor=resident_user(world.a.householder), kind="volunteer")
    head = client_for(world.head)
    r = head.post(reverse("volunteers:volunteer_review", args=[v.pk]), {"decision": "reject"})
    assert r.status_code == 302
    assert Volunteer.objects.get().status == VolunteerStatus.APPLIED
    head.post(
        reverse("volunteers:volunteer_review", args=[v.pk]),
        {"decision": "reject", "reason": "名额已满"},
    )
    assert Volunteer.objects.get().status == VolunteerStatus.REJECTED


def test_activity_form_keeps_input_on_error(world: World) -> None:
    worker = client_for(world.a.worker)
    start = timezone.localtime() + dt.timedelta(days=1)
    data = {
        "title": "义诊",
        "area": world.a.grid.pk,
        "place": "活动室",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": 10,
    }
    r = worker.post(reverse("volunteers:activity_create"), data)
    body = r.content.decode()
    assert r.status_code == 200 and "结束时间须晚于开始时间。" in body and 'value="义诊"' in body
    assert Activity.objects.count() == 0
    data["ends_at"] = (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    r = worker.post(reverse("volunteers:activity_create"), data)
    a = Activity.objects.get()
    assert r.status_code == 302 and a.hours == 2.0
    page = worker.get(reverse("volunteers:activity_detail", args=[a.pk])).content.decode()
    assert a.check_in_code in page


def test_volunteer_signs_up_checks_in_claims_and_redeems(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    assert v.user is not None
    me = client_for(User.objects.get(pk=v.user.pk))
    act = activity(world.a.grid, hours=2)
    body = me.get(reverse("volunteers:me_activities")).content.decode()
    assert act.title in body
    me.post(reverse("volunteers:me_signup", args=[act.pk]))
    assert Signup.objects.get().status == SignupStatus.SIGNED_UP
    me.post(reverse("volunteers:me_check_in", args=[act.pk]), {"code": "x"})
    assert Signup.objects.get().status == SignupStatus.SIGNED_UP
    me.post(reverse("volunteers:me_check_in", args=[act.pk]), {"code": act.check_in_code})
    s = Signup.objects.get()
    assert s.status == SignupStatus.ATTENDED
    # A bare claim (no words) is refused with the reason; nothing is claimed.
    r = me.post(reverse("volunteers:me_claim", args=[s.pk]), {"note": ""})
    assert r.status_code == 200 and "仅有照片不能作为服务凭证" in r.content.decode()
    assert PointsClaim.objects.count() == 0
    r = me.post(reverse("volunteers:me_claim", args=[s.pk]), {"note": "打扫楼道"})
    assert r.status_code == 302
    claim = PointsClaim.objects.get()
    assert (claim.points, claim.status) == (20, ClaimStatus.PENDING)

    worker = client_for(world.a.worker)
    assert "打扫楼道" in worker.get(reverse("volunteers:claim_list")).content.decode()
    worker.post(reverse("volunteers:claim_review", args=[claim.pk]), {"decision": "approve"})
    assert svc.balance(v) == 20
    points_page = me.get(reverse("volunteers:me_points")).content.decode()
    assert 'id="balance">20<' in points_page
    assert "积分入账" in points_page and "清扫楼道 · +20" in points_page  # my own timeline

    rw = reward(world.community, price=15, stock=3)
    page = me.get(reverse("volunteers:me_store")).content.decode()
    key = re.search(r'name="request_key" value="([^"]+)"', page)
    assert key is not None
    for _ in range(2):  # a double tap sends the same form twice
        me.post(reverse("volunteers:me_redeem", args=[rw.pk]), {"request_key": key.group(1)})
    assert Redemption.objects.count() == 1 and svc.balance(v) == 5
    assert Reward.objects.get().stock == 2
    r = me.post(
        reverse("volunteers:me_redeem", args=[rw.pk]), {"request_key": "another"}, follow=True
    )
    assert "积分不足" in r.content.decode() and Redemption.objects.count() == 1
    red = Redemption.objects.get()
    assert "洗衣液" in worker.get(reverse("volunteers:redemption_list")).content.decode()
    worker.post(reverse("volunteers:redemption_handle", args=[red.pk]), {"decision": "hand_over"})
    assert Redemption.objects.get().status == RedemptionStatus.PICKED_UP


def test_volunteer_cannot_reach_the_sibling_grid(world: World) -> None:
    """A's volunteer asks for B's activity, sign-up, reward and redemption: 404, no change."""
    x = volunteer_extras(world)
    v = approved_volunteer(world, world.a.householder)
    assert v.user is not None
    me = client_for(User.objects.get(pk=v.user.pk))
    before = (
        Signup.objects.count(),
        PointsClaim.objects.count(),
        Redemption.objects.count(),
        PointsEntry.objects.count(),
        list(Redemption.objects.values_list("status", flat=True)),
        list(Signup.objects.values_list("status", flat=True)),
    )
    calls = [
        ("post", "volunteers:me_signup", x["vol_activity_b"].pk, {}),
        ("post", "volunteers:me_check_in", x["vol_activity_b"].pk, {"code": "000000"}),
        ("get", "volunteers:me_claim", x["vol_signup_b"].pk, {}),
        ("post", "volunteers:me_claim", x["vol_signup_b"].pk, {"note": "x"}),
        ("post", "volunteers:me_redeem", x["vol_reward_b"].pk, {"request_key": "k"}),
        ("post", "volunteers:me_redemption_cancel", x["vol_redemption_b"].pk, {}),
        ("post", "volunteers:me_signup_cancel", x["vol_open_signup_b"].pk, {}),
    ]
    for method, name, pk, data in calls:
        r = getattr(me, method)(reverse(name, args=[pk]), data)
        assert r.status_code == 404, name
    after = (
        Signup.objects.count(),
        PointsClaim.objects.count(),
        Redemption.objects.count(),
        PointsEntry.objects.count(),
        list(Redemption.objects.values_list("status", flat=True)),
        list(Signup.objects.values_list("status", flat=True)),
    )
    assert after == before
    for name in ("volunteers:me_activities", "volunteers:me_store", "volunteers:me_points"):
        body = me.get(reverse(name)).content.decode()
        assert "乙网格" not in body, name


def test_worker_pages_show_own_grid_only(world: World) -> None:
    x = volunteer_extras(world)
    v = approved_volunteer(world, world.a.householder, name_shown="full")
    s = attended(v, activity(world.a.grid, title="甲网格活动"))
    assert v.user is not None
    svc.claim_review(
        actor=None, claim=svc.claim_for_signup(actor=v.user, signup=s, note="x"), approve=True
    )
    worker = client_for(world.a.worker)
    for name in ("volunteers:volunteer_list", "volunteers:rankings", "volunteers:activity_list"):
        body = worker.get(reverse(name)).content.decode()
        assert world.a.householder.name in body or "甲网格活动" in body, name
        assert x["vol_volunteer_b"].name not in body and "乙网格" not in body, name
    # The head of the community sees both grids in the community's ranking.
    head = client_for(world.head)
    body = head.get(reverse("volunteers:rankings"), {"area": world.community.pk}).content.decode()
    assert world.a.householder.name in body and x["vol_volunteer_b"].name in body
    # A grid not in scope is 404.
    r = worker.get(reverse("volunteers:rankings"), {"area": world.b.grid.pk})
    assert r.status_code == 404


def test_portal_board_shows_names_as_chosen(world: World) -> None:
    rules(world.community)
    full = approved_volunteer(world, world.a.householder, name_shown="full")
    short = approved_volunteer(world, world.a.member, name_shown="surname")
    for v in (full, short):
        s = attended(v, activity(world.a.grid, title=f"活动{v.pk}"))
        assert v.user is not None
        svc.claim_review(
            actor=None, claim=svc.claim_for_signup(actor=v.user, signup=s, note="x"), approve=True
        )
    resident = client_for(resident_user(world.a.householder))
    body = resident.get(reverse("volunteers_portal:board")).content.decode()
    names = re.findall(r'class="board-name">([^<]+)<', body)
    assert names == [world.a.householder.name, "张志愿者"]
    assert world.a.member.name not in body


def test_rules_page_lets_the_community_configure(world: World) -> None:
    head = client_for(world.head)
    r = head.post(
        reverse("volunteers:rule_list"),
        {"area": world.community.pk, "kind": "activity_hour", "points": 12, "min_stars": 4},
    )
    assert r.status_code == 302
    assert "12" in client_for(world.a.worker).get(reverse("volunteers:rule_list")).content.decode()
    r = client_for(world.a.worker).post(
        reverse("volunteers:rule_list"),
        {"area": world.a.grid.pk, "kind": "activity_hour", "points": 99, "min_stars": 4},
    )
    assert r.status_code == 403
    assert svc.rule_for("activity_hour", world.a.grid).points == 12  # type: ignore[union-attr]


def test_organiser_page_shows_a_qr_code_that_opens_the_check_in(world: World) -> None:
    v = approved_volunteer(world, world.a.householder)
    act = activity(world.a.grid)
    assert v.user is not None
    svc.signup_create(actor=v.user, activity=act)
    page = client_for(world.a.worker).get(reverse("volunteers:activity_detail", args=[act.pk]))
    body = page.content.decode()
    assert '<div class="mt-2 check-in-qr" id="check-in-qr"><svg' in body
    # The QR code encodes the check-in page with the code; opening it fills the code in.
    me = client_for(User.objects.get(pk=v.user.pk))
    url = reverse("volunteers:me_check_in", args=[act.pk])
    r = me.get(url, {"code": act.check_in_code})
    assert f'value="{act.check_in_code}"' in r.content.decode()
    assert Signup.objects.get().status == SignupStatus.SIGNED_UP  # a GET checks nobody in
    me.post(url, {"code": act.check_in_code})
    assert Signup.objects.get().status == SignupStatus.ATTENDED
    # Grid B's worker cannot see the page (and so not the code).
    r = client_for(world.b.worker).get(reverse("volunteers:activity_detail", args=[act.pk]))
    assert r.status_code == 404


def test_volunteer_gives_up_a_place_before_check_in(world: World) -> None:
    v = approved_volunteer(world, world.a.householder)
    act = activity(world.a.grid, capacity=1)
    assert v.user is not None
    s = svc.signup_create(actor=v.user, activity=act)
    me = client_for(User.objects.get(pk=v.user.pk))
    me.post(reverse("volunteers:me_signup_cancel", args=[s.pk]))
    assert Signup.objects.get().status == SignupStatus.CANCELLED
    # The place is free again; signing up once more reopens the same row.
    me.post(reverse("volunteers:me_signup", args=[act.pk]))
    assert list(Signup.objects.values_list("status", flat=True)) == [SignupStatus.SIGNED_UP]
    svc.signup_check_in(actor=world.a.worker, signup=s)
    r = me.post(reverse("volunteers:me_signup_cancel", args=[s.pk]), follow=True)
    assert "已签到的报名不能取消。" in r.content.decode()
    assert Signup.objects.get().status == SignupStatus.ATTENDED
