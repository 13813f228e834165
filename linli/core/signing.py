"""The deployment's Ed25519 signing keys: what release certificates and access passes sign with.

The current key is ``LINLI_SIGNING_KEY`` (a base64 32-byte seed, from settings or the
environment) or one generated once under ``LINLI_VAR_DIR/secrets/signing_key``. Its version is
``LINLI_SIGNING_KEY_VERSION`` (1 by default). Retired keys stay verifiable for as long as codes
signed with them may still be shown: ``LINLI_SIGNING_KEYS_RETIRED`` maps a version to its seed.
Anyone holding the public keys can check a signature with no network (a phone at a gate).

Signing uses ``cryptography`` (OpenSSL); verification uses libsodium through PyNaCl, which
checks an Ed25519 signature in about half the time here (decision 0044): a gate syncing a
queue, the pass-check API and the offline benchmark verify one signature per request. Both
implement RFC 8032 over the same raw 32-byte keys and 64-byte signatures, so every signature
either makes the other accepts (tests/core/test_signing.py checks it both ways).
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from nacl.bindings import crypto_sign_BYTES, crypto_sign_open, crypto_sign_PUBLICKEYBYTES
from nacl.exceptions import CryptoError

from linli.core.secrets import load_or_create_secret


class SignatureError(ValueError):
    """Text that is not base64, or a signature that does not match."""


def b64(data: bytes) -> str:
    """base64url without padding (compact in a QR code and a URL)."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise SignatureError("not base64") from exc


@functools.cache
def _private_key(seed_b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(seed_b64)[:32])


def key_version() -> int:
    """The version number of the current key (written into what it signs)."""
    return int(getattr(settings, "LINLI_SIGNING_KEY_VERSION", 1) or 1)


def signing_key() -> Ed25519PrivateKey:
    """The deployment's current Ed25519 key (32-byte seed, base64), generated on first use."""
    seed = (
        getattr(settings, "LINLI_SIGNING_KEY", "")
        or os.environ.get("LINLI_SIGNING_KEY", "")
        or load_or_create_secret(settings.VAR_DIR / "secrets" / "signing_key", nbytes=32)
    )
    return _private_key(seed)


def public_key_bytes() -> bytes:
    return signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64() -> str:
    """The current public key (raw 32 bytes, base64url)."""
    return b64(public_key_bytes())


def public_keys() -> dict[int, bytes]:
    """Every key version still accepted -> its raw public key (the current one included)."""
    keys: dict[int, bytes] = {}
    retired = getattr(settings, "LINLI_SIGNING_KEYS_RETIRED", {}) or {}
    for version, seed in retired.items():
        keys[int(version)] = (
            _private_key(str(seed)).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
    keys[key_version()] = public_key_bytes()
    return keys


def sign(data: bytes) -> bytes:
    """The Ed25519 signature of *data* with the current key."""
    return signing_key().sign(data)


def verify(signature: bytes, data: bytes, public_key: bytes | None = None) -> None:
    """Raise SignatureError unless *signature* over *data* matches the raw public key (the
    current one by default)."""
    key = public_key or public_key_bytes()
    # libsodium takes the signature and the message as one buffer; a signature of another
    # length would shift the split and check other bytes than *data*.
    if len(signature) != crypto_sign_BYTES or len(key) != crypto_sign_PUBLICKEYBYTES:
        raise SignatureError("the signature does not match")
    try:
        crypto_sign_open(signature + data, key)
    except CryptoError as exc:
        raise SignatureError("the signature does not match") from exc
