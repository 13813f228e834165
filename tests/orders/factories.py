"""Work order test helpers: categories from the seed, volunteers, departments, orders."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone
from PIL import Image

from linli.accounts.models import User
from linli.accounts.services import user_create
from linli.areas.models import Area
from linli.core.images import CleanImage, image_clean
from linli.orders import services as svc
from linli.orders.models import Department, OrderCategory, WorkOrder
from tests.factories import PASSWORD, World

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def category(code: str = "repair") -> OrderCategory:
    return OrderCategory.objects.get(code=code)


def resident_user(world: World, letter: str = "a") -> User:
    """The householder of grid A (or B) with a portal account."""
    person = getattr(world, letter).householder
    existing = User.objects.filter(person=person).first()
    return existing or User.objects.create(username=f"resident-{letter}-{person.pk}", person=person)


def volunteer(area: Area, name: str = "vol") -> User:
    user, _ = user_create(
        actor=None,
        username=name,
        password=PASSWORD,
        role="volunteer",
        area=area,
        display_name=f"志愿者{name}",
    )
    return user


def department(world: World, *, code: str = "urban", users: tuple[User, ...] = ()) -> Department:
    dept = Department.objects.create(code=code, name="城管执法队", area=world.subdistrict)
    dept.categories.add(*OrderCategory.objects.all())
    dept.members.add(*users)
    return dept


def department_user(world: World, name: str = "dept-user") -> User:
    user, _ = user_create(
        actor=None,
        username=name,
        password=PASSWORD,
        role="department",
        area=world.subdistrict,
        display_name="城管联络员",
    )
    return user


def order_in(
    world: World, letter: str = "a", *, now: dt.datetime | None = None, **kw: Any
) -> WorkOrder:
    """A repair order filed by the householder of the grid, on the portal."""
    g = getattr(world, letter)
    user = resident_user(world, letter)
    args: dict[str, Any] = {
        "category": category(kw.pop("code", "repair")),
        "title": f"楼道灯坏了{letter.upper()}",
        "description": "三楼楼道灯不亮",
        "grid": g.grid,
        "requester": g.householder,
        "location": f"{g.building.name}1单元三楼",
        "now": now or T0,
    }
    args.update(kw)
    return svc.order_submit(actor=user, **args)


def jpeg_bytes(*, exif: bool = False, size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        ex = Image.Exif()
        ex[0x010F] = "SecretCam"  # Make
        ex[0x0131] = "leaky-firmware"  # Software
        img.save(out, format="JPEG", exif=ex.tobytes())
    else:
        img.save(out, format="JPEG")
    return out.getvalue()


def photo() -> CleanImage:
    return image_clean(io.BytesIO(jpeg_bytes()))


def now() -> dt.datetime:
    return timezone.now()
