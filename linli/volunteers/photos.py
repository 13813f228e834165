"""Evidence photos attached to points claims: checked, re-encoded, kept small.

The checking and re-encoding is the platform's one image cleaner (``linli.core.images``): JPEG,
PNG or WebP recognised by their first bytes, sane size, re-encoded so that nothing but the
pixels survives (EXIF, any GPS position, anything hidden after the image data). Claims keep the
result in their row at ``MAX_SIDE`` pixels a side, served only to those who may see the claim.
"""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.core.images import image_clean

MAX_SIDE = 1600


def photo_clean(data: bytes) -> bytes:
    """The upload re-encoded as a small JPEG; ValidationError on the form's ``photo`` field
    (with a Chinese message) if it is not an image we accept."""
    try:
        return image_clean(io.BytesIO(data), max_side=MAX_SIDE, quality=80).data
    except ValidationError as exc:
        if exc.code == "too_large":
            message = _("The photo is too large (at most 8 MB).")
        elif exc.code == "too_many_pixels":
            message = _("The photo has too many pixels.")
        else:
            message = _("This file is not a photo (JPEG, PNG or WebP).")
        raise ValidationError({"photo": message}) from None
