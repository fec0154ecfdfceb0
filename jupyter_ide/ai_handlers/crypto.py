"""Secrets at rest: MultiFernet with the keys of JUPYTER_IDE_CRYPT_KEY (first one encrypts).

A key may be written as JupyterHub writes JUPYTERHUB_CRYPT_KEY (32 bytes, hex or base64, for
example `openssl rand -hex 32`) or as a Fernet key (the same 32 bytes, url-safe base64); keys
are separated by ';' and the first one encrypts.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_BYTES = 32
CRYPT_KEY_FIX = "make one with `openssl rand -hex 32`; separate several keys with ';'"
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{43}=?")


class SecretsUnavailable(RuntimeError):
    """No encryption key is configured, so secrets cannot be stored."""


class CryptKeyError(ValueError):
    """A configured key is not 32 bytes in hex or base64; the message never holds the key."""


def _key_bytes(key: str) -> bytes | None:
    """Return the 32 bytes a hex or (url-safe or standard) base64 key stands for, else None."""
    if _HEX.fullmatch(key):
        return binascii.unhexlify(key)
    if _BASE64.fullmatch(key):
        padded = key if key.endswith("=") else key + "="
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except binascii.Error:
            return None
        return raw if len(raw) == KEY_BYTES else None
    return None


def parse_keys(keys: str) -> list[bytes]:
    """Return the 32-byte keys of a ';'-separated list, in order; CryptKeyError names a bad one."""
    parts = [k.strip() for k in keys.split(";") if k.strip()]
    parsed = []
    for number, part in enumerate(parts, start=1):
        raw = _key_bytes(part)
        if raw is None:
            which = f"key {number} of {len(parts)}" if len(parts) > 1 else "the key"
            raise CryptKeyError(
                f"{which} ({len(part)} characters) is not 32 bytes in hex (64 characters) or "
                "base64 (44 characters)"
            )
        parsed.append(raw)
    return parsed


class SecretBox:
    """Encrypt and decrypt small secrets; rotation by putting a new key first."""

    def __init__(self, keys: str) -> None:
        """Take ';'-separated keys (see parse_keys); an empty string disables storing secrets."""
        try:
            parsed = parse_keys(keys)
        except CryptKeyError as e:
            raise CryptKeyError(f"JUPYTER_IDE_CRYPT_KEY: {e}: {CRYPT_KEY_FIX}") from None
        fernets = [Fernet(base64.urlsafe_b64encode(raw)) for raw in parsed]
        self._fernet = MultiFernet(fernets) if fernets else None

    @property
    def available(self) -> bool:
        """Return True when a key is configured."""
        return self._fernet is not None

    def _require(self) -> MultiFernet:
        """Return the cipher or say how to configure one."""
        if self._fernet is None:
            raise SecretsUnavailable(
                "This server keeps no secrets: an administrator must set JUPYTER_IDE_CRYPT_KEY"
            )
        return self._fernet

    def encrypt(self, secret: str) -> bytes:
        """Encrypt with the first key."""
        return self._require().encrypt(secret.encode())

    def decrypt(self, token: bytes) -> str:
        """Decrypt with whichever configured key made ``token``."""
        try:
            return self._require().decrypt(token).decode()
        except InvalidToken as e:
            raise SecretsUnavailable(
                "A stored secret was made with a key no longer configured"
            ) from e

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt ``token`` with the first key."""
        return self._require().rotate(token)
