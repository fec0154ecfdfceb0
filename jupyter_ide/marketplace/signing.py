"""Ed25519 signatures over a package's sha256: publishers' keys, signing, verifying."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import MarketplaceError

# What is signed: this context, then the package's sha256 in hex. The context keeps a
# signature made for something else (another tool's, over the same digest) from verifying.
CONTEXT = b"jupyter-ide marketplace package v1\n"


def signed_message(content_hash: str) -> bytes:
    """Return the bytes a publisher signs for a package with this sha256 (hex)."""
    return CONTEXT + content_hash.encode("ascii")


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """Return the key's 32 raw bytes."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(raw: bytes) -> str:
    """Return a key's id: the first 32 hex digits of the sha256 of its raw bytes."""
    return hashlib.sha256(raw).hexdigest()[:32]


def decode_b64(text: object, what: str, size: int | None = None) -> bytes:
    """Decode standard or URL-safe base64; 400 naming ``what`` when it is not."""
    if not isinstance(text, str) or not text.strip():
        raise MarketplaceError(400, f"Missing {what} (base64)")
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        data = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MarketplaceError(400, f"The {what} is not valid base64") from e
    if size is not None and len(data) != size:
        raise MarketplaceError(400, f"The {what} must be {size} bytes, not {len(data)}")
    return data


def parse_public_key(text: object) -> bytes:
    """Return the raw bytes of an Ed25519 public key given as base64 (raw 32 bytes)."""
    raw = decode_b64(text, "public key", 32)
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as e:
        raise MarketplaceError(400, "The public key is not an Ed25519 key") from e
    return raw


def sign(private_key: Ed25519PrivateKey, content_hash: str) -> str:
    """Return the base64 signature of a package's sha256 (what `examples build` does)."""
    return base64.b64encode(private_key.sign(signed_message(content_hash))).decode("ascii")


def verifies(raw_public: bytes, content_hash: str, signature: bytes) -> bool:
    """Return True when ``signature`` is the key's signature of this sha256."""
    try:
        Ed25519PublicKey.from_public_bytes(raw_public).verify(
            signature, signed_message(content_hash)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
