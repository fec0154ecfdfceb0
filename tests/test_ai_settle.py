"""Settling quotas: finished requests' token counts go to the cache together, after a short
wait, and until then every request holds at least what it used; the counting windows."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_ide.ai_handlers.quotas import Quotas, _windows
from jupyter_ide.ai_handlers.settings import AISettings
from jupyter_ide.cache import Cache, MemoryCache

DAILY = 100_000


class CountingCache:
    """Wraps a real cache and counts the settling steps sent to it."""

    def __init__(self, cache: Cache) -> None:
        """Wrap ``cache``."""
        self.cache = cache
        self.steps: list[int] = []

    def __getattr__(self, name: str) -> object:
        """Everything else goes to the real cache."""
        return getattr(self.cache, name)

    async def incr_each(self, counters: Sequence[tuple[str, int, float | None]]) -> list[int]:
        """Count one step of ``len(counters)`` changes, then make it."""
        self.steps.append(len(counters))
        return await self.cache.incr_each(counters)


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Cache:
    """Each test runs on the in-process backend and on Redis."""
    if request.param == "memory":
        return MemoryCache(prefix="settle-test:")
    return request.getfixturevalue("redis_cache")  # type: ignore[no-any-return]


async def _day_tokens(quotas: Quotas, user: str) -> int:
    """Return the user's tokens counted today, read straight from the cache."""
    day = next(limit for limit in quotas.limits(user, None) if limit.unit == "tokens")
    raw = await quotas.cache.get(day.key(quotas.namespace))
    return int(raw or 0)


async def test_settlements_close_together_are_one_step(cache: Cache) -> None:
    """Ten requests settle in one step; until then each holds its whole reservation."""
    counting = CountingCache(cache)
    settings = AISettings(daily_tokens=DAILY, monthly_tokens=0, quota_settle_seconds=10)
    quotas = Quotas(counting, settings)  # type: ignore[arg-type]
    reservations = [await quotas.admit("ada", None, 500) for _ in range(10)]
    assert await _day_tokens(quotas, "ada") == 5000
    for reservation in reservations:
        quotas.settle_soon(reservation, 120)
    await asyncio.sleep(0.05)
    assert await _day_tokens(quotas, "ada") == 5000  # still held: never under what was used
    assert counting.steps == []
    await quotas.settled()  # a usage read settles at once
    assert await _day_tokens(quotas, "ada") == 1200
    assert counting.steps == [1]  # one counter, one step for all ten
    quotas.settle_soon(reservations[0], 120)  # nothing changed: nothing to send
    await quotas.settled()
    assert counting.steps == [1]


async def test_settling_waits_at_most_the_setting(cache: Cache) -> None:
    """Without a usage read, the counts are settled after quota_settle_seconds."""
    settings = AISettings(daily_tokens=DAILY, monthly_tokens=DAILY, quota_settle_seconds=0.05)
    quotas = Quotas(cache, settings)
    reservation = await quotas.admit("bob", None, 800)
    quotas.settle_soon(reservation, 300)
    for _ in range(100):
        if await _day_tokens(quotas, "bob") == 300:
            break
        await asyncio.sleep(0.01)
    assert await _day_tokens(quotas, "bob") == 300
    assert reservation.reserved == 300


@pytest.mark.parametrize(
    ("now", "minute", "day", "month", "month_resets"),
    [
        ("2026-11-25T10:59:59.9", "202611251059", "20261125", "202611", "2026-12-01T00:00"),
        ("2026-12-31T23:59:30", "202612312359", "20261231", "202612", "2027-01-01T00:00"),
        ("2028-02-29T00:00:00", "202802290000", "20280229", "202802", "2028-03-01T00:00"),
    ],
)
def test_windows_and_when_they_reset(
    now: str, minute: str, day: str, month: str, month_resets: str
) -> None:
    """Each limit counts in a UTC minute, day or month, and says when it resets."""
    found = _windows(datetime.fromisoformat(now).replace(tzinfo=timezone.utc))
    assert [found[w].suffix for w in ("minute", "day", "month")] == [minute, day, month]
    assert found["minute"].resets_at - found["minute"].resets_at.replace(second=0) == timedelta()
    start = datetime.fromisoformat(now).replace(tzinfo=timezone.utc)
    assert timedelta() < found["minute"].resets_at - start <= timedelta(minutes=1)
    assert found["day"].resets_at == (start + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert found["month"].resets_at.isoformat().startswith(month_resets)
