"""Volunteers in the two-grid test world, made through the product's own services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from linli.accounts.models import User
from linli.areas.models import Area
from linli.register.models import Person
from linli.volunteers import services as svc
from linli.volunteers.models import Activity, PointsRule, Reward, RuleKind, Signup, Volunteer
from tests.factories import World


def resident_user(person: Person) -> User:
    """The portal account of a register person (as the phone sign-in makes it)."""
    user = User.objects.filter(person=person).first()
    if user is None:
        user = User(username=f"resident-{person.pk}", display_name=person.name, person=person)
        user.set_unusable_password()
        user.save()
    return user


def approved_volunteer(world: World, person: Person, **kwargs: Any) -> Volunteer:
    """A resident applies on the portal and the community head approves."""
    user = resident_user(person)
    v = svc.volunteer_apply(actor=user, kind=kwargs.pop("kind", "volunteer"), **kwargs)
    v, _ = svc.volunteer_approve(actor=world.head, volunteer=v)
    user.refresh_from_db()
    return v


def rules(area: Area) -> dict[str, PointsRule]:
    return {
        "hour": svc.rule_create(actor=None, area=area, kind=RuleKind.ACTIVITY_HOUR, points=10),
        "order": svc.rule_create(
            actor=None, area=area, kind=RuleKind.ORDER_RATED, points=20, min_stars=4
        ),
    }


def activity(area: Area, *, hours: int = 2, capacity: int = 5, title: str = "清扫楼道") -> Activity:
    start = timezone.now() - dt.timedelta(minutes=30)
    return svc.activity_create(
        actor=None,
        area=area,
        title=title,
        place="3号楼前",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        capacity=capacity,
    )


def attended(volunteer: Volunteer, act: Activity) -> Signup:
    assert volunteer.user is not None
    s = svc.signup_create(actor=volunteer.user, activity=act)
    return svc.signup_check_in(actor=None, signup=s)


def reward(area: Area, *, price: int = 15, stock: int = 2, name: str = "洗衣液") -> Reward:
    return svc.reward_create(actor=None, area=area, name=name, price=price, stock=stock)


def photo_bytes(size: tuple[int, int] = (64, 48), fmt: str = "PNG", **save: Any) -> bytes:
    """A small real image, as a phone would upload it."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt, **save)
    return out.getvalue()


@dataclass
class FakeOrder:
    """Stands in for linli.orders' WorkOrder (not in this branch): the attributes
    points_claim_for_order reads."""

    pk: int
    number: str
    grid: Area
    rating_stars: int | None
    status: str


@dataclass
class FakeShift:
    """Stands in for the emergency capability's checkpoint shift (not in this branch)."""

    pk: int
    label: str
    grid: Area
    ended_at: dt.datetime | None
    note: str


@dataclass
class VolunteerWorld:
    """Grid B's volunteer objects for the cross-grid walk."""

    volunteer: Volunteer
    activity: Activity
    signup: Signup
    claim: Any
    reward: Reward
    redemption: Any
    entry: Any


def volunteer_extras(world: World) -> dict[str, Any]:
    """One of everything in grid B (a volunteer with a pending claim, a posted entry, a reserved
    reward, an activity), for tests/test_scoping_walk.py."""
    rules(world.community)
    v = approved_volunteer(world, world.b.member, name_shown="full")
    act = activity(world.b.grid, title="乙网格活动")
    s = attended(v, act)
    assert v.user is not None
    first = svc.claim_for_signup(actor=v.user, signup=s, note="清扫了楼道")
    svc.claim_review(actor=None, claim=first, approve=True)
    second = attended(v, activity(world.b.grid, title="乙网格第二次活动"))
    claim = svc.claim_for_signup(
        actor=v.user, signup=second, note="整理了车棚", photo=photo_bytes()
    )
    open_signup = svc.signup_create(
        actor=v.user, activity=activity(world.b.grid, title="乙网格第三次活动")
    )
    applicant = svc.volunteer_register(
        actor=world.b.worker, name="李申请", phone="13900009999", area=world.b.grid
    )
    rw = reward(world.b.grid, name="乙网格奖品")
    red = svc.redemption_create(actor=v.user, reward=rw, request_key="walk-b")
    first.refresh_from_db()
    return {
        "vol_volunteer_b": v,
        "vol_activity_b": act,
        "vol_signup_b": s,
        "vol_open_signup_b": open_signup,
        "vol_applicant_b": applicant,
        "vol_claim_b": claim,
        "vol_reward_b": rw,
        "vol_redemption_b": red,
        "vol_entry_b": first.entry,
    }
