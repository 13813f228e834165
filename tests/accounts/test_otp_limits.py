"""Sign-in codes cannot be guessed by asking for new ones or by asking from many places."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from linli.accounts.models import OtpChallenge
from linli.accounts.services import otp_request, otp_verify
from linli.audit.models import AuditEntry
from tests.factories import World

pytestmark = pytest.mark.django_db


def _age_challenges(minutes: int = 2) -> None:
    OtpChallenge.objects.update(created_at=timezone.now() - dt.timedelta(minutes=minutes))


@override_settings(LINLI_OTP_MAX_FAILURES_PER_HOUR=6)
def test_new_codes_do_not_buy_new_guesses(world: World) -> None:
    phone = world.a.householder_phone
    for _round in range(2):
        otp_request(phone=phone)
        for _ in range(3):
            with pytest.raises(ValidationError):
                otp_verify(phone=phone, code="000000")
        _age_challenges()
    # Six wrong codes this hour: no new code, and no code is accepted.
    with pytest.raises(ValidationError) as exc:
        otp_request(phone=phone)
    assert "一小时" in str(exc.value) or "hour" in str(exc.value)
    assert AuditEntry.objects.filter(action="login_failed").count() == 6


@override_settings(LINLI_OTP_MAX_REQUESTS_PER_IP_HOUR=2)
def test_one_address_cannot_ask_for_codes_for_many_phones(world: World) -> None:
    otp_request(phone=world.a.householder_phone, ip="10.0.0.7")
    otp_request(phone=world.b.householder_phone, ip="10.0.0.7")
    with pytest.raises(ValidationError):
        otp_request(phone="13700000000", ip="10.0.0.7")
    otp_request(phone="13700000000", ip="10.0.0.8")


def test_tries_are_taken_before_the_code_is_compared(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.test import TestCase

    phone = world.a.householder_phone
    with TestCase.captureOnCommitCallbacks(execute=True):
        otp_request(phone=phone)
    # The code is the message's only run of six digits, whatever language the text is in
    # (an earlier test may leave another language active in this thread).
    code = re.findall(r"(?<!\d)\d{6}(?!\d)", capsys.readouterr().out)[-1]
    OtpChallenge.objects.update(attempts=5)  # as if five parallel guesses were in flight
    with pytest.raises(ValidationError):
        otp_verify(phone=phone, code=code)
