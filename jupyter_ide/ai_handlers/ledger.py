"""The usage ledger: one row per request, daily aggregates, CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Integer, Table, case, func, insert, select

from ..db import AIUsage, Database, User
from ..db.queries import get_or_create_user
from .batching import Gathering

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "day",
    "user",
    "course",
    "provider",
    "model",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "cache_hits",
)


@dataclass
class Entry:
    """What one request used."""

    user: str
    course: str | None
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cache_hit: bool
    latency_ms: int
    prompt: str | None = None


class Ledger:
    """Write usage rows and read them back summed by day."""

    def __init__(
        self, db: Database, prices: dict[str, list[float]], batch_seconds: float = 0.0
    ) -> None:
        """Write to ``db``; ``prices`` are per 1M prompt and completion tokens, per model.

        Rows wait up to ``batch_seconds`` for others to share their transaction.
        """
        self.db = db
        self.prices = prices
        self._user_ids: dict[str, int] = {}
        self._pending: list[tuple[Entry, asyncio.Future[None]]] = []
        self._writer = Gathering(batch_seconds, self._drain)

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """Return what a request cost at the configured prices."""
        prompt_price, completion_price = self.prices.get(model, (0.0, 0.0))
        total = prompt_tokens * prompt_price + completion_tokens * completion_price
        return (Decimal(str(total)) / Decimal(1_000_000)).quantize(Decimal("0.000001"))

    async def record(self, entry: Entry) -> None:
        """Write one ledger row; rows of concurrent requests share one transaction.

        One writer at a time keeps SQLite free of lock contention, and a commit serves every
        request that arrived while the previous one was being written. A caller that is
        cancelled while waiting does not lose its row.
        """
        await asyncio.shield(self.submit(entry))

    def submit(self, entry: Entry) -> asyncio.Future[None]:
        """Queue a row for the writer without waiting for it (off the response's path)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_log_failure)
        self._pending.append((entry, done))
        self._writer.wake()
        return done

    async def flush(self) -> None:
        """Write every queued row now and wait until it is written."""
        await self._writer.flush()

    async def _drain(self) -> None:
        """Write pending rows in batches until none are left."""
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write([entry for entry, _ in batch])
            except Exception as e:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(e)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _write(self, entries: list[Entry]) -> None:
        """Insert rows in one transaction, creating users rows as needed."""
        async with self.db.session() as session:
            for name in {e.user for e in entries} - set(self._user_ids):
                user, _ = await get_or_create_user(session, name)
                self._user_ids[name] = user.id
            # The table's Core insert: one executemany, without the ORM's per-row bookkeeping.
            await session.execute(
                insert(cast(Table, AIUsage.__table__)),
                [
                    {
                        "user_id": self._user_ids[entry.user],
                        "course": entry.course,
                        "provider": entry.provider,
                        "model": entry.model,
                        "prompt_tokens": entry.prompt_tokens,
                        "completion_tokens": entry.completion_tokens,
                        "cost": Decimal(0)
                        if entry.cache_hit
                        else self.cost(entry.model, entry.prompt_tokens, entry.completion_tokens),
                        "cache_hit": entry.cache_hit,
                        "latency_ms": entry.latency_ms,
                        "prompt": entry.prompt,
                    }
                    for entry in entries
                ],
            )

    async def daily(
        self,
        first: date,
        last: date,
        *,
        user: str | None = None,
        course: str | None = None,
        detailed: bool = False,
    ) -> list[dict[str, Any]]:
        """Return usage summed per day and user (and course, provider, model when detailed)."""
        keys: list[Any] = [AIUsage.day, User.name]
        if detailed:
            keys += [AIUsage.course, AIUsage.provider, AIUsage.model]
        query = (
            select(
                *keys,
                func.count(AIUsage.id),
                func.coalesce(func.sum(AIUsage.prompt_tokens), 0),
                func.coalesce(func.sum(AIUsage.completion_tokens), 0),
                func.coalesce(func.sum(AIUsage.cost), 0),
                func.coalesce(func.sum(case((AIUsage.cache_hit, 1), else_=0).cast(Integer)), 0),
            )
            .join(User, User.id == AIUsage.user_id)
            .where(AIUsage.day >= first, AIUsage.day <= last)
            .group_by(*keys)
            .order_by(AIUsage.day.desc(), User.name, *keys[2:])
        )
        if user is not None:
            query = query.where(User.name == user)
        if course is not None:
            query = query.where(AIUsage.course == course)
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
        found = []
        for row in rows:
            values = list(row)
            requests, prompt, completion, cost, hits = values[len(keys) :]
            item: dict[str, Any] = {"day": values[0].isoformat(), "user": values[1]}
            if detailed:
                item.update(course=values[2], provider=values[3], model=values[4])
            item.update(
                requests=int(requests),
                prompt_tokens=int(prompt),
                completion_tokens=int(completion),
                total_tokens=int(prompt) + int(completion),
                cost=f"{Decimal(str(cost)):.6f}",
                cache_hits=int(hits),
            )
            found.append(item)
        return found

    async def transcripts(
        self,
        first: date,
        last: date,
        *,
        user: str | None = None,
        course: str | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Return kept prompts (messages as JSON text, secrets redacted), newest first."""
        query = (
            select(AIUsage.created_at, User.name, AIUsage.course, AIUsage.model, AIUsage.prompt)
            .join(User, User.id == AIUsage.user_id)
            .where(AIUsage.day >= first, AIUsage.day <= last, AIUsage.prompt.is_not(None))
            .order_by(AIUsage.created_at.desc(), AIUsage.id.desc())
            .limit(limit)
        )
        if user is not None:
            query = query.where(User.name == user)
        if course is not None:
            query = query.where(AIUsage.course == course)
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
        return [
            {
                "time": created.isoformat(),
                "user": name,
                "course": row_course,
                "model": model,
                "prompt": prompt,
            }
            for created, name, row_course, model, prompt in rows
        ]

    @staticmethod
    def totals(days: list[dict[str, Any]]) -> dict[str, Any]:
        """Sum daily rows."""
        totals: dict[str, Any] = {
            name: sum(int(d[name]) for d in days)
            for name in (
                "requests",
                "prompt_tokens",
                "completion_tokens",
                "total_tokens",
                "cache_hits",
            )
        }
        totals["cost"] = f"{sum((Decimal(d['cost']) for d in days), Decimal(0)):.6f}"
        return totals

    @staticmethod
    def csv(rows: list[dict[str, Any]]) -> str:
        """Return detailed daily rows as CSV text."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: ("" if row.get(k) is None else _safe_cell(row[k])) for k in CSV_COLUMNS}
            )
        return out.getvalue()


def _log_failure(done: asyncio.Future[None]) -> None:
    """Log a ledger row that could not be written."""
    if not done.cancelled() and done.exception() is not None:
        log.error("AI usage row not written: %s", done.exception())


def _safe_cell(value: Any) -> Any:
    """Keep spreadsheet programs from running a cell as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
