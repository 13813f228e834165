"""The workbench and portal pages of work orders, through the Django test client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.orders import services as svc
from linli.orders.models import OrderAttachment, OrderEvent, Status, WorkOrder
from tests.factories import World
from tests.orders.factories import (
    category,
    department,
    department_user,
    jpeg_bytes,
    order_in,
    resident_user,
    volunteer,
)

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_resident_files_on_the_portal_with_a_photo(world: World, order_files: Path) -> None:
    c = client_for(resident_user(world))
    r = c.get(reverse("orders:portal_new"))
    assert r.status_code == 200
    key = r.context["form"]["client_key"].value()
    data = {
        "category": category("repair").pk,
        "title": "水管漏水",
        "description": "厨房水管",
        "location": "1号楼301",
        "client_key": key,
        "photo": SimpleUploadedFile("leak.jpg", jpeg_bytes(exif=True), "image/jpeg"),
    }
    r = c.post(reverse("orders:portal_new"), data)
    order = WorkOrder.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse(
        "orders:portal_detail", args=[order.pk]
    )
    assert (order.grid, order.requester, order.source) == (
        world.a.grid,
        world.a.householder,
        "portal",
    )
    att = order.attachments.get()
    stored = (order_files / att.path).read_bytes()
    assert b"SecretCam" not in stored
    # A double submit of the same form does not file twice.
    data["photo"] = SimpleUploadedFile("leak.jpg", jpeg_bytes(), "image/jpeg")
    c.post(reverse("orders:portal_new"), data)
    assert WorkOrder.objects.count() == 1
    # The resident sees their photo; the sibling grid's worker and resident get 404.
    assert c.get(reverse("orders:attachment", args=[att.pk])).status_code == 200
    for other in (world.b.worker, resident_user(world, "b")):
        assert client_for(other).get(reverse("orders:attachment", args=[att.pk])).status_code == 404
    assert Client().get(reverse("orders:attachment", args=[att.pk])).status_code == 404
    r = client_for(world.a.worker).get(reverse("orders:attachment", args=[att.pk]))
    assert (r.status_code, r["Content-Type"], r["X-Content-Type-Options"]) == (
        200,
        "image/jpeg",
        "nosniff",
    )


def test_a_renamed_non_image_is_refused_and_the_form_keeps_the_text(world: World) -> None:
    c = client_for(resident_user(world))
    r = c.post(
        reverse("orders:portal_new"),
        {
            "category": category("repair").pk,
            "title": "水管漏水",
            "location": "1号楼301",
            "photo": SimpleUploadedFile("photo.jpg", b"%PDF-1.4 fake", "image/jpeg"),
        },
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "这个文件不是照片" in body or "not a photo" in body
    assert 'value="水管漏水"' in body
    assert WorkOrder.objects.count() == 0
    assert OrderAttachment.objects.count() == 0


def test_portal_rate_and_cancel(world: World) -> None:
    resident = resident_user(world)
    c = client_for(resident)
    order = order_in(world)
    r = c.get(reverse("orders:portal_detail", args=[order.pk]))
    assert r.status_code == 200 and 'id="cancel-form"' in r.content.decode()
    WorkOrder.objects.filter(pk=order.pk).update(status=Status.DONE)
    r = c.post(reverse("orders:portal_action", args=[order.pk, "rate"]), {"words": "好"})
    assert r.status_code == 422
    assert WorkOrder.objects.get(pk=order.pk).status == Status.DONE
    r = c.post(
        reverse("orders:portal_action", args=[order.pk, "rate"]),
        {"stars": "4", "fixed": "yes", "words": "好"},
    )
    assert r.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.rating_stars, order.rating_words) == (Status.RATED, 4, "好")
    other = order_in(world, title="第二件")
    c.post(reverse("orders:portal_action", args=[other.pk, "cancel"]), {"reason": "不用了"})
    assert WorkOrder.objects.get(pk=other.pk).status == Status.CANCELLED
    # The sibling grid's resident sees neither.
    cb = client_for(resident_user(world, "b"))
    assert cb.get(reverse("orders:portal_detail", args=[order.pk])).status_code == 404
    assert cb.get(reverse("orders:portal_list")).content.decode().count("order-card") == 0


def test_boards_of_worker_volunteer_and_department(world: World) -> None:
    vol = volunteer(world.a.grid)
    liaison = department_user(world)
    dept = department(world, users=(liaison,))
    a1 = order_in(world, title="甲一")
    a2 = order_in(world, title="甲二")
    b1 = order_in(world, "b", title="乙一")
    svc.order_accept(actor=world.a.worker, order=a1)
    svc.order_open(actor=world.a.worker, order=a1)
    svc.order_whistle(actor=world.head, order=a2, department=dept, note="请处理")
    worker = client_for(world.a.worker)
    body = worker.get(reverse("orders:board") + "?board=grid").content.decode()
    assert "甲一" in body and "甲二" in body and "乙一" not in body
    vbody = client_for(vol).get(reverse("orders:board")).content.decode()
    assert 'data-board="open"' in vbody and 'data-board="grid"' not in vbody
    vopen = client_for(vol).get(reverse("orders:board") + "?board=open").content.decode()
    assert "甲一" in vopen and "甲二" not in vopen and "乙一" not in vopen
    # The volunteer cannot open an order not open to them.
    assert client_for(vol).get(reverse("orders:order_detail", args=[a2.pk])).status_code == 404
    dbody = client_for(liaison).get(reverse("orders:board")).content.decode()
    assert "甲二" in dbody and "甲一" not in dbody
    assert client_for(liaison).get(reverse("orders:order_detail", args=[a1.pk])).status_code == 404
    head_overdue = client_for(world.head).get(reverse("orders:board") + "?board=overdue")
    assert head_overdue.status_code == 200
    # Filed on 2 November with a 24-hour limit: overdue now (the whistled one has the
    # department's fresh limit), each seen in its own scope.
    assert sorted(o.pk for o in head_overdue.context["page"].object_list) == [a1.pk, b1.pk]
    a_overdue = worker.get(reverse("orders:board") + "?board=overdue").context["page"]
    assert sorted(o.pk for o in a_overdue.object_list) == [a1.pk]
    # Without a choice the board opens on the first tab that holds orders: the head has none
    # of their own, so their grids' orders.
    assert client_for(world.head).get(reverse("orders:board")).context["current"] == "grid"
    assert client_for(world.a.worker).get(reverse("orders:board")).context["current"] == "grid"


def test_action_pages_dispatch_take_finish_with_photo(world: World) -> None:
    vol = volunteer(world.a.grid)
    order = order_in(world)
    worker = client_for(world.a.worker)
    url = lambda a: reverse("orders:order_action", args=[order.pk, a])  # noqa: E731
    assert worker.post(url("accept"), {"note": "收到"}).status_code == 302
    page = worker.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert 'data-action="dispatch"' in page and f'value="{vol.pk}"' in page
    r = worker.post(url("dispatch"), {"assignee": world.b.worker.pk})
    assert r.status_code == 422 and WorkOrder.objects.get(pk=order.pk).status == Status.ACCEPTED
    assert worker.post(url("dispatch"), {"assignee": vol.pk}).status_code == 302
    v = client_for(vol)
    assert v.post(url("take")).status_code == 302
    assert v.post(url("start")).status_code == 302
    r = v.post(
        url("finish"),
        {
            "minutes_spent": "25",
            "photo": SimpleUploadedFile("done.jpg", jpeg_bytes(), "image/jpeg"),
        },
    )
    assert r.status_code == 422
    assert "照片不能代替" in r.content.decode() or "a photo alone" in r.content.decode()
    assert 'value="25"' in r.content.decode()
    r = v.post(
        url("finish"),
        {
            "note": "更换了灯泡",
            "minutes_spent": "25",
            "photo": SimpleUploadedFile("done.jpg", jpeg_bytes(), "image/jpeg"),
        },
    )
    assert r.status_code == 302
    event = OrderEvent.objects.get(order=order, action="finish")
    assert (event.note, event.minutes_spent, event.attachments.count()) == ("更换了灯泡", 25, 1)
    # The volunteer still sees the order (theirs) and its photo.
    assert v.get(reverse("orders:order_detail", args=[order.pk])).status_code == 200


def test_worker_files_for_a_resident_from_the_register(world: World) -> None:
    worker = client_for(world.a.worker)
    url = reverse("orders:order_create") + f"?person={world.a.householder.pk}"
    r = worker.get(url)
    assert r.status_code == 200
    assert world.a.householder.name in r.content.decode()
    r = worker.post(
        url,
        {
            "grid": world.a.grid.pk,
            "channel": "wechat",
            "contact_name": world.a.householder.name,
            "phone": "",
            "category": category("errands").pk,
            "title": "帮忙买药",
            "description": "【微信群】张大爷：降压药没了",
        },
    )
    order = WorkOrder.objects.get()
    assert r.status_code == 302
    assert (order.source, order.channel, order.requester, order.created_by) == (
        "worker",
        "wechat",
        world.a.householder,
        world.a.worker,
    )
    # Another grid's person: 404; another grid in the form: refused, nothing filed.
    assert (
        worker.get(reverse("orders:order_create") + f"?person={world.b.householder.pk}").status_code
        == 404
    )
    r = worker.post(
        reverse("orders:order_create"),
        {"grid": world.b.grid.pk, "channel": "phone", "category": category().pk, "title": "x"},
    )
    assert r.status_code == 200 and WorkOrder.objects.count() == 1


def test_stats_are_scoped_and_exact(world: World) -> None:
    t0 = timezone.now() - dt.timedelta(days=1)
    a = order_in(world, now=t0)
    svc.order_accept(actor=world.a.worker, order=a, now=t0 + dt.timedelta(hours=2))
    b = order_in(world, "b", now=t0)
    svc.order_accept(actor=world.b.worker, order=b, now=t0 + dt.timedelta(hours=5))
    stats = client_for(world.a.worker).get(reverse("orders:stats")).context["tables"]
    grid_rows = dict((k, rows) for k, _t, _m, rows in stats)["grid"]
    assert grid_rows == [{"key": world.a.grid.name, "count": 1, "measured": 1, "median_hours": 2.0}]
    head = client_for(world.head).get(reverse("orders:stats")).context["tables"]
    rows = dict((k, r) for k, _t, _m, r in head)["grid"]
    assert [(r["key"], r["median_hours"]) for r in rows] == sorted(
        [(world.a.grid.name, 2.0), (world.b.grid.name, 5.0)]
    )
    assert client_for(volunteer(world.a.grid)).get(reverse("orders:stats")).status_code == 403


def test_portal_follow_up_answer_no_reopens(world: World) -> None:
    resident = resident_user(world)
    order = order_in(world)
    WorkOrder.objects.filter(pk=order.pk).update(status=Status.DONE)
    svc.order_rate(actor=resident, order=order, stars=5)
    c = client_for(resident)
    assert (
        'id="followup-form"'
        not in c.get(reverse("orders:portal_detail", args=[order.pk])).content.decode()
    )
    svc.orders_followup_due(now=timezone.now() + dt.timedelta(days=8))
    listing = c.get(reverse("orders:portal_list")).content.decode()
    assert "问题是否仍已解决？请回答" in listing
    assert (
        'id="followup-form"'
        in c.get(reverse("orders:portal_detail", args=[order.pk])).content.decode()
    )
    r = c.post(reverse("orders:portal_action", args=[order.pk, "followup"]), {"still_fixed": "no"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.followup) == (Status.REOPENED, "no")
    # Answering again is refused with a message, nothing changes.
    r = c.post(reverse("orders:portal_action", args=[order.pk, "followup"]), {"still_fixed": "yes"})
    assert r.status_code == 422
    assert "不能执行“回答回访”" in r.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).status == Status.REOPENED


def test_a_volunteer_lands_on_a_way_to_the_orders(world: World) -> None:
    # The workbench sends a volunteer to their own menu, which leads to the orders.
    answer = client_for(volunteer(world.a.grid)).get(reverse("workbench:home"), follow=True)
    body = answer.content.decode()
    assert f'href="{reverse("orders:board")}"' in body
