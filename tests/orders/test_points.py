"""A rated work order done by a volunteer becomes a points claim; points post only on review."""

from __future__ import annotations

import datetime as dt

import pytest

from linli.orders import services as svc
from linli.volunteers import services as vsvc
from linli.volunteers.models import ClaimStatus, PointsClaim
from tests.factories import World
from tests.orders.factories import T0, order_in, photo, resident_user
from tests.volunteers.factories import approved_volunteer, rules

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def _done_by(world: World, user) -> object:  # type: ignore[no-untyped-def]
    order = order_in(world)
    svc.order_accept(actor=world.a.worker, order=order, now=T0 + H)
    svc.order_dispatch(actor=world.a.worker, order=order, assignee=user, now=T0 + 2 * H)
    svc.order_take(actor=user, order=order, now=T0 + 3 * H)
    svc.order_start(actor=user, order=order, now=T0 + 4 * H)
    svc.order_finish(
        actor=user, order=order, note="换了灯泡", minutes_spent=30, photos=[photo()], now=T0 + 5 * H
    )
    return order


def test_a_rating_opens_a_claim_that_posts_after_review(world: World) -> None:
    rules(world.a.grid)  # 20 points for an order rated 4 stars or more
    v = approved_volunteer(world, world.a.member)
    assert v.user is not None
    order = _done_by(world, v.user)
    svc.order_rate(actor=resident_user(world), order=order, stars=5, now=T0 + 6 * H)

    claim = PointsClaim.objects.get()
    assert (claim.volunteer_id, claim.points, claim.status) == (v.pk, 20, ClaimStatus.PENDING)
    assert vsvc.balance(v) == 0  # nothing posts on a rating alone
    vsvc.claim_review(actor=world.a.worker, claim=claim, approve=True)
    assert vsvc.balance(v) == 20


def test_a_low_rating_or_staff_work_opens_no_claim_and_the_rating_stands(world: World) -> None:
    rules(world.a.grid)
    v = approved_volunteer(world, world.a.member)
    assert v.user is not None
    order = _done_by(world, v.user)
    svc.order_rate(actor=resident_user(world), order=order, stars=3, now=T0 + 6 * H)
    order.refresh_from_db()
    assert (order.status, PointsClaim.objects.count()) == ("rated", 0)

    # A grid worker who did the job themselves is not a volunteer: the rating still lands.
    staff_order = _done_by(world, world.a.worker)
    svc.order_rate(actor=resident_user(world), order=staff_order, stars=5, now=T0 + 6 * H)
    staff_order.refresh_from_db()
    assert (staff_order.status, PointsClaim.objects.count()) == ("rated", 0)


def test_the_claims_page_names_the_order_and_links_to_it(world: World) -> None:
    from django.test import Client
    from django.urls import reverse

    rules(world.a.grid)
    v = approved_volunteer(world, world.a.member)
    assert v.user is not None
    order = _done_by(world, v.user)
    svc.order_rate(actor=resident_user(world), order=order, stars=5, now=T0 + 6 * H)
    claim = PointsClaim.objects.get()
    c = Client()
    c.force_login(world.a.worker)
    body = c.get(reverse("volunteers:claim_list")).content.decode()
    link = reverse("orders:order_detail", args=[order.pk])
    assert f'<a class="claim-order" href="{link}">工单 {order.number}</a>' in body
    assert f'data-claim="{claim.pk}"' in body
    # The order's page the link leads to is one the reviewer may open.
    assert c.get(link).status_code == 200
