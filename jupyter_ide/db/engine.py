"""The async database: one engine (pooled on PostgreSQL) and sessions per unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .urls import SQLITE, async_url, backend_of, safe_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys and WAL for each new SQLite connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file so the first connection can make it."""
    database = make_url(url).database
    if backend_of(url) == SQLITE and database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


class Database:
    """The application's database: an async engine and a session factory."""

    def __init__(self, url: str, *, pool_size: int = 5, max_overflow: int = 10) -> None:
        """Create the engine; nothing connects until first use."""
        self.url = url
        self.backend = backend_of(url)
        self.safe_url = safe_url(url)
        options: dict[str, Any] = {}
        if self.backend == SQLITE:
            ensure_sqlite_folder(url)
        else:
            options.update(pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(async_url(url), **options)
        if self.backend == SQLITE:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session that commits on success and rolls back on error."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        """Run a trivial query; raise when the database does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
