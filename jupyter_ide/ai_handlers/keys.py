"""Users' own provider API keys, encrypted in `user_tokens`; never returned, never logged."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, select

from ..db import Database, User, UserToken
from ..db.queries import get_or_create_user
from .crypto import SecretBox

PROVIDERS = ("openai", "gemini", "pool")
MAX_KEY_LENGTH = 512


class KeyError_(ValueError):
    """A key that cannot be stored, with a message for the user."""


class KeyStore:
    """Store, list and read users' provider keys."""

    def __init__(self, db: Database, box: SecretBox, cache_seconds: float = 0.0) -> None:
        """Keep keys in ``db``, encrypted by ``box``.

        A user's encrypted rows are reused for ``cache_seconds`` (decrypted per request).
        """
        self.db = db
        self.box = box
        self.cache_seconds = cache_seconds
        self._rows: dict[str, tuple[list[tuple[str, bytes]], float]] = {}

    async def put(self, user_name: str, provider: str, api_key: Any) -> None:
        """Store (or replace) the user's key for a provider."""
        if provider not in PROVIDERS:
            raise KeyError_(f"Unknown provider {provider!r}: use one of {', '.join(PROVIDERS)}")
        if not isinstance(api_key, str) or not api_key.strip() or len(api_key) > MAX_KEY_LENGTH:
            raise KeyError_(
                f"api_key must be non-empty text of at most {MAX_KEY_LENGTH} characters"
            )
        encrypted = self.box.encrypt(api_key.strip())
        self._rows.pop(user_name, None)
        async with self.db.session() as session:
            user, _ = await get_or_create_user(session, user_name)
            row = (
                await session.execute(
                    select(UserToken).where(
                        UserToken.user_id == user.id, UserToken.provider == provider
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(
                    UserToken(user_id=user.id, provider=provider, encrypted_token=encrypted)
                )
            else:
                row.encrypted_token = encrypted

    async def providers(self, user_name: str) -> list[dict[str, Any]]:
        """List which providers the user has a key for (never the keys)."""
        async with self.db.session() as session:
            user, _ = await get_or_create_user(session, user_name)
            rows = (
                await session.execute(
                    select(UserToken.provider, UserToken.created_at).where(
                        UserToken.user_id == user.id
                    )
                )
            ).all()
        return [{"provider": p, "since": t.isoformat()} for p, t in sorted(rows)]

    async def get(self, user_name: str, provider: str) -> str | None:
        """Return the user's decrypted key for a provider, for an upstream call only."""
        async with self.db.session() as session:
            user, _ = await get_or_create_user(session, user_name)
            token = (
                await session.execute(
                    select(UserToken.encrypted_token).where(
                        UserToken.user_id == user.id, UserToken.provider == provider
                    )
                )
            ).scalar_one_or_none()
        return None if token is None else self.box.decrypt(token)

    async def all_for(self, user_name: str) -> dict[str, str]:
        """Return the user's decrypted keys by provider, for upstream calls only."""
        if not self.box.available:
            return {}
        cached = self._rows.get(user_name)
        if cached is not None and time.monotonic() < cached[1]:
            rows = cached[0]
        else:
            async with self.db.session() as session:
                found = (
                    await session.execute(
                        select(UserToken.provider, UserToken.encrypted_token)
                        .join(User, User.id == UserToken.user_id)
                        .where(User.name == user_name)
                    )
                ).all()
            rows = [(str(p), bytes(t)) for p, t in found]
            if self.cache_seconds > 0:
                if len(self._rows) > 10_000:
                    self._rows.clear()
                self._rows[user_name] = (rows, time.monotonic() + self.cache_seconds)
        return {provider: self.box.decrypt(token) for provider, token in rows}

    async def remove(self, user_name: str, provider: str) -> bool:
        """Delete the user's key for a provider; return True when there was one."""
        self._rows.pop(user_name, None)
        async with self.db.session() as session:
            user, _ = await get_or_create_user(session, user_name)
            result = await session.execute(
                delete(UserToken).where(
                    UserToken.user_id == user.id, UserToken.provider == provider
                )
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def rotate_all(self) -> int:
        """Re-encrypt every stored key with the first configured key; return how many."""
        self._rows.clear()
        async with self.db.session() as session:
            rows = (await session.execute(select(UserToken))).scalars().all()
            for row in rows:
                row.encrypted_token = self.box.rotate(row.encrypted_token)
        return len(rows)
