"""Services of the volunteers capability: registration, activities, claims, the ledger, the
store. Each denied call is shown to change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linli.accounts.models import RoleBinding, User
from linli.accounts.roles import Perm
from linli.audit.models import AuditEntry
from linli.core.scoping import scope_for
from linli.volunteers import services as svc
from linli.volunteers.models import (
    ClaimStatus,
    EntryKind,
    PointsClaim,
    PointsEntry,
    Redemption,
    RedemptionStatus,
    Reward,
    Signup,
    SignupStatus,
    Volunteer,
    VolunteerEvent,
    VolunteerStatus,
)
from tests.factories import World
from tests.volunteers.factories import (
    FakeOrder,
    FakeShift,
    activity,
    approved_volunteer,
    attended,
    resident_user,
    reward,
    rules,
)

pytestmark = pytest.mark.django_db


# --- registration and approval -----------------------------------------------------------


def test_resident_applies_and_community_head_approval_grants_the_role(world: World) -> None:
    user = resident_user(world.a.householder)
    v = svc.volunteer_apply(
        actor=user, kind="volunteer", skills="水电维修，急救、水电维修", availability="周末上午"
    )
    assert (v.status, v.area, v.residence_community, v.skills) == (
        VolunteerStatus.APPLIED,
        world.a.grid,
        world.community,
        ["水电维修", "急救"],
    )
    assert scope_for(user, Perm.SERVE_AS_VOLUNTEER).is_empty
    v, generated = svc.volunteer_approve(actor=world.head, volunteer=v)
    assert generated is None  # the resident keeps signing in with their phone
    assert (v.status, v.user, v.approved_by) == (VolunteerStatus.APPROVED, user, world.head)
    binding = RoleBinding.objects.get(user=user)
    assert (binding.role, binding.area, binding.is_active) == ("volunteer", world.a.grid, True)
    fresh = User.objects.get(pk=user.pk)
    assert scope_for(fresh, Perm.SERVE_AS_VOLUNTEER).covers(world.a.grid)
    assert list(v.events.values_list("kind", flat=True)) == ["approved", "applied"]


def test_applying_twice_returns_the_open_application(world: World) -> None:
    user = resident_user(world.a.householder)
    first = svc.volunteer_apply(actor=user, kind="volunteer")
    again = svc.volunteer_apply(actor=user, kind="volunteer", skills="急救")
    assert again.pk == first.pk and Volunteer.objects.count() == 1
    assert Volunteer.objects.get().skills == []


def test_party_member_needs_employer_and_paired_community(world: World) -> None:
    user = resident_user(world.a.householder)
    with pytest.raises(ValidationError) as exc:
        svc.volunteer_apply(actor=user, kind="party_member")
    assert set(exc.value.message_dict) == {"employer", "paired_community"}
    assert Volunteer.objects.count() == 0
    v = svc.volunteer_apply(
        actor=user, kind="party_member", employer="市税务局", paired_community=world.community
    )
    assert (v.employer, v.paired_community) == ("市税务局", world.community)


def test_worker_registration_and_approval_create_an_account(world: World) -> None:
    v = svc.volunteer_register(
        actor=world.a.worker, name="王志愿", phone="13900001111", area=world.a.grid
    )
    assert v.phone_masked == "139****1111" and v.user is None
    assert b"13900001111" not in bytes(v.phone_sealed)
    v, generated = svc.volunteer_approve(actor=world.head, volunteer=v)
    assert generated and v.user is not None and v.user.username == f"volunteer-{v.pk}"
    assert v.user.check_password(generated)
    assert RoleBinding.objects.filter(user=v.user, role="volunteer", area=world.a.grid).exists()


def test_grid_worker_cannot_approve_and_nothing_changes(world: World) -> None:
    user = resident_user(world.a.householder)
    v = svc.volunteer_apply(actor=user, kind="volunteer")
    audits = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied):
        svc.volunteer_approve(actor=world.a.worker, volunteer=v)
    v.refresh_from_db()
    assert v.status == VolunteerStatus.APPLIED and v.approved_by is None
    assert not RoleBinding.objects.filter(user=user).exists()
    assert AuditEntry.objects.count() == audits


def test_worker_cannot_register_in_sibling_grid(world: World) -> None:
    with pytest.raises(PermissionDenied):
        svc.volunteer_register(
            actor=world.a.worker, name="越权", phone="13900002222", area=world.b.grid
        )
    assert Volunteer.objects.count() == 0


def test_reject_needs_a_reason_and_reapply_reopens(world: World) -> None:
    user = resident_user(world.a.householder)
    v = svc.volunteer_apply(actor=user, kind="volunteer")
    with pytest.raises(ValidationError):
        svc.volunteer_reject(actor=world.head, volunteer=v, reason=" ")
    v = svc.volunteer_reject(actor=world.head, volunteer=v, reason="暂不招募")
    assert v.status == VolunteerStatus.REJECTED
    with pytest.raises(ValidationError):
        svc.volunteer_approve(actor=world.head, volunteer=v)
    again = svc.volunteer_apply(actor=user, kind="volunteer")
    assert again.pk == v.pk and again.status == VolunteerStatus.APPLIED


def test_suspension_stops_the_role_and_reinstatement_restores_it(world: World) -> None:
    v = approved_volunteer(world, world.a.householder)
    svc.volunteer_suspend(actor=world.head, volunteer=v, reason="长期未参加")
    assert not RoleBinding.objects.get(user=v.user).is_active
    assert v.user is not None
    with pytest.raises(PermissionDenied):
        svc.acting_volunteer(User.objects.get(pk=v.user.pk))
    svc.volunteer_reinstate(actor=world.head, volunteer=v)
    assert RoleBinding.objects.get(user=v.user).is_active
    assert svc.acting_volunteer(User.objects.get(pk=v.user.pk)).pk == v.pk


# --- activities ----------------------------------------------------------------------------


def test_sign_up_respects_capacity_and_is_idempotent(world: World) -> None:
    rules(world.community)
    v1 = approved_volunteer(world, world.a.householder)
    v2 = approved_volunteer(world, world.a.member)
    act = activity(world.a.grid, capacity=1)
    assert v1.user is not None and v2.user is not None
    s = svc.signup_create(actor=v1.user, activity=act)
    assert svc.signup_create(actor=v1.user, activity=act).pk == s.pk
    with pytest.raises(ValidationError) as exc:
        svc.signup_create(actor=v2.user, activity=act)
    assert exc.value.messages == ["名额已满。"]
    assert Signup.objects.count() == 1


def test_volunteer_cannot_sign_up_in_sibling_grid(world: World) -> None:
    v = approved_volunteer(world, world.a.householder)
    act = activity(world.b.grid)
    assert v.user is not None
    with pytest.raises(PermissionDenied):
        svc.signup_create(actor=v.user, activity=act)
    assert Signup.objects.count() == 0


def test_self_check_in_needs_the_code(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    act = activity(world.a.grid, hours=3)
    assert v.user is not None
    svc.signup_create(actor=v.user, activity=act)
    wrong = "000000" if act.check_in_code != "000000" else "111111"
    with pytest.raises(ValidationError):
        svc.signup_self_check_in(actor=v.user, activity=act, code=wrong)
    assert Signup.objects.get().status == SignupStatus.SIGNED_UP
    s = svc.signup_self_check_in(actor=v.user, activity=act, code=act.check_in_code)
    assert (s.status, s.hours) == (SignupStatus.ATTENDED, 3)


def test_check_in_outside_the_window_is_refused(world: World) -> None:
    v = approved_volunteer(world, world.a.householder)
    start = timezone.now() + dt.timedelta(hours=5)
    act = svc.activity_create(
        actor=world.a.worker,
        area=world.a.grid,
        title="明天的活动",
        place="活动室",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=3,
    )
    assert v.user is not None
    svc.signup_create(actor=v.user, activity=act)
    with pytest.raises(ValidationError):
        svc.signup_self_check_in(actor=v.user, activity=act, code=act.check_in_code)


def test_sibling_worker_cannot_check_in(world: World) -> None:
    v = approved_volunteer(world, world.a.householder)
    act = activity(world.a.grid)
    assert v.user is not None
    s = svc.signup_create(actor=v.user, activity=act)
    with pytest.raises(PermissionDenied):
        svc.signup_check_in(actor=world.b.worker, signup=s)
    s.refresh_from_db()
    assert s.status == SignupStatus.SIGNED_UP and s.hours is None


# --- claims and the ledger -----------------------------------------------------------------


def test_claim_review_posts_points_once(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid, hours=2))
    assert v.user is not None
    claim = svc.claim_for_signup(actor=v.user, signup=s, note="清扫了一至六层楼道")
    assert svc.claim_for_signup(actor=v.user, signup=s, note="again").pk == claim.pk
    assert (claim.points, claim.status, svc.balance(v)) == (20, ClaimStatus.PENDING, 0)
    claim = svc.claim_review(actor=world.a.worker, claim=claim, approve=True)
    assert claim.status == ClaimStatus.APPROVED and claim.entry is not None
    assert (claim.entry.delta, claim.entry.kind, claim.entry.reviewed_by) == (
        20,
        EntryKind.EARN,
        world.a.worker,
    )
    assert svc.balance(v) == 20
    with pytest.raises(ValidationError):
        svc.claim_review(actor=world.a.worker, claim=claim, approve=True)
    assert PointsEntry.objects.count() == 1 and svc.balance(v) == 20


def test_a_bare_claim_without_a_note_is_refused(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    with pytest.raises(ValidationError) as exc:
        svc.claim_for_signup(actor=v.user, signup=s, note="   ")
    assert "note" in exc.value.message_dict
    assert PointsClaim.objects.count() == 0


def test_claim_needs_attendance(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    assert v.user is not None
    s = svc.signup_create(actor=v.user, activity=activity(world.a.grid))
    with pytest.raises(ValidationError):
        svc.claim_for_signup(actor=v.user, signup=s, note="我来了")
    assert PointsClaim.objects.count() == 0


def test_rejected_claim_keeps_reason_and_posts_nothing(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    claim = svc.claim_for_signup(actor=v.user, signup=s, note="拍了照片")
    with pytest.raises(ValidationError):
        svc.claim_review(actor=world.a.worker, claim=claim, approve=False, reason="")
    claim = svc.claim_review(
        actor=world.a.worker, claim=claim, approve=False, reason="照片不能代替工作记录"
    )
    assert (claim.status, claim.review_reason, claim.entry) == (
        ClaimStatus.REJECTED,
        "照片不能代替工作记录",
        None,
    )
    assert PointsEntry.objects.count() == 0


def test_sibling_grid_worker_cannot_review_and_nothing_changes(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    claim = svc.claim_for_signup(actor=v.user, signup=s, note="清扫楼道")
    with pytest.raises(PermissionDenied):
        svc.claim_review(actor=world.b.worker, claim=claim, approve=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDING and PointsEntry.objects.count() == 0


def test_nobody_reviews_their_own_claim(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    claim = svc.claim_for_signup(actor=v.user, signup=s, note="清扫楼道")
    # The volunteer is also made a grid worker of the same grid.
    svc.acc.binding_grant(actor=None, user=v.user, role="grid_worker", area=world.a.grid)
    with pytest.raises(PermissionDenied):
        svc.claim_review(actor=User.objects.get(pk=v.user.pk), claim=claim, approve=True)
    assert PointsEntry.objects.count() == 0


def test_ledger_refuses_update_and_delete(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    claim = svc.claim_review(
        actor=None,
        claim=svc.claim_for_signup(actor=v.user, signup=s, note="x"),
        approve=True,
    )
    entry = claim.entry
    assert entry is not None
    entry.delta = 9999
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    with pytest.raises(RuntimeError):
        PointsEntry.objects.filter(pk=entry.pk).update(delta=9999)
    with pytest.raises(RuntimeError):
        PointsEntry.objects.all().delete()
    assert list(PointsEntry.objects.values_list("delta", flat=True)) == [20]


def test_reversal_is_a_new_entry(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    claim = svc.claim_review(
        actor=None, claim=svc.claim_for_signup(actor=v.user, signup=s, note="x"), approve=True
    )
    assert claim.entry is not None
    with pytest.raises(PermissionDenied):
        svc.points_reverse(actor=world.b.worker, entry=claim.entry, reason="错")
    rev = svc.points_reverse(actor=world.a.worker, entry=claim.entry, reason="重复登记")
    assert (rev.delta, rev.kind, rev.reversal_of) == (-20, EntryKind.REVERSAL, claim.entry)
    assert svc.balance(v) == 0
    assert sorted(PointsEntry.objects.values_list("delta", flat=True)) == [-20, 20]
    with pytest.raises(ValidationError):
        svc.points_reverse(actor=world.a.worker, entry=claim.entry, reason="again")


# --- work orders (duck-typed until linli.orders is merged) ---------------------------------


def test_points_claim_for_a_rated_order(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    assert v.user is not None
    order = FakeOrder(
        pk=41, number="WO-2026-0041", grid=world.a.grid, rating_stars=5, status="rated"
    )
    claim = svc.points_claim_for_order(order=order, volunteer_user=v.user)
    assert (claim.source_type, claim.source_id, claim.points, claim.status) == (
        "order",
        41,
        20,
        ClaimStatus.PENDING,
    )
    assert "WO-2026-0041" in claim.note
    assert svc.points_claim_for_order(order=order, volunteer_user=v.user).pk == claim.pk
    low = FakeOrder(pk=42, number="WO-2026-0042", grid=world.a.grid, rating_stars=3, status="rated")
    with pytest.raises(ValidationError):
        svc.points_claim_for_order(order=low, volunteer_user=v.user)
    unrated = FakeOrder(pk=43, number="WO-43", grid=world.a.grid, rating_stars=None, status="done")
    with pytest.raises(ValidationError):
        svc.points_claim_for_order(order=unrated, volunteer_user=v.user)
    assert PointsClaim.objects.count() == 1


def test_points_claim_for_a_checkpoint_shift(world: World) -> None:
    svc.rule_create(actor=None, area=world.community, kind="checkpoint_shift", points=15)
    v = approved_volunteer(world, world.a.householder)
    assert v.user is not None
    ended = timezone.now() - dt.timedelta(hours=1)
    shift = FakeShift(pk=7, label="3号门 8:00–12:00", grid=world.a.grid, ended_at=ended, note="")
    claim = svc.points_claim_for_shift(shift=shift, volunteer_user=v.user)
    assert (claim.source_type, claim.source_id, claim.points) == ("checkpoint_shift", 7, 15)
    assert claim.note == "卡口值守 3号门 8:00–12:00"
    assert svc.points_claim_for_shift(shift=shift, volunteer_user=v.user).pk == claim.pk
    running = FakeShift(pk=8, label="4号门", grid=world.a.grid, ended_at=None, note="")
    with pytest.raises(ValidationError):
        svc.points_claim_for_shift(shift=running, volunteer_user=v.user)
    assert PointsClaim.objects.count() == 1


def test_nearest_rule_wins(world: World) -> None:
    rules(world.community)
    svc.rule_create(actor=world.head, area=world.a.grid, kind="order_rated", points=50, min_stars=5)
    assert svc.rule_for("order_rated", world.a.grid).points == 50  # type: ignore[union-attr]
    assert svc.rule_for("order_rated", world.b.grid).points == 20  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied):
        svc.rule_create(actor=world.a.worker, area=world.a.grid, kind="order_rated", points=1)


# --- the store -----------------------------------------------------------------------------


def _earned(world: World, points_needed: int = 20):  # type: ignore[no-untyped-def]
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    svc.claim_review(
        actor=None, claim=svc.claim_for_signup(actor=v.user, signup=s, note="x"), approve=True
    )
    return v


def test_redemption_spends_and_reserves_atomically_and_once(world: World) -> None:
    v = _earned(world)
    rw = reward(world.community, price=15, stock=2)
    assert v.user is not None
    r = svc.redemption_create(actor=v.user, reward=rw, request_key="k1")
    again = svc.redemption_create(actor=v.user, reward=rw, request_key="k1")
    assert again.pk == r.pk
    assert (Reward.objects.get().stock, svc.balance(v)) == (1, 5)
    assert r.spend_entry is not None and r.spend_entry.delta == -15


def test_insufficient_points_change_nothing(world: World) -> None:
    v = _earned(world)
    rw = reward(world.community, price=25, stock=2)
    assert v.user is not None
    with pytest.raises(ValidationError) as exc:
        svc.redemption_create(actor=v.user, reward=rw, request_key="k1")
    assert exc.value.messages == ["积分不足：这件奖品需要25积分，您现有20积分。"]
    assert (Reward.objects.get().stock, svc.balance(v), Redemption.objects.count()) == (2, 20, 0)


def test_out_of_stock_changes_nothing(world: World) -> None:
    v = _earned(world)
    rw = reward(world.community, price=5, stock=1)
    assert v.user is not None
    svc.redemption_create(actor=v.user, reward=rw, request_key="k1")
    with pytest.raises(ValidationError) as exc:
        svc.redemption_create(actor=v.user, reward=rw, request_key="k2")
    assert exc.value.messages == ["抱歉，这件奖品已经兑完了。"]
    assert (Reward.objects.get().stock, svc.balance(v), Redemption.objects.count()) == (0, 15, 1)


def test_hand_over_and_cancel_refund_with_a_reversal(world: World) -> None:
    v = _earned(world)
    rw = reward(world.community, price=10, stock=3)
    assert v.user is not None
    r1 = svc.redemption_create(actor=v.user, reward=rw, request_key="k1")
    r2 = svc.redemption_create(actor=v.user, reward=rw, request_key="k2")
    assert svc.balance(v) == 0
    with pytest.raises(PermissionDenied):
        svc.redemption_hand_over(actor=world.b.worker, redemption=r1)
    r1 = svc.redemption_hand_over(actor=world.a.worker, redemption=r1)
    assert (r1.status, r1.handled_by) == (RedemptionStatus.PICKED_UP, world.a.worker)
    with pytest.raises(ValidationError):
        svc.redemption_cancel(actor=world.a.worker, redemption=r1)
    r2 = svc.redemption_cancel(actor=v.user, redemption=r2, reason="不需要了")
    assert r2.status == RedemptionStatus.CANCELLED and r2.refund_entry is not None
    assert (r2.refund_entry.kind, r2.refund_entry.delta) == (EntryKind.REVERSAL, 10)
    assert (svc.balance(v), Reward.objects.get().stock) == (10, 2)
    kinds = sorted(PointsEntry.objects.values_list("kind", "delta"))
    assert kinds == [("earn", 20), ("reversal", 10), ("spend", -10), ("spend", -10)]


def test_reward_of_sibling_grid_is_not_for_sale(world: World) -> None:
    v = _earned(world)
    rw = reward(world.b.grid, price=5, stock=1)
    assert v.user is not None
    with pytest.raises(PermissionDenied):
        svc.redemption_create(actor=v.user, reward=rw, request_key="k")
    assert (Reward.objects.get().stock, svc.balance(v)) == (1, 20)


def test_timeline_records_the_service(world: World) -> None:
    v = _earned(world)
    kinds = list(
        VolunteerEvent.objects.filter(volunteer=v).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["applied", "approved", "signed_up", "checked_in", "claimed", "claim_approved"]


def test_non_volunteer_cannot_serve(world: World) -> None:
    act = activity(world.a.grid)
    with pytest.raises(PermissionDenied):
        svc.signup_create(actor=world.a.worker, activity=act)
    assert Signup.objects.count() == 0
