"""Uploaded photos: only real images, within limits, re-encoded without EXIF."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import Image

from linli.core import images
from linli.core.images import image_clean, sniff
from tests.orders.factories import jpeg_bytes


def test_exif_is_stripped_and_the_image_re_encoded() -> None:
    raw = jpeg_bytes(exif=True)
    assert b"SecretCam" in raw
    clean = image_clean(io.BytesIO(raw))
    assert b"SecretCam" not in clean.data and b"leaky-firmware" not in clean.data
    reopened = Image.open(io.BytesIO(clean.data))
    assert (reopened.format, reopened.size) == ("JPEG", (64, 48))
    assert dict(reopened.getexif()) == {}
    assert (clean.width, clean.height, clean.content_type) == (64, 48, "image/jpeg")


def test_trailing_bytes_after_the_image_are_dropped() -> None:
    raw = jpeg_bytes() + b"<?php system($_GET['c']); ?>"
    clean = image_clean(io.BytesIO(raw))
    assert b"php" not in clean.data


def test_png_with_transparency_becomes_a_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, format="PNG")
    clean = image_clean(io.BytesIO(out.getvalue()))
    assert Image.open(io.BytesIO(clean.data)).mode == "RGB"


@pytest.mark.parametrize(
    "raw",
    [
        b"%PDF-1.7 not a photo",
        b"MZ\x90\x00 a windows program renamed .jpg",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"",
    ],
)
def test_non_images_are_refused_by_their_bytes(raw: bytes) -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        image_clean(io.BytesIO(raw))
    assert info.value.messages == ["这个文件不是照片，请上传 JPEG、PNG 或 WebP 图片。"]


def test_a_truncated_jpeg_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        image_clean(io.BytesIO(jpeg_bytes()[:40]))
    assert info.value.code == "broken_image"


def test_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(ValidationError) as info:
        image_clean(io.BytesIO(jpeg_bytes()))
    assert info.value.code == "too_large"


def test_pixel_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(ValidationError) as info:
        image_clean(io.BytesIO(jpeg_bytes()))
    assert info.value.code == "too_many_pixels"


def test_sniff() -> None:
    assert sniff(b"\xff\xd8\xff\xe0") == "JPEG"
    assert sniff(b"\x89PNG\r\n\x1a\n") == "PNG"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert sniff(b"GIF89a") is None
