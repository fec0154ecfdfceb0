"""URLs of the real services the tests talk to, and fixtures that make throwaway ones."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from jupyter_ide.cache import RedisCache

START_HINT = "`make test` installs and starts it (scripts/services.sh)"


def postgres_url() -> str:
    """The PostgreSQL server the tests use."""
    return os.environ.get(
        "JUPYTER_IDE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


def redis_url() -> str:
    """The Redis server the tests use."""
    return os.environ.get("JUPYTER_IDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _libpq(url: str) -> str:
    """Turn a SQLAlchemy URL into a libpq one."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    admin = postgres_url()
    name = f"jupyter_ide_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(_libpq(admin), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL at {admin} does not answer ({e}); {START_HINT}")
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(admin).set(database=name).render_as_string(hide_password=False)
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'db' / 'ide.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Each test runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_database_url"
    return str(request.getfixturevalue(fixture))


async def _drop_keys(cache: RedisCache) -> None:
    """Delete every key under the cache's prefix, then close it."""
    client = cache._client
    keys = [key async for key in client.scan_iter(match=cache.prefix + "*")]
    if keys:
        await client.delete(*keys)
    await cache.close()


@pytest.fixture
def redis_cache(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[RedisCache]:
    """A Redis cache under a random prefix, its keys removed afterwards."""
    cache = RedisCache(redis_url(), prefix=f"test:{uuid.uuid4().hex}:")
    try:
        jp_asyncio_loop.run_until_complete(cache.ping())
    except Exception as e:
        jp_asyncio_loop.run_until_complete(cache.close())
        pytest.fail(f"Redis at {redis_url()} does not answer ({e}); {START_HINT}")
    yield cache
    jp_asyncio_loop.run_until_complete(_drop_keys(cache))
