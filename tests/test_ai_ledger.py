"""The usage ledger's writer: rows of requests close together share one transaction, and a
usage read (flush) writes what waits at once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, func, select

from jupyter_ide.ai_handlers.ledger import Entry, Ledger
from jupyter_ide.db import AIUsage, Database, upgrade


def entry(user: str, tokens: int) -> Entry:
    """One request's usage."""
    return Entry(
        user=user,
        course="cs101",
        provider="openai",
        model="echo",
        prompt_tokens=tokens,
        completion_tokens=tokens,
        cache_hit=False,
        latency_ms=3,
    )


async def count_rows(db: Database) -> int:
    """Return how many ledger rows are stored."""
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(AIUsage))).scalar())


async def test_rows_close_together_share_one_transaction(any_db_url: str) -> None:
    """Rows wait for each other up to batch_seconds; flush() writes them at once."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    inserts: list[int] = []

    def count_inserts(
        _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AI_USAGE"):
            inserts.append(len(params) if many else 1)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count_inserts)
    ledger = Ledger(db, {"echo": [1.0, 2.0]}, batch_seconds=30.0)
    try:
        done = [ledger.submit(entry(f"u{i % 3}", 10 + i)) for i in range(20)]
        await asyncio.sleep(0.2)
        assert await count_rows(db) == 0  # still waiting for company
        await asyncio.wait_for(ledger.flush(), 10)  # long before batch_seconds
        assert all(d.done() and d.exception() is None for d in done)
        assert await count_rows(db) == 20
        assert sum(inserts) == 20 and len(inserts) <= 2  # one statement (or one per batch)
        async with db.session() as session:
            tokens = (await session.execute(select(func.sum(AIUsage.prompt_tokens)))).scalar()
        assert tokens == sum(10 + i for i in range(20))
    finally:
        await db.dispose()


async def test_without_a_batch_window_rows_are_written_at_once(any_db_url: str) -> None:
    """batch_seconds=0: record() returns with the row stored."""
    upgrade(any_db_url)
    db = Database(any_db_url)
    ledger = Ledger(db, {}, batch_seconds=0.0)
    try:
        await ledger.record(entry("ada", 5))
        assert await count_rows(db) == 1
    finally:
        await db.dispose()
