"""The Redis cache: counters and entries shared, atomically, by every server process."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from ..db.urls import safe_url
from .base import Admission, Bounded, Cache

# KEYS counters; ARGV amount, limit, ttl in ms (0 = none) for each. Checks every counter, then
# adds to all of them or to none; a ttl applies to a new key only.
# Returns {0, new values...}, or {index of the refused counter (from 1), its value}.
_INCR_ALL_IF_BELOW = """
for i = 1, #KEYS do
  local value = tonumber(redis.call('GET', KEYS[i]) or '0')
  if value + tonumber(ARGV[3 * i - 2]) > tonumber(ARGV[3 * i - 1]) then
    return {i, value}
  end
end
local result = {0}
for i = 1, #KEYS do
  local new_key = redis.call('EXISTS', KEYS[i]) == 0
  result[i + 1] = redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  if new_key and tonumber(ARGV[3 * i]) > 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[3 * i])
  end
end
return result
"""

# KEYS counters; ARGV amount, ttl in ms (0 = none) for each; a ttl applies to a new key only.
_INCR_EACH = """
local result = {}
for i = 1, #KEYS do
  local new_key = redis.call('EXISTS', KEYS[i]) == 0
  result[i] = redis.call('INCRBY', KEYS[i], ARGV[2 * i - 1])
  if new_key and tonumber(ARGV[2 * i]) > 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
  end
end
return result
"""


def _ms(ttl: float | None) -> int:
    """Turn a ttl in seconds into whole milliseconds (0 for none)."""
    return 0 if ttl is None else max(math.ceil(ttl * 1000), 1)


class RedisCache(Cache):
    """A cache in Redis; its counters are Lua scripts, atomic across servers."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "jupyter-ide:",
        timeout: float = 2.0,
        max_connections: int = 32,
    ) -> None:
        """Connect lazily to ``url``; callers beyond ``max_connections`` wait for one."""
        super().__init__(prefix)
        self.url = url
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout * 5,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        self._client: Any = aioredis.Redis.from_pool(pool)
        self._incr_all_if_below = self._client.register_script(_INCR_ALL_IF_BELOW)
        self._incr_each = self._client.register_script(_INCR_EACH)

    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing or expired."""
        value = await self._client.get(self.key(key))
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; it expires after ``ttl`` seconds when given."""
        await self._client.set(self.key(key), value, px=_ms(ttl) or None)

    async def delete(self, key: str) -> bool:
        """Remove the key; return True when it existed."""
        return bool(await self._client.delete(self.key(key)))

    async def incr_all_if_below(self, counters: Sequence[Bounded]) -> Admission:
        """Add every amount, all or none, in one atomic script (one round trip)."""
        if not counters:
            return Admission([])
        args: list[int] = []
        for counter in counters:
            args += [counter.amount, counter.limit, _ms(counter.ttl)]
        reply = await self._incr_all_if_below(
            keys=[self.key(counter.key) for counter in counters], args=args
        )
        if int(reply[0]):
            return Admission([int(reply[1])], int(reply[0]) - 1)
        return Admission([int(value) for value in reply[1:]])

    async def incr_each(self, counters: Sequence[tuple[str, int, float | None]]) -> list[int]:
        """Add to each (key, amount, ttl) counter in one atomic script (one round trip)."""
        if not counters:
            return []
        args: list[int] = []
        for _, amount, ttl in counters:
            args += [amount, _ms(ttl)]
        reply = await self._incr_each(keys=[self.key(key) for key, _, _ in counters], args=args)
        return [int(value) for value in reply]

    async def ttl(self, key: str) -> float | None:
        """Return the seconds left before the key expires, or None."""
        left = int(await self._client.pttl(self.key(key)))
        return None if left < 0 else left / 1000

    async def ping(self) -> bool:
        """Return True when Redis answers PING; raise when it cannot be reached."""
        return bool(await self._client.ping())

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def describe(self) -> str:
        """Say which Redis this is (password masked)."""
        return f"redis {safe_url(self.url)}"
