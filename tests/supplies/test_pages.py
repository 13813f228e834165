"""Supplies pages: the household's lists on the portal, the workers' board and the stock."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from linli.orders import services as orders
from linli.supplies.models import StockMovement, SupplyRequest
from tests.factories import World, make_world
from tests.orders.factories import volunteer
from tests.supplies.factories import posted, quarantined, resident_of, stock, supplies_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def _client(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_household_posts_a_list_and_confirms_receipt_on_the_portal(world: World) -> None:
    event = supplies_event([world.community])
    q = quarantined(event, world.a.householder)
    c = _client(resident_of(world.a.householder))
    home = c.get(reverse("supplies:portal_list"))
    assert home.status_code == 200
    new_url = reverse("supplies:portal_new", args=[q.pk])
    assert new_url in home.content.decode()
    # A bad line keeps what was typed and names the line, in Chinese.
    r = c.post(new_url, {"items": "大米 1 袋\n牛奶 0 箱", "delivery_note": "放门口"})
    body = r.content.decode()
    assert r.status_code == 200 and "第2行：数量必须在 1 到 999 之间。" in body
    assert "牛奶 0 箱" in body and "放门口" in body
    data = {"items": "大米 1 袋\n鸡蛋 10 个", "delivery_note": "放门口", "client_key": "abc"}
    assert c.post(new_url, data).status_code == 302
    assert c.post(new_url, data).status_code == 302  # a double tap
    req = SupplyRequest.objects.get()
    page = c.get(reverse("supplies:portal_list")).content.decode()
    assert req.order.number in page and 'data-step="taken" data-done="0"' in page
    vol = volunteer(world.a.grid, "vol-page")
    orders.order_take(actor=vol, order=req.order)
    orders.order_start(actor=vol, order=req.order, note="已购齐")
    orders.order_finish(actor=vol, order=req.order, note="已送到门口")
    page = c.get(reverse("supplies:portal_list")).content.decode()
    assert vol.label in page and "我已收到" in page
    r = c.post(reverse("supplies:portal_receive", args=[req.pk]), {"stars": "5", "words": "谢谢"})
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.received_at is not None
    page = c.get(reverse("supplies:portal_list")).content.decode()
    assert 'data-step="received" data-done="1"' in page and "我已收到" not in page


def test_a_resident_not_under_quarantine_has_no_list_button(world: World) -> None:
    supplies_event([world.community])
    c = _client(resident_of(world.a.member))
    body = c.get(reverse("supplies:portal_list")).content.decode()
    assert "代购清单供隔离中的住户使用" in body


def test_workers_board_shows_their_grid_only(world: World) -> None:
    event = supplies_event([world.community])
    mine = posted(quarantined(event, world.a.householder))
    theirs = posted(quarantined(event, world.b.householder))
    c = _client(world.a.worker)
    body = c.get(reverse("supplies:request_board")).content.decode()
    assert mine.order.number in body and theirs.order.number not in body
    detail = c.get(reverse("supplies:request_detail", args=[mine.pk])).content.decode()
    assert "大米" in detail and reverse("orders:order_detail", args=[mine.order_id]) in detail
    assert c.get(reverse("supplies:request_detail", args=[theirs.pk])).status_code == 404
    # The event page carries the supplies buttons.
    ev = c.get(reverse("emergency:event_detail", args=[event.pk])).content.decode()
    assert reverse("supplies:request_board") in ev and reverse("supplies:stock_list") in ev


def test_stock_pages_issue_refuse_and_reverse(world: World) -> None:
    item = stock(world.a.grid, quantity=4, low=2)
    c = _client(world.a.worker)
    url = reverse("supplies:stock_issue", args=[item.pk])
    form = {
        "quantity": "5",
        "recipient_kind": "household",
        "recipient": "1号楼301",
        "reason": "隔离户",
        "client_key": "k",
    }
    r = c.post(url, form)
    body = r.content.decode()
    assert r.status_code == 200 and "库存只有 4 盒，不能出库 5。" in body and "1号楼301" in body
    assert c.post(url, {**form, "quantity": "3"}).status_code == 302
    item.refresh_from_db()
    assert item.quantity == 1
    listing = c.get(reverse("supplies:stock_list")).content.decode()
    assert 'id="low-stock"' in listing and 'data-low="1"' in listing
    issue = StockMovement.objects.get(kind="issue")
    c.post(reverse("supplies:movement_reverse", args=[issue.pk]), {"reason": "登记错"})
    item.refresh_from_db()
    assert item.quantity == 4
    detail = c.get(reverse("supplies:stock_detail", args=[item.pk])).content.decode()
    assert "已冲正" in detail and "登记错" in detail


def test_new_stock_item_form_offers_only_stores_in_scope(world: World) -> None:
    c = _client(world.a.worker)
    r = c.get(reverse("supplies:stock_item_create"))
    body = r.content.decode()
    assert world.a.grid.name in body and world.b.grid.name not in body
    r = c.post(
        reverse("supplies:stock_item_create"),
        {"area": world.b.grid.pk, "name": "消毒液", "unit": "瓶", "low_threshold": "2"},
    )
    assert r.status_code == 200 and "消毒液" in r.content.decode()
    r = c.post(
        reverse("supplies:stock_item_create"),
        {"area": world.a.grid.pk, "name": "消毒液", "unit": "瓶", "low_threshold": "2"},
    )
    assert r.status_code == 302


def test_the_household_of_a_quarantined_person_shops_for_them(world: World) -> None:
    """Home quarantine closes the household: its other members post and see the list; the
    portal banner offers the lists only to such households."""
    event = supplies_event([world.community])
    q = quarantined(event, world.a.householder)
    member = _client(resident_of(world.a.member))
    listing = member.get(reverse("supplies:portal_list")).content.decode()
    assert reverse("supplies:portal_new", args=[q.pk]) in listing
    r = member.post(reverse("supplies:portal_new", args=[q.pk]), {"items": "面条 2 包"})
    assert r.status_code == 302 and SupplyRequest.objects.get().quarantine == q
    portal_home = member.get(reverse("portal:home")).content.decode()
    assert reverse("supplies:portal_list") in portal_home
    # A resident of grid B, where the same event runs, sees no such link and no list.
    other = _client(resident_of(world.b.member))
    assert reverse("supplies:portal_list") not in other.get(reverse("portal:home")).content.decode()
    assert other.get(reverse("supplies:portal_new", args=[q.pk])).status_code == 404


def test_the_check_in_page_offers_the_shopping_list_to_a_quarantined_household(
    world: World,
) -> None:
    """A resident reaches /p/e/ by a phone code alone (no portal home): the measures of their
    quarantine's event are offered there too; not for a resident under no measure."""
    event = supplies_event([world.community])
    quarantined(event, world.a.householder)
    home = _client(resident_of(world.a.householder)).get(reverse("emergency:portal_home"))
    body = home.content.decode()
    assert 'id="measure-links"' in body and reverse("supplies:portal_list") in body
    other = _client(resident_of(world.a.member)).get(reverse("emergency:portal_home"))
    assert reverse("supplies:portal_list") not in other.content.decode()
