"""Provider keys at rest and in flight: never in logs, never in the database's bytes (SQLite
file, PostgreSQL rows), never to another user; rotation of the encryption key."""

from __future__ import annotations

import json
import logging
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tornado.httpclient import HTTPClientError

from jupyter_ide.ai_handlers.crypto import SecretBox, SecretsUnavailable
from jupyter_ide.ai_handlers.keys import KeyStore
from jupyter_ide.db import Database, upgrade

from .test_ai_common import HubLikeIdentity, Upstream, ai_config, as_user, chat
from .test_ai_common import gemini as gemini  # fixture
from .test_ai_common import upstream as upstream  # fixture

OPENAI_KEY = "sk-proj-Zq8vW3nL0pK7xY2mR5tB9cD4fG6hJ1aE"
GEMINI_KEY = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], upstream: Upstream, gemini: Upstream
) -> dict[str, Any]:
    """The local fakes; ada and bob as hub-like users."""
    HubLikeIdentity.USERS.update({"ada": "student", "bob": "student", "root": "admin"})
    return ai_config(jp_server_config, upstream, gemini)


async def _store(jp_fetch: Any, user: str, provider: str, key: str) -> None:
    """PUT a provider key as ``user``."""
    await jp_fetch(
        "ide",
        "api",
        "ai",
        "keys",
        provider,
        method="PUT",
        body=json.dumps({"api_key": key}),
        headers=as_user(user),
    )


async def test_keys_never_reach_the_logs(
    jp_fetch: Any,
    jp_serverapp: Any,
    upstream: Upstream,
    gemini: Upstream,
    caplog: pytest.LogCaptureFixture,
    jp_logging_stream: StringIO,
) -> None:
    """Storing and using keys, streaming, and an upstream 401 that quotes the key: no log
    line (every logger at DEBUG, and the server's own log stream) and no response holds it."""
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx2", "google_genai", "aiohttp", "tornado", "ServerApp"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    jp_serverapp.log.setLevel(logging.DEBUG)
    await _store(jp_fetch, "ada", "openai", OPENAI_KEY)
    await _store(jp_fetch, "ada", "gemini", GEMINI_KEY)
    bodies = []
    for model in ("echo", "gemini-2.0-flash"):
        bodies.append(
            (
                await chat(
                    jp_fetch, "ada", model=model, messages=[{"role": "user", "content": "k"}]
                )
            ).body
        )
        bodies.append(
            (
                await chat(
                    jp_fetch,
                    "ada",
                    model=model,
                    messages=[{"role": "user", "content": "k"}],
                    stream=True,
                )
            ).body
        )
    assert upstream.seen[-1]["auth"] == f"Bearer {OPENAI_KEY}"  # the key was really used
    assert gemini.seen[-1]["api_key"] == GEMINI_KEY
    with pytest.raises(HTTPClientError) as rejected:
        await chat(jp_fetch, "ada", model="reject", messages=[{"role": "user", "content": "k"}])
    assert rejected.value.code == 401
    assert "Incorrect API key provided" in json.loads(rejected.value.response.body)["message"]
    bodies.append(rejected.value.response.body)
    bodies.append((await jp_fetch("ide", "api", "ai", "keys", headers=as_user("ada"))).body)
    logged = caplog.text + jp_logging_stream.getvalue()
    assert "POST" in logged and "chat/completions" in logged  # the logs were captured
    for key in (OPENAI_KEY, GEMINI_KEY):
        assert key not in logged
        assert key[8:24] not in logged  # nor a recognisable part of it
        assert not any(key.encode() in body for body in bodies)


async def test_one_user_cannot_see_or_use_anothers_keys(jp_fetch: Any, upstream: Upstream) -> None:
    """Keys are listed only to their owner and used only for their owner's requests."""
    await _store(jp_fetch, "bob", "openai", OPENAI_KEY)
    assert json.loads(
        (await jp_fetch("ide", "api", "ai", "keys", headers=as_user("ada"))).body
    ) == {"keys": []}
    bob = json.loads((await jp_fetch("ide", "api", "ai", "keys", headers=as_user("bob"))).body)
    assert [k["provider"] for k in bob["keys"]] == ["openai"] and OPENAI_KEY not in json.dumps(bob)
    await chat(jp_fetch, "ada", model="echo", messages=[{"role": "user", "content": "x"}])
    assert upstream.seen[-1]["auth"] != f"Bearer {OPENAI_KEY}"
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(
            "ide", "api", "ai", "keys", "openai", method="DELETE", headers=as_user("ada")
        )
    assert e.value.code == 404  # ada cannot remove bob's key either
    for bad in ({"api_key": ""}, {"api_key": 42}, {"api_key": "x" * 600}, {}):
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch(
                "ide",
                "api",
                "ai",
                "keys",
                "openai",
                method="PUT",
                body=json.dumps(bad),
                headers=as_user("ada"),
            )
        assert e.value.code == 400
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(
            "ide", "api", "ai", "keys", "nosuch", method="PUT", body=json.dumps({"api_key": "k"})
        )
    assert e.value.code == 400


async def test_sqlite_file_never_holds_the_key(jp_fetch: Any, ide_db_url: str) -> None:
    """The raw bytes of the SQLite database (and its journal) do not contain the key."""
    await _store(jp_fetch, "ada", "openai", OPENAI_KEY)
    await chat(jp_fetch, "ada", model="echo", messages=[{"role": "user", "content": "x"}])
    path = Path(make_url(ide_db_url).database or "")
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert path in files
    raw = b"".join(p.read_bytes() for p in files)
    assert b"user_tokens" in raw  # the right file
    assert OPENAI_KEY.encode() not in raw
    assert OPENAI_KEY[3:20].encode() not in raw


@pytest.mark.postgres
async def test_postgres_rows_never_hold_the_key(pg_database_url: str) -> None:
    """On PostgreSQL, `SELECT encrypted_token` (and every row of every table) lacks the key."""
    upgrade(pg_database_url)
    db = Database(pg_database_url)
    try:
        keys = KeyStore(db, SecretBox(Fernet.generate_key().decode()))
        await keys.put("ada", "openai", OPENAI_KEY)
        assert await keys.get("ada", "openai") == OPENAI_KEY
    finally:
        await db.dispose()
    libpq = (
        make_url(pg_database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    with psycopg.connect(libpq) as conn:
        (token,) = conn.execute("SELECT encrypted_token FROM user_tokens").fetchone() or (b"",)
        assert bytes(token) and OPENAI_KEY.encode() not in bytes(token)
        tables = [
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        ]
        for table in tables:
            dump = "".join(str(r) for r in conn.execute(f'SELECT t::text FROM "{table}" t'))
            assert OPENAI_KEY not in dump, table


async def test_rotation_of_the_encryption_key(any_db_url: str) -> None:
    """Put a new key first: old rows still open; rotate: rows move to the new key only."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        await KeyStore(db, SecretBox(old)).put("ada", "openai", OPENAI_KEY)
        await KeyStore(db, SecretBox(old)).put("bob", "gemini", GEMINI_KEY)
        async with db.session() as s:
            before = dict(
                (await s.execute(text("SELECT provider, encrypted_token FROM user_tokens"))).all()
            )
        both = KeyStore(db, SecretBox(f"{new};{old}"))
        assert await both.get("ada", "openai") == OPENAI_KEY  # old rows still decrypt
        assert await both.rotate_all() == 2
        async with db.session() as s:
            after = dict(
                (await s.execute(text("SELECT provider, encrypted_token FROM user_tokens"))).all()
            )
        assert all(bytes(after[p]) != bytes(before[p]) for p in before)
        only_new = KeyStore(db, SecretBox(new))
        assert await only_new.get("ada", "openai") == OPENAI_KEY
        assert await only_new.get("bob", "gemini") == GEMINI_KEY
        with pytest.raises(SecretsUnavailable):
            await KeyStore(db, SecretBox(old)).get("ada", "openai")
    finally:
        await db.dispose()


async def test_rotation_over_http(jp_fetch: Any) -> None:
    """Admins re-encrypt every stored key in one call; students may not."""
    await _store(jp_fetch, "ada", "openai", OPENAI_KEY)
    done = await jp_fetch(
        "ide", "api", "ai", "admin", "rotate-keys", method="POST", body=b"", headers=as_user("root")
    )
    assert json.loads(done.body) == {"rotated": 1}
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(
            "ide",
            "api",
            "ai",
            "admin",
            "rotate-keys",
            method="POST",
            body=b"",
            headers=as_user("ada"),
        )
    assert e.value.code == 403
