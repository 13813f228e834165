"""Validation, normalisation and masking of national ID numbers and phone numbers.

The checksum and birth-date rules for the 18-digit resident identity number come from
python-stdnum (stdnum.cn.ric); we only normalise input the way people type it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric

_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}\d{7,8}$")


def _fold(value: str) -> str:
    """Full-width to half-width, drop spaces and dashes."""
    value = unicodedata.normalize("NFKC", value)
    return re.sub(r"[\s\-]", "", value)


@dataclass(frozen=True)
class NationalId:
    """A validated 18-digit resident identity number and what it tells."""

    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"

    @property
    def masked(self) -> str:
        return mask_national_id(self.number)


def parse_national_id(value: str) -> NationalId:
    """Validate and normalise a national ID; raise ValidationError with a reason."""
    number = _fold(value).upper()
    if len(number) != 18:
        raise ValidationError(_("A national ID number has 18 characters."), code="length")
    if not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
        raise ValidationError(_("This is not a valid national ID number."), code="invalid")
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError(_("The national ID number's check digit is wrong."), code="checksum")
    try:
        ric.get_birth_date(number)
    except stdnum_exc.ValidationError as exc:
        raise ValidationError(
            _("The national ID number contains an impossible birth date."), code="birth_date"
        ) from exc
    # The region code must be one that has existed. We do not apply python-stdnum's stricter
    # rule that it existed in the birth year: people born before 1984 were numbered later,
    # under the codes of that time, so the stricter rule rejects real numbers.
    if not _known_region(number[:6]):
        raise ValidationError(
            _("The national ID number has an unknown region code."), code="region"
        )
    birth = ric.get_birth_date(number)
    if birth > dt.date.today():
        raise ValidationError(_("The birth date in the national ID is in the future."))
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return NationalId(number=number, birth_date=birth, sex=sex)


@functools.cache
def _known_region(code: str) -> bool:
    from stdnum import numdb

    return any(props for _part, props in numdb.get("cn/loc").info(code))


def national_id_region_known(code: str) -> bool:
    """Whether a 6-digit region code has existed (the rule parse_national_id applies)."""
    return _known_region(code)


def national_id_check_digit(first17: str) -> str:
    """The check character for 17 digits (used to generate demo data)."""
    # stdnum's calc_check_digit expects a full-length number and ignores its last character.
    return ric.calc_check_digit(first17 + "0")


def normalise_phone(value: str) -> str:
    """Validate a mainland mobile or landline number; return digits only."""
    digits = _fold(value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _PHONE_RE.match(digits) or _LANDLINE_RE.match(digits):
        return digits
    raise ValidationError(
        _("Enter an 11-digit mobile number or a landline with its area code."), code="phone"
    )


def mask_national_id(number: str) -> str:
    """1101**********123X — the first four and last four characters stay visible."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(number: str) -> str:
    """138****0000 for mobiles; the area code and last four for landlines."""
    if len(number) == 11 and number.startswith("1"):
        return number[:3] + "****" + number[-4:]
    if len(number) > 6:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return "*" * len(number)


def mask_name(name: str) -> str:
    """赵*行 — the first and last characters stay visible (a two-character name keeps the first)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
