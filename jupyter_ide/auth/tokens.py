"""Short-lived API tokens: a 15-minute JWT plus a rotating refresh token with reuse detection."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import select, update

from ..db import Database, RefreshToken, User
from ..db.queries import get_or_create_user
from ..server_extension.create_once import create_once
from .audit import record

ALGORITHM = "HS256"
ISSUER = "jupyter-ide"
ACCESS_TTL = 15 * 60
REFRESH_TTL = 30 * 24 * 3600


class TokenError(Exception):
    """A token that cannot be used: missing, malformed, expired, revoked or reused."""


@dataclass(frozen=True)
class TokenPair:
    """What a client receives: an access token to send, a refresh token to keep."""

    access_token: str
    refresh_token: str
    expires_in: int

    def as_json(self) -> dict[str, Any]:
        """Return the OAuth-style token response."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
        }


def load_or_create_secret(path: Path) -> bytes:
    """Return the signing secret kept in ``path`` (mode 0600), creating it on first use."""
    secret = create_once(path, secrets.token_bytes(48), 0o600)
    if len(secret) < 32:
        raise ValueError(f"{path} holds fewer than 32 bytes: delete it to make a new secret")
    return secret


def _hash(token: str) -> str:
    """Return the stored form of a refresh token."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    """Issue, rotate and verify API tokens for the users of this server."""

    def __init__(
        self,
        db: Database,
        secret: bytes,
        *,
        access_ttl: int = ACCESS_TTL,
        refresh_ttl: int = REFRESH_TTL,
    ) -> None:
        """Sign with ``secret``; lifetimes in seconds."""
        if len(secret) < 32:
            raise ValueError("the token signing secret must be at least 32 bytes")
        self.db = db
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    @staticmethod
    def _now() -> datetime:
        """Return the current time in UTC."""
        return datetime.now(timezone.utc)

    def _access_token(self, user_name: str, role: str) -> str:
        """Sign a JWT for ``user_name``."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user_name,
            "role": role,
            "iat": now,
            "exp": now + self.access_ttl,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid, unexpired access token, or raise TokenError."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.PyJWTError as e:
            raise TokenError(f"Invalid access token: {e}") from e
        return claims

    async def issue(self, user_name: str, role: str, remote_ip: str | None = None) -> TokenPair:
        """Start a new token family for a signed-in user."""
        refresh = secrets.token_urlsafe(32)
        family = secrets.token_hex(16)
        async with self.db.session() as session:
            user, _ = await get_or_create_user(session, user_name, role)
            user_id = user.id
            session.add(
                RefreshToken(
                    user_id=user_id,
                    family_id=family,
                    token_hash=_hash(refresh),
                    created_at=self._now(),
                    expires_at=self._now() + timedelta(seconds=self.refresh_ttl),
                )
            )
            record(
                session,
                "token_issued",
                user_name,
                user_id=user_id,
                remote_ip=remote_ip,
                family=family,
            )
        return TokenPair(self._access_token(user_name, role), refresh, self.access_ttl)

    async def refresh(self, refresh_token: str, remote_ip: str | None = None) -> TokenPair:
        """Trade a refresh token for a new pair; a token used twice revokes its whole family."""
        if not isinstance(refresh_token, str) or not refresh_token:
            raise TokenError("Missing refresh token")
        now = self._now()
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(RefreshToken, User)
                    .join(User, User.id == RefreshToken.user_id)
                    .where(RefreshToken.token_hash == _hash(refresh_token))
                )
            ).one_or_none()
            if row is None:
                raise TokenError("Unknown refresh token")
            token, user = row
            if token.revoked_at is not None:
                raise TokenError("This refresh token was revoked; sign in again")
            if token.expires_at <= now:
                raise TokenError("This refresh token has expired; sign in again")
            claimed = await session.execute(
                update(RefreshToken)
                .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                await self._revoke_family(session, token.family_id, now)
                record(
                    session,
                    "token_reuse",
                    user.name,
                    user_id=user.id,
                    remote_ip=remote_ip,
                    family=token.family_id,
                )
                await session.commit()
                raise TokenError(
                    "This refresh token was already used: every token of this sign-in is revoked"
                )
            fresh = secrets.token_urlsafe(32)
            session.add(
                RefreshToken(
                    user_id=user.id,
                    family_id=token.family_id,
                    token_hash=_hash(fresh),
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.refresh_ttl),
                )
            )
            record(
                session,
                "token_rotated",
                user.name,
                user_id=user.id,
                remote_ip=remote_ip,
                family=token.family_id,
            )
            name, role = user.name, user.role
        return TokenPair(self._access_token(name, role), fresh, self.access_ttl)

    async def _revoke_family(self, session: Any, family: str, now: datetime) -> None:
        """Revoke every token of a family."""
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
