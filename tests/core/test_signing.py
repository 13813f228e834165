"""The deployment's Ed25519 code: signatures made with ``cryptography`` verify through libsodium
(PyNaCl) and the other way round, on RFC 8032's own test vector too; anything else is refused,
including a signature of another length that would shift libsodium's split of the buffer."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.signing import SigningKey

from linli.core import signing

# RFC 8032, section 7.1, TEST 1 (the empty message).
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_rfc_8032_vector() -> None:
    signing.verify(RFC_SIGNATURE, b"", RFC_PUBLIC)
    assert Ed25519PrivateKey.from_private_bytes(RFC_SEED).sign(b"") == RFC_SIGNATURE
    with pytest.raises(signing.SignatureError):
        signing.verify(RFC_SIGNATURE, b"x", RFC_PUBLIC)


def test_both_libraries_agree(settings: object) -> None:
    seed = bytes(range(32))
    settings.LINLI_SIGNING_KEY = base64.urlsafe_b64encode(seed).decode()  # type: ignore[attr-defined]
    data = "1|41|v|7|1700000000|1700086400|1|王*访".encode()
    ours = signing.sign(data)
    # Ed25519 is deterministic: libsodium signs the same bytes with the same seed identically.
    theirs = SigningKey(seed).sign(data).signature
    assert ours == theirs
    public = signing.public_key_bytes()
    assert public == bytes(SigningKey(seed).verify_key)
    signing.verify(ours, data, public)
    signing.verify(ours, data)  # the current key by default
    Ed25519PublicKey.from_public_bytes(public).verify(ours, data)


def test_refusals() -> None:
    key = Ed25519PrivateKey.from_private_bytes(RFC_SEED)
    data = b"1|41|v|7|1700000000|1700086400|1|x"
    sig = key.sign(data)
    bad = [
        (sig[:-1] + bytes([sig[-1] ^ 1]), data, RFC_PUBLIC),  # one bit of the signature
        (sig, data + b"!", RFC_PUBLIC),  # the body changed
        (sig, data, bytes(32)),  # another key
        (sig, data, RFC_PUBLIC[:31]),  # a key of the wrong length
        (b"", data, RFC_PUBLIC),
        # The same bytes split elsewhere: libsodium would see sig + data whole and accept them
        # if the lengths were not checked; *data* here is not what was signed.
        (sig[:60], sig[60:] + data, RFC_PUBLIC),
        (sig + data[:1], data[1:], RFC_PUBLIC),
    ]
    for signature, body, public in bad:
        with pytest.raises(signing.SignatureError):
            signing.verify(signature, body, public)
