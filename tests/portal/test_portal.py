"""The resident portal: SMS sign-in, one's own household only, corrections."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.models import OtpChallenge, User
from linli.register.models import CorrectionProposal, CorrectionStatus
from linli.register.services import correction_review
from tests.factories import World

LOGIN = "/p/login/"
VERIFY = "/p/login/verify/"
HOME = "/p/"

pytestmark = pytest.mark.django_db


def _sms(capsys: Any) -> list[tuple[str, str]]:
    """(phone, code) of every SMS the console backend printed."""
    out = capsys.readouterr().out
    sent = []
    for phone, text in re.findall(r"\[SMS → (\S+)\] (.*)", out):
        m = re.search(r"(?<!\d)(\d{6})(?!\d)", text)
        assert m, text
        sent.append((phone, m.group(1)))
    return sent


def _request_code(client: Client, phone: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(LOGIN, {"phone": phone})


def _resident(person: Any) -> User:
    user = User(username=f"resident-{person.pk}", person=person)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def resident_a(world: World, client: Client) -> Client:
    client.force_login(_resident(world.a.householder))
    return client


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- sign-in ------------------------------------------------------------------------------


def test_login_page_is_chinese_by_default(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert "发送验证码" in response.content.decode()


def test_full_otp_flow(
    world: World, client: Client, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    phone = world.a.householder_phone
    response = _request_code(client, phone, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    sent = _sms(capsys)
    assert len(sent) == 1
    assert sent[0][0] == phone
    code = sent[0][1]

    page = client.get(VERIFY)
    assert page.status_code == 200
    assert "139****" in page.content.decode()

    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert _signed_in(client)
    user = User.objects.get(pk=client.session["_auth_user_id"])
    assert user.person_id == world.a.householder.pk

    home = client.get(HOME).content.decode()
    assert world.a.dwelling.address in home
    assert world.a.member.name in home
    # The code is spent: signing in again with it, from another browser, fails.
    other = Client()
    session = other.session
    session["portal_otp_phone"] = phone
    session.save()
    response = other.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert not _signed_in(other)


def test_wrong_code_attempts_are_limited(
    world: World, client: Client, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _request_code(client, world.a.householder_phone, django_capture_on_commit_callbacks)
    code = _sms(capsys)[0][1]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = client.post(VERIFY, {"code": wrong})
        assert response.status_code == 200
        assert "验证码错误或已过期" in response.content.decode()
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "验证码错误或已过期" in response.content.decode()
    assert not _signed_in(client)
    assert OtpChallenge.objects.get().attempts == 5
    assert not User.objects.filter(person=world.a.householder).exists()


def test_expired_code_fails(
    world: World, client: Client, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    _request_code(client, world.a.householder_phone, django_capture_on_commit_callbacks)
    code = _sms(capsys)[0][1]
    OtpChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "验证码错误或已过期" in response.content.decode()
    assert not _signed_in(client)


def _normalise(html: str, phone_masked: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    html = html.replace(phone_masked, "PHONE")
    return re.sub(r'name="phone" value="\d+"', 'name="phone" value="PHONE"', html)


def test_unknown_phone_gets_the_same_answer_and_no_sms(
    world: World, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    known, unknown = Client(), Client()
    r_known = _request_code(known, world.a.householder_phone, django_capture_on_commit_callbacks)
    assert len(_sms(capsys)) == 1
    r_unknown = _request_code(unknown, "13700000000", django_capture_on_commit_callbacks)
    assert _sms(capsys) == []
    # The unknown phone gets a challenge no code can match, so rate limits treat both alike.
    assert OtpChallenge.objects.count() == 2
    assert OtpChallenge.objects.filter(code_digest="").count() == 1
    assert (r_known.status_code, r_known["Location"]) == (
        r_unknown.status_code,
        r_unknown["Location"],
    )
    page_known = known.get(VERIFY).content.decode()
    page_unknown = unknown.get(VERIFY).content.decode()
    masked_known = world.a.householder_phone[:3] + "****" + world.a.householder_phone[-4:]
    assert _normalise(page_known, masked_known) == _normalise(page_unknown, "137****0000")
    # Whatever code is typed for the unknown phone, nobody is signed in.
    response = unknown.post(VERIFY, {"code": "123456"})
    assert "验证码错误或已过期" in response.content.decode()
    assert not _signed_in(unknown)


def test_rate_limit_answers_the_same_for_unknown_phones(
    world: World, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    answers = []
    for phone in (world.a.householder_phone, "13700000000"):
        c = Client()
        _request_code(c, phone, django_capture_on_commit_callbacks)
        again = _request_code(c, phone, django_capture_on_commit_callbacks)
        answers.append((again.status_code, "一分钟" in again.content.decode()))
    assert answers[0] == answers[1] == (200, True)


def test_rate_limit_keeps_the_phone_and_says_why(
    world: World, client: Client, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    phone = world.a.householder_phone
    _request_code(client, phone, django_capture_on_commit_callbacks)
    _sms(capsys)
    response = _request_code(client, phone, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    html = response.content.decode()
    assert "请等一分钟" in html
    assert f'value="{phone}"' in html
    assert _sms(capsys) == []
    assert OtpChallenge.objects.count() == 1


def test_bad_phone_keeps_what_was_typed(client: Client) -> None:
    response = client.post(LOGIN, {"phone": "12345"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="12345"' in html
    assert "11 位手机号" in html
    assert OtpChallenge.objects.count() == 0


def test_verify_without_phone_goes_back_to_login(client: Client) -> None:
    response = client.get(VERIFY)
    assert response.status_code == 302
    assert response["Location"] == LOGIN


# --- my household -------------------------------------------------------------------------


def test_anonymous_is_sent_to_portal_login(client: Client) -> None:
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/p/"


def test_staff_are_sent_to_workbench_login(world: World, client: Client) -> None:
    client.force_login(world.a.worker)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:login")


def test_resident_sees_only_own_household(world: World, resident_a: Client) -> None:
    response = resident_a.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert world.a.dwelling.address in html
    for p in (world.a.householder, world.a.member):
        assert p.name in html
        assert p.id_masked in html
    assert world.a.householder.phone_masked in html
    # Full values never, and nothing of grid B.
    assert world.a.householder_id_number not in html
    assert world.a.householder_phone not in html
    assert world.b.householder.name not in html
    assert world.b.member.name not in html
    assert world.b.dwelling.address not in html
    assert re.findall(r'data-person="(\d+)"', html) == [
        str(world.a.householder.pk),
        str(world.a.member.pk),
    ]


def test_correct_other_households_person_is_404(world: World, resident_a: Client) -> None:
    for person in (world.b.householder, world.b.member):
        url = reverse("portal:correct", args=[person.pk])
        assert resident_a.get(url).status_code == 404
        response = resident_a.post(url, {"name": "王五", "note": "x"})
        assert response.status_code == 404
    assert resident_a.get(reverse("portal:correct", args=[999999])).status_code == 404
    assert CorrectionProposal.objects.count() == 0


def test_propose_correction(world: World, resident_a: Client) -> None:
    url = reverse("portal:correct", args=[world.a.member.pk])
    assert resident_a.get(url).status_code == 200
    response = resident_a.post(
        url, {"name": "张小甲", "phone": "138 0000 1111", "note": "名字写错了"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/p/#corrections"
    proposal = CorrectionProposal.objects.get()
    assert proposal.person_id == world.a.member.pk
    assert proposal.household_id == world.a.household.pk
    # The proposed phone is at rest like every phone: masked in the clear, sealed in full.
    assert proposal.changes == {"name": "张小甲", "phone": "138****1111"}
    from linli.core import crypto

    assert crypto.unseal(proposal.phone_sealed) == "13800001111"
    assert proposal.note == "名字写错了"
    assert proposal.status == CorrectionStatus.PENDING
    assert proposal.proposed_by.person_id == world.a.householder.pk

    html = resident_a.get(HOME).content.decode()
    assert "张小甲" in html
    assert "138****1111" in html
    assert "13800001111" not in html
    assert 'data-status="pending"' in html


def test_correction_unchanged_name_is_not_sent(world: World, resident_a: Client) -> None:
    url = reverse("portal:correct", args=[world.a.member.pk])
    response = resident_a.post(url, {"name": world.a.member.name})
    assert response.status_code == 200
    assert f'value="{world.a.member.name}"' in response.content.decode()
    assert CorrectionProposal.objects.count() == 0


def test_correction_needs_something(world: World, resident_a: Client) -> None:
    url = reverse("portal:correct", args=[world.a.member.pk])
    response = resident_a.post(url, {"name": "", "phone": "", "note": ""})
    assert response.status_code == 200
    assert "请写明需要更正的内容" in response.content.decode()
    response = resident_a.post(url, {"name": "张三", "phone": "999"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="999"' in html
    assert 'value="张三"' in html
    assert CorrectionProposal.objects.count() == 0


def test_decided_corrections_show_their_status(world: World, resident_a: Client) -> None:
    resident_a.post(reverse("portal:correct", args=[world.a.member.pk]), {"note": "已搬走"})
    proposal = CorrectionProposal.objects.get()
    correction_review(actor=world.a.worker, proposal=proposal, accept=False, note="核实无误")
    html = resident_a.get(HOME).content.decode()
    assert 'data-status="rejected"' in html
    assert "核实无误" in html


def test_sign_out(world: World, resident_a: Client) -> None:
    assert resident_a.get(reverse("portal:logout")).status_code == 405
    response = resident_a.post(reverse("portal:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not _signed_in(resident_a)
    assert resident_a.get(HOME).status_code == 302


def test_moved_out_resident_sees_no_household(world: World, client: Client) -> None:
    from linli.register.services import person_move_out

    user = _resident(world.a.member)
    person_move_out(actor=None, person=world.a.member)
    client.force_login(user)
    html = client.get(HOME).content.decode()
    assert world.a.dwelling.address not in html
    assert world.a.householder.name not in html
    url = reverse("portal:correct", args=[world.a.householder.pk])
    assert client.get(url).status_code == 404
