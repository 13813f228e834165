"""Evidence photos attached to points claims: checked, re-encoded, kept small.

An upload is accepted only if Pillow reads it as a JPEG, PNG or WebP image of sane size; it is
then re-encoded as a JPEG of at most ``MAX_SIDE`` pixels a side. Re-encoding drops everything
but the pixels (EXIF, including any GPS position, and anything hidden after the image data).
The result is stored in the claim row and served only to those who may see the claim.
"""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit
MAX_SIDE = 1600
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "MPO"})


def photo_clean(data: bytes) -> bytes:
    """The upload re-encoded as a small JPEG; ValidationError (with a Chinese message) if it is
    not an image we accept."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"photo": _("The photo is too large (at most 8 MB).")})
    not_photo = ValidationError({"photo": _("This file is not a photo (JPEG, PNG or WebP).")})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise not_photo
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ValidationError({"photo": _("The photo has too many pixels.")})
            probe.verify()
        with Image.open(io.BytesIO(data)) as opened:
            upright = ImageOps.exif_transpose(opened)
            pixels = (upright if upright is not None else opened).convert("RGB")
            pixels.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            pixels.save(out, format="JPEG", quality=80, optimize=True)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise not_photo from None
    return out.getvalue()
