"""API tokens: a 15-minute JWT and rotating refresh tokens with reuse detection."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest
from sqlalchemy import select
from tornado.httpclient import HTTPClientError

from jupyter_ide.auth.tokens import TokenError, TokenService
from jupyter_ide.db import AuditEvent, Database, RefreshToken, upgrade

SECRET = b"s" * 48


@pytest.fixture
def token_db(any_db_url: str, jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[Database]:
    """A migrated database on SQLite and on PostgreSQL."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    yield db
    jp_asyncio_loop.run_until_complete(db.dispose())


async def _events(db: Database) -> list[str]:
    """The audit log's event names, oldest first."""
    async with db.session() as s:
        rows = await s.execute(select(AuditEvent.event).order_by(AuditEvent.id))
        return list(rows.scalars())


async def test_issue_and_verify(token_db: Database) -> None:
    """An issued access token carries the user and role and expires in 15 minutes."""
    service = TokenService(token_db, SECRET)
    pair = await service.issue("ada", "student")
    claims = service.verify(pair.access_token)
    assert claims["sub"] == "ada" and claims["role"] == "student"
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert pair.as_json()["token_type"] == "Bearer"
    async with token_db.session() as s:
        stored = (await s.execute(select(RefreshToken.token_hash))).scalar_one()
    assert stored != pair.refresh_token and len(stored) == 64
    assert await _events(token_db) == ["token_issued"]


async def test_access_tokens_expire(token_db: Database) -> None:
    """After its lifetime an access token is refused."""
    service = TokenService(token_db, SECRET, access_ttl=1)
    pair = await service.issue("ada", "student")
    service.verify(pair.access_token)
    await asyncio.sleep(2.1)
    with pytest.raises(TokenError, match="expired"):
        service.verify(pair.access_token)


def _tamper(token: str) -> str:
    """Change the role claim without re-signing."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_tampered_and_foreign_tokens_are_refused(token_db: Database) -> None:
    """A changed payload, another key, or the "none" algorithm are all refused."""
    service = TokenService(token_db, SECRET)
    pair = await service.issue("ada", "student")
    with pytest.raises(TokenError):
        service.verify(_tamper(pair.access_token))
    now = int(time.time())
    claims = {"iss": "jupyter-ide", "sub": "ada", "iat": now, "exp": now + 60}
    with pytest.raises(TokenError):
        service.verify(pyjwt.encode(claims, b"o" * 48, algorithm="HS256"))
    with pytest.raises(TokenError):
        service.verify(pyjwt.encode(claims, None, algorithm="none"))
    with pytest.raises(TokenError):
        service.verify("not-a-jwt")


async def test_refresh_rotates(token_db: Database) -> None:
    """A refresh gives a new pair; the new refresh token works in turn."""
    service = TokenService(token_db, SECRET)
    first = await service.issue("ada", "student")
    second = await service.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert service.verify(second.access_token)["sub"] == "ada"
    third = await service.refresh(second.refresh_token)
    assert service.verify(third.access_token)["sub"] == "ada"
    assert await _events(token_db) == ["token_issued", "token_rotated", "token_rotated"]


async def test_reuse_revokes_the_whole_family(token_db: Database) -> None:
    """Using a refresh token twice revokes every token of that sign-in, not others'."""
    service = TokenService(token_db, SECRET)
    first = await service.issue("ada", "student")
    other = await service.issue("ada", "student")
    second = await service.refresh(first.refresh_token)
    with pytest.raises(TokenError, match="already used"):
        await service.refresh(first.refresh_token)
    with pytest.raises(TokenError, match="revoked"):
        await service.refresh(second.refresh_token)
    assert await service.refresh(other.refresh_token)
    assert "token_reuse" in await _events(token_db)


async def test_concurrent_refreshes_let_one_through(token_db: Database) -> None:
    """Two refreshes racing with the same token: one wins, the other is reuse."""
    service = TokenService(token_db, SECRET)
    pair = await service.issue("ada", "student")
    results = await asyncio.gather(
        service.refresh(pair.refresh_token),
        service.refresh(pair.refresh_token),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert sum(isinstance(r, TokenError) for r in results) == 1


async def test_expired_and_unknown_refresh_tokens(token_db: Database) -> None:
    """An expired or unknown refresh token is refused."""
    service = TokenService(token_db, SECRET, refresh_ttl=1)
    pair = await service.issue("ada", "student")
    await asyncio.sleep(1.2)
    with pytest.raises(TokenError, match="expired"):
        await service.refresh(pair.refresh_token)
    with pytest.raises(TokenError, match="Unknown"):
        await service.refresh("nope")


def test_short_secrets_are_refused() -> None:
    """A signing secret shorter than 32 bytes is a configuration error."""
    with pytest.raises(ValueError, match="32 bytes"):
        TokenService(Database("sqlite://"), b"short")


async def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    """POST JSON with no session and no token."""
    return await client.fetch(url, method="POST", body=json.dumps(body), raise_error=False)


async def test_tokens_over_http(jp_fetch: Any, http_server_client: Any, jp_base_url: str) -> None:
    """Issue, use as Bearer on our API and Jupyter's, refresh without a session, detect reuse."""
    issued = json.loads(
        (await jp_fetch("ide", "api", "auth", "token", method="POST", body="{}")).body
    )
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    me = json.loads((await jp_fetch("ide", "api", "auth", "me", headers=bearer)).body)
    assert me["role"] == "admin" and "token:issue" in me["permissions"]
    contents = await jp_fetch("api", "contents", headers=bearer)
    assert contents.code == 200
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("ide", "api", "auth", "token", method="POST", body="{}", headers=bearer)
    assert refused.value.code == 403
    forged = {"Authorization": f"Bearer {_tamper(issued['access_token'])}"}
    with pytest.raises(HTTPClientError) as forged_refused:
        await jp_fetch("ide", "api", "auth", "me", headers=forged)
    assert forged_refused.value.code == 403
    url = f"{jp_base_url}ide/api/auth/refresh"
    renewed = await _post(http_server_client, url, {"refresh_token": issued["refresh_token"]})
    assert renewed.code == 200
    assert json.loads(renewed.body)["refresh_token"] != issued["refresh_token"]
    reused = await _post(http_server_client, url, {"refresh_token": issued["refresh_token"]})
    assert reused.code == 401
    assert "already used" in json.loads(reused.body)["message"]
    bad = await http_server_client.fetch(url, method="POST", body=b"{nope", raise_error=False)
    assert bad.code == 400
