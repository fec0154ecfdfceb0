"""Secrets at rest: MultiFernet with the keys of JUPYTER_IDE_CRYPT_KEY (first one encrypts)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsUnavailable(RuntimeError):
    """No encryption key is configured, so secrets cannot be stored."""


class SecretBox:
    """Encrypt and decrypt small secrets; rotation by putting a new key first."""

    def __init__(self, keys: str) -> None:
        """Take ';'-separated Fernet keys; an empty string disables storing secrets."""
        parts = [k.strip() for k in keys.split(";") if k.strip()]
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts]) if parts else None
        except ValueError as e:
            raise ValueError(
                "JUPYTER_IDE_CRYPT_KEY must hold Fernet keys (32 url-safe base64 bytes), "
                "';'-separated: make one with `python -c \"from cryptography.fernet import "
                'Fernet; print(Fernet.generate_key().decode())"`'
            ) from e

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
