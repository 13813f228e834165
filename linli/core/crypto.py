"""Field encryption and keyed blind indexes for national IDs and phone numbers.

Values are sealed with AES-256-GCM (a random 96-bit nonce per value, key version byte in front
so keys can rotate). Exact-match lookups use a blind index: HMAC-SHA256 of the normalised value
under a key derived from the master key, so the database holds neither plaintext nor a plain
hash that could be brute-forced without the key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

KEY_VERSION = 1


class DecryptionError(Exception):
    """A sealed value could not be opened (wrong key or tampered data)."""


@functools.cache
def _derive(purpose: bytes, master_b64: str) -> bytes:
    master = base64.urlsafe_b64decode(master_b64)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"linli:" + purpose).derive(
        master
    )


def _key(purpose: bytes) -> bytes:
    return _derive(purpose, settings.LINLI_FIELD_KEY)


@functools.cache
def _aead(master_b64: str) -> AESGCM:
    return AESGCM(_derive(b"field-encryption", master_b64))


def seal(plaintext: str) -> bytes:
    """Encrypt *plaintext*; the result is version byte + nonce + ciphertext-with-tag."""
    nonce = os.urandom(12)
    ct = _aead(settings.LINLI_FIELD_KEY).encrypt(nonce, plaintext.encode(), None)
    return bytes([KEY_VERSION]) + nonce + ct


def sealer() -> Callable[[str], bytes]:
    """`seal` for many values (an import's IDs and phones): the same AES-GCM sealing with a
    fresh random nonce per value, the cipher and key looked up once instead of per value."""
    aead = _aead(settings.LINLI_FIELD_KEY)
    encrypt = aead.encrypt
    urandom = os.urandom
    version = bytes([KEY_VERSION])

    def seal_one(plaintext: str) -> bytes:
        nonce = urandom(12)
        return version + nonce + encrypt(nonce, plaintext.encode(), None)

    return seal_one


def unseal(sealed: bytes | memoryview) -> str:
    """Decrypt a value produced by :func:`seal`."""
    data = bytes(sealed)
    if not data or data[0] != KEY_VERSION:
        raise DecryptionError("unknown key version")
    try:
        return _aead(settings.LINLI_FIELD_KEY).decrypt(data[1:13], data[13:], None).decode()
    except Exception as exc:  # cryptography raises InvalidTag
        raise DecryptionError("cannot decrypt value") from exc


def blind_index(kind: str, normalised: str) -> str:
    """Keyed, deterministic index of a normalised value, for exact-match search."""
    mac = hmac.new(_key(b"blind-index:" + kind.encode()), normalised.encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def blind_indexer(kind: str) -> Callable[[str], str]:
    """`blind_index` for many values of one kind (a list of a million IDs): the same HMAC,
    with the key's inner and outer SHA-256 states computed once instead of per value."""
    key = _key(b"blind-index:" + kind.encode())
    if len(key) > 64:  # as HMAC does with a key longer than the block
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy

    def index(normalised: str) -> str:
        i = inner()
        i.update(normalised.encode())
        o = outer()
        o.update(i.digest())
        return o.hexdigest()[:32]

    return index


def token_digest(token: str) -> str:
    """Digest under which API tokens and one-time codes are stored (never the raw value)."""
    return hmac.new(_key(b"token"), token.encode(), hashlib.sha256).hexdigest()
