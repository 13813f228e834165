"""The pass token: signed, compact, refused when tampered with, out of its window or signed with
a key this deployment does not know; and no database access to check it."""

from __future__ import annotations

import base64
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.core import signing
from linli.passes.signing import PassBody, Reason, token_sign, verify_token

OTHER_SEED = base64.urlsafe_b64encode(b"\x07" * 32).decode()


def body(**kw: object) -> PassBody:
    now = int(time.time())
    fields: dict[str, object] = {
        "pass_id": 41,
        "kind": "visitor",
        "estate_id": 7,
        "valid_from": now - 60,
        "valid_until": now + 3600,
        "key_version": signing.key_version(),
        "holder_masked": "王*访",
    }
    fields.update(kw)
    return PassBody(**fields)  # type: ignore[arg-type]


def test_round_trip_and_compact() -> None:
    token = token_sign(body())
    assert token.startswith("LP1.") and len(token) < 200
    result = verify_token(token)
    assert (result.ok, result.reason) == (True, "")
    assert result.body == body()


@pytest.mark.django_db
def test_verify_reads_no_database() -> None:
    token = token_sign(body())
    verify_token(token)  # the key cache is warm
    with CaptureQueriesContext(connection) as queries:
        assert verify_token(token).ok
    assert len(queries) == 0


def test_tampered_body_or_signature_is_refused() -> None:
    prefix, raw, sig = token_sign(body()).split(".")
    changed = signing.b64(signing.unb64(raw).replace(b"|7|", b"|8|"))
    assert verify_token(f"{prefix}.{changed}.{sig}").reason == Reason.BAD_SIGNATURE
    other_sig = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    assert verify_token(f"{prefix}.{raw}.{other_sig}").reason == Reason.BAD_SIGNATURE
    assert verify_token("LQ1.abc.def").reason == Reason.MALFORMED
    assert verify_token("LP1.%%%.def").reason == Reason.MALFORMED
    assert verify_token("").reason == Reason.MALFORMED


def test_window() -> None:
    now = int(time.time())
    early = verify_token(token_sign(body(valid_from=now + 600)))
    assert (early.ok, early.reason) == (False, Reason.NOT_YET_VALID)
    late = verify_token(token_sign(body(valid_until=now - 1)))
    assert (late.ok, late.reason) == (False, Reason.EXPIRED)
    assert late.body is not None and late.body.holder_masked == "王*访"
    assert verify_token(token_sign(body()), now=now + 7200).reason == Reason.EXPIRED


def test_key_versions(settings: object) -> None:
    old_token = token_sign(body(key_version=1))
    # A token naming a version this deployment does not have.
    assert verify_token(token_sign(body(key_version=9))).reason == Reason.UNKNOWN_KEY
    # Rotate: the new key signs version 2; the old key stays accepted as retired version 1.
    old_seed = signing.signing_key().private_bytes_raw()
    settings.LINLI_SIGNING_KEYS_RETIRED = {1: base64.urlsafe_b64encode(old_seed).decode()}  # type: ignore[attr-defined]
    settings.LINLI_SIGNING_KEY = OTHER_SEED  # type: ignore[attr-defined]
    settings.LINLI_SIGNING_KEY_VERSION = 2  # type: ignore[attr-defined]
    new_token = token_sign(body(key_version=2))
    assert verify_token(new_token).ok
    assert verify_token(old_token).ok
    # A token claiming version 1 but signed with the new key does not pass.
    forged = token_sign(body(key_version=1))
    assert verify_token(forged).reason == Reason.BAD_SIGNATURE
    # Once the old key is retired for good, its codes are refused.
    settings.LINLI_SIGNING_KEYS_RETIRED = {}  # type: ignore[attr-defined]
    assert verify_token(old_token).reason == Reason.UNKNOWN_KEY
