"""Setting the sealed personal fields of a person and searching them."""

from __future__ import annotations

from linli.core import crypto
from linli.core.identity import mask_national_id, mask_phone, normalise_phone, parse_national_id
from linli.register.models import Person


def national_id_index(value: str) -> str | None:
    """Blind index of a national ID as typed, or None when it is not a valid one."""
    from django.core.exceptions import ValidationError

    try:
        return crypto.blind_index("national_id", parse_national_id(value).number)
    except ValidationError:
        return None


def phone_index(value: str) -> str | None:
    from django.core.exceptions import ValidationError

    try:
        return crypto.blind_index("phone", normalise_phone(value))
    except ValidationError:
        return None


def set_national_id(person: Person, value: str) -> None:
    """Validate, seal and index a national ID; derive birth date and sex from it."""
    if not value:
        person.id_sealed = None
        person.id_bidx = None
        person.id_masked = ""
        person.id_tail = ""
        return
    nid = parse_national_id(value)
    person.id_sealed = crypto.seal(nid.number)
    person.id_bidx = crypto.blind_index("national_id", nid.number)
    person.id_masked = mask_national_id(nid.number)
    person.id_tail = nid.number[-4:]
    person.birth_date = nid.birth_date
    person.sex = nid.sex


def set_phone(person: Person, value: str) -> None:
    """Validate, seal and index a phone number."""
    if not value:
        person.phone_sealed = None
        person.phone_bidx = ""
        person.phone_masked = ""
        person.phone_tail = ""
        return
    number = normalise_phone(value)
    person.phone_sealed = crypto.seal(number)
    person.phone_bidx = crypto.blind_index("phone", number)
    person.phone_masked = mask_phone(number)
    person.phone_tail = number[-4:]
