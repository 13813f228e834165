"""Checking and re-encoding uploaded photos before they are stored (work-order photos,
volunteers' evidence photos).

Only JPEG, PNG and WebP are taken, recognised by their first bytes (never by the file name or
the browser's content type), up to ``MAX_UPLOAD_BYTES`` and ``MAX_PIXELS``. Every accepted
image is decoded and written anew as JPEG: EXIF (GPS position, device) and anything hidden
after the image data are dropped, and the orientation the camera recorded is applied first.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Default longest side after re-encoding: enough to see a broken pipe, small enough for a phone.
MAX_SIDE = 2048

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"WEBP", 8, "WEBP"),
)


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image, ready to be written."""

    data: bytes
    width: int
    height: int
    sha256: str
    content_type: str = "image/jpeg"


def sniff(head: bytes) -> str | None:
    """The image format the first bytes announce, or None."""
    for magic, offset, fmt in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if fmt == "WEBP" and head[:4] != b"RIFF":
                continue
            return fmt
    return None


def image_clean(
    upload: IO[bytes], *, size: int | None = None, max_side: int = MAX_SIDE, quality: int = 85
) -> CleanImage:
    """Check an uploaded file and re-encode it; raise ValidationError with a clear reason
    (codes: too_large, not_image, too_many_pixels, broken_image)."""
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The photo is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="too_large",
        )
    raw = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The photo is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="too_large",
        )
    fmt = sniff(raw[:16])
    if fmt is None:
        raise ValidationError(
            _("This file is not a photo. Upload a JPEG, PNG or WebP image."), code="not_image"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(raw), formats=[fmt])
            if img.width * img.height > MAX_PIXELS:
                raise ValidationError(_("The photo has too many pixels."), code="too_many_pixels")
            img.load()
            img = ImageOps.exif_transpose(img)
    except ValidationError:
        raise
    except Exception as exc:  # Pillow raises many kinds for broken or hostile files
        raise ValidationError(
            _("This photo is damaged and cannot be read. Take it again or choose another."),
            code="broken_image",
        ) from exc
    if img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    img.thumbnail((max_side, max_side))
    out = io.BytesIO()
    # A fresh encoder with no exif/icc arguments writes none of the original's metadata.
    img.save(out, format="JPEG", quality=quality, optimize=True)
    data = out.getvalue()
    return CleanImage(
        data=data, width=img.width, height=img.height, sha256=hashlib.sha256(data).hexdigest()
    )
