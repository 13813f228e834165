"""The signed token an access pass's QR code carries, and its check with no database.

``LP1.<body>.<signature>``, both base64url without padding. The body is UTF-8, fields joined by
``|``: format version ``1``, pass id, kind (``p`` person, ``h`` household, ``v`` visitor),
estate id, valid from and valid until (Unix seconds), key version, the holder's masked name.
The signature is Ed25519 over the body with the key of that version (linli.core.signing), so
the checkpoint phone checks it in the browser with the public keys cached on its page. A
typical token is about 150 characters: a version-7 QR code, easy for a phone camera.

:func:`verify_token` is pure (no database): signature, key version and validity window. Whether
the pass was revoked since is a separate question (the revocation list, the server on sync).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.core.signals import setting_changed
from django.dispatch import receiver

from linli.core import signing

PREFIX = "LP1"
KIND_CODES = {"person": "p", "household": "h", "visitor": "v"}
KIND_NAMES = {v: k for k, v in KIND_CODES.items()}


class Reason:
    """Why a token is refused (stable codes: the gate page and the API show them)."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class PassBody:
    pass_id: int
    kind: str
    estate_id: int
    valid_from: int
    valid_until: int
    key_version: int
    holder_masked: str

    def encode(self) -> bytes:
        fields = [
            "1",
            str(self.pass_id),
            KIND_CODES[self.kind],
            str(self.estate_id),
            str(self.valid_from),
            str(self.valid_until),
            str(self.key_version),
            self.holder_masked.replace("|", "/"),
        ]
        return "|".join(fields).encode()

    @classmethod
    def decode(cls, raw: bytes) -> PassBody:
        """Parse a body; ValueError for anything that is not one."""
        parts = raw.decode().split("|")
        if len(parts) != 8 or parts[0] != "1" or parts[2] not in KIND_NAMES:
            raise ValueError("not a pass body")
        return cls(
            pass_id=int(parts[1]),
            kind=KIND_NAMES[parts[2]],
            estate_id=int(parts[3]),
            valid_from=int(parts[4]),
            valid_until=int(parts[5]),
            key_version=int(parts[6]),
            holder_masked=parts[7],
        )


@dataclass(frozen=True, slots=True)
class TokenResult:
    """The verdict on a token: ``ok``, else ``reason`` (a :class:`Reason` code). ``body`` is
    set whenever the signature matched (also for an expired pass, so the gate can say whose)."""

    ok: bool
    reason: str = ""
    body: PassBody | None = None


def token_sign(body: PassBody) -> str:
    """The token for *body*, signed with the current key (its version must be in the body)."""
    raw = body.encode()
    return f"{PREFIX}.{signing.b64(raw)}.{signing.b64(signing.sign(raw))}"


# Key version -> raw public key, built on first use. Settings do not change in a running
# server; when a test changes one of these, Django's ``setting_changed`` empties the cache.
_KEYS: dict[int, bytes] | None = None
_KEY_SETTINGS = frozenset(
    {"LINLI_SIGNING_KEY", "LINLI_SIGNING_KEY_VERSION", "LINLI_SIGNING_KEYS_RETIRED", "VAR_DIR"}
)


def accepted_keys() -> dict[int, bytes]:
    """Key version -> raw public key, built once (a verify must not read the key file, derive
    the public key or even look at the settings each time)."""
    global _KEYS
    keys = _KEYS
    if keys is None:
        keys = _KEYS = signing.public_keys()
    return keys


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: object) -> None:
    global _KEYS
    if setting in _KEY_SETTINGS:
        _KEYS = None


def verify_token(
    token: str, *, now: dt.datetime | float | None = None, keys: dict[int, bytes] | None = None
) -> TokenResult:
    """Check *token*'s format, key version, signature and validity window at *now*.

    No database access: safe for a benchmark and for a burst of queued scans.
    """
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return TokenResult(False, Reason.MALFORMED)
    try:
        raw, sig = signing.unb64(parts[1]), signing.unb64(parts[2])
        body = PassBody.decode(raw)
    except (signing.SignatureError, ValueError, UnicodeDecodeError):
        return TokenResult(False, Reason.MALFORMED)
    key = (keys if keys is not None else accepted_keys()).get(body.key_version)
    if key is None:
        return TokenResult(False, Reason.UNKNOWN_KEY)
    try:
        signing.verify(sig, raw, key)
    except signing.SignatureError:
        return TokenResult(False, Reason.BAD_SIGNATURE)
    if now is None:
        at = time.time()
    elif isinstance(now, dt.datetime):
        at = now.timestamp()
    else:
        at = float(now)
    if at < body.valid_from:
        return TokenResult(False, Reason.NOT_YET_VALID, body)
    if at >= body.valid_until:
        return TokenResult(False, Reason.EXPIRED, body)
    return TokenResult(True, "", body)
