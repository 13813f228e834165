"""Evidence photos: only real images, re-encoded without their metadata, never alone, served
only within scope."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from PIL import Image

from linli.accounts.models import User
from linli.volunteers import services as svc
from linli.volunteers.models import PointsClaim
from linli.volunteers.photos import MAX_SIDE, photo_clean
from tests.factories import World
from tests.volunteers.factories import (
    activity,
    approved_volunteer,
    attended,
    photo_bytes,
    resident_user,
    rules,
)

pytestmark = pytest.mark.django_db


def test_photo_is_reencoded_small_and_without_metadata() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel"  # Model
    raw = photo_bytes((4000, 3000), "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(raw)) as before:
        assert dict(before.getexif()) != {}
    cleaned = photo_clean(raw + b"hidden trailing data")
    with Image.open(io.BytesIO(cleaned)) as after:
        assert after.format == "JPEG"
        assert max(after.size) == MAX_SIDE and after.size == (1600, 1200)
        assert dict(after.getexif()) == {}
    assert b"hidden trailing data" not in cleaned and b"PhoneMaker" not in cleaned


@pytest.mark.parametrize(
    "data",
    [b"not an image at all", b"\x89PNG\r\n\x1a\n broken", photo_bytes(fmt="GIF")],
    ids=["text", "broken png", "gif"],
)
def test_what_is_not_a_photo_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationError) as exc:
        photo_clean(data)
    assert exc.value.message_dict == {"photo": ["这个文件不是照片（JPEG、PNG 或 WebP）。"]}


def test_a_photo_without_a_note_cannot_be_claimed(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    with pytest.raises(ValidationError) as exc:
        svc.claim_for_signup(actor=v.user, signup=s, note="", photo=photo_bytes())
    assert "note" in exc.value.message_dict
    assert PointsClaim.objects.count() == 0


def test_claim_page_uploads_and_the_photo_is_served_in_scope_only(world: World) -> None:
    rules(world.community)
    v = approved_volunteer(world, world.a.householder)
    s = attended(v, activity(world.a.grid))
    assert v.user is not None
    me = Client()
    me.force_login(User.objects.get(pk=v.user.pk))
    url = reverse("volunteers:me_claim", args=[s.pk])
    bad = io.BytesIO(b"MZ executable")
    bad.name = "photo.jpg"
    r = me.post(url, {"note": "修好了楼道灯", "photo": bad})
    body = r.content.decode()
    assert r.status_code == 200 and "这个文件不是照片" in body and "修好了楼道灯" in body
    assert PointsClaim.objects.count() == 0
    good = io.BytesIO(photo_bytes())
    good.name = "photo.png"
    r = me.post(url, {"note": "修好了楼道灯", "photo": good})
    assert r.status_code == 302
    claim = PointsClaim.objects.get()
    assert claim.photo is not None and bytes(claim.photo)[:2] == b"\xff\xd8"

    photo_url = reverse("volunteers:claim_photo", args=[claim.pk])
    worker = Client()
    worker.force_login(world.a.worker)
    r = worker.get(photo_url)
    assert (r.status_code, r["Content-Type"]) == (200, "image/jpeg")
    assert r.content == bytes(claim.photo)
    assert photo_url in worker.get(reverse("volunteers:claim_list")).content.decode()
    other = Client()
    other.force_login(world.b.worker)
    assert other.get(photo_url).status_code == 404
    resident = Client()
    resident.force_login(resident_user(world.b.householder))
    assert resident.get(photo_url).status_code == 302  # residents are sent to the portal
